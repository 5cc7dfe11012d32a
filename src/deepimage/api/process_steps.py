"""The steps of a ``deepimage process`` pipeline: parsed, read from YAML, described.

A *pipeline* is a list of :class:`Step` (an operation of :mod:`deepimage.process.registry`
with checked options), optionally ending with ``compress``
(:data:`COMPRESS`). :func:`parse_step` checks one step's options, :func:`load_pipeline`
reads a pipeline file (at most 1 MB of UTF-8 YAML, every error naming the file and the
step), :func:`check_pipeline` checks the order of the steps and
:func:`operation_catalog` describes every operation as data (``deepimage process list``).
:func:`~deepimage.api.batch_process.process_files` runs them.

Example:
    >>> steps = [parse_step("blur", {"sigma": 2}), parse_step("compress")]
    >>> check_pipeline(steps)
    >>> [step.as_dict() for step in steps]
    [{'op': 'blur', 'sigma': 2.0}, {'op': 'compress'}]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deepimage.errors import DeepImageError
from deepimage.process import compress
from deepimage.process.registry import (
    Dispatch,
    Operation,
    describe,
    get_operation,
    list_operations,
)

__all__ = [
    "COMPRESS",
    "Step",
    "check_pipeline",
    "load_pipeline",
    "operation_catalog",
    "parse_step",
]

COMPRESS = describe(compress, "compress")
"""``compress`` described like the registry operations; only valid as a pipeline's last step."""

_MAX_PIPELINE_BYTES = 1_000_000


@dataclass(frozen=True)
class Step:
    """One operation of a pipeline with its checked, typed options."""

    op: Operation
    options: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """``{"op": name, **options}``, the pipeline-file form of the step."""
        return {"op": self.op.name, **self.options}


def _resolve(name: str) -> Operation:
    return COMPRESS if name == "compress" else get_operation(name)


_SCALARS = (str, int, float)


def _as_text(name: str, value: Any) -> str:
    """Option text from a command-line or YAML value (a flat list becomes ``1,2,3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, _SCALARS) and not isinstance(item, bool) for item in value
    ):
        return ",".join(str(item) for item in value)
    if not isinstance(value, _SCALARS):
        raise DeepImageError(
            f"option {name}: expected a number, a word or a flat list of numbers, "
            f"not {type(value).__name__}"
        )
    return str(value)


def parse_step(name: str, options: Mapping[str, Any] | None = None) -> Step:
    """A checked :class:`Step` from an operation name and option values or texts.

    Example:
        >>> parse_step("edges", {"method": "canny", "low": 50, "high": "150"}).options
        {'method': 'canny', 'low': 50.0, 'high': 150.0}
    """
    op = _resolve(name)
    texts = {}
    for key, value in (options or {}).items():
        if not isinstance(key, str):
            raise DeepImageError(f"option names are words, not {key!r}")
        texts[key.replace("-", "_")] = _as_text(key, value)
    return Step(op, op.parse_options(texts))


def check_pipeline(steps: Sequence[Step]) -> None:
    """Refuse a pipeline without steps, or with ``compress`` anywhere but last."""
    if not steps:
        raise DeepImageError("the pipeline has no steps; give at least one operation")
    if any(step.op is COMPRESS for step in steps[:-1]):
        raise DeepImageError("compress writes the file, so it can only be the last step")


def load_pipeline(path: str | os.PathLike[str]) -> list[Step]:
    """Read a YAML pipeline: a list of ``{op: name, option: value, ...}`` mappings.

    Errors name the file and the step (counted from 1).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.yaml"
        >>> _ = path.write_text("- op: resize\\n  width: 64\\n- {op: blur, sigma: 1.5}\\n")
        >>> [step.as_dict() for step in load_pipeline(path)]
        [{'op': 'resize', 'width': 64}, {'op': 'blur', 'sigma': 1.5}]
    """
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_PIPELINE_BYTES:
            raise DeepImageError(
                f"{path}: {path.stat().st_size:,} bytes is too big for a pipeline file "
                f"(at most {_MAX_PIPELINE_BYTES:,}); give a YAML list of steps"
            )
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeepImageError(f"{path}: cannot read the pipeline file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise DeepImageError(f"{path}: not a text file; a pipeline is UTF-8 YAML") from None
    except yaml.YAMLError as error:
        raise DeepImageError(f"{path}: not valid YAML ({error})") from None
    except RecursionError:
        raise DeepImageError(f"{path}: YAML nested too deeply for a pipeline") from None
    if not isinstance(spec, list):
        raise DeepImageError(
            f"{path}: a pipeline is a YAML list of steps such as '- {{op: blur, sigma: 2}}'"
        )
    steps = [_load_step(path, number, item) for number, item in enumerate(spec, 1)]
    try:
        check_pipeline(steps)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: {error}") from None
    return steps


def _load_step(path: Path, number: int, item: Any) -> Step:
    if not isinstance(item, dict) or "op" not in item:
        raise DeepImageError(
            f"{path}: step {number} must be a mapping with an 'op' key, got {item!r}"
        )
    options = {key: value for key, value in item.items() if key != "op"}
    try:
        return parse_step(str(item["op"]), options)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: step {number} ({item['op']}): {error}") from None


# --- describing the operations ------------------------------------------------------


def _option_info(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": param.name,
            "type": param.type.__name__,
            "default": None if param.required else param.default,
            "required": param.required,
            "choices": list(param.choices) if param.choices else None,
            "help": param.help,
        }
        for param in op.params
    ]


def operation_catalog() -> list[dict[str, Any]]:
    """Every operation of ``deepimage process`` (registry ones, then ``compress``) as data.

    Example:
        >>> blur = next(op for op in operation_catalog() if op["name"] == "blur")
        >>> blur["group"], blur["methods"][:2], blur["options"][1]["name"]
        ('filters', ['gaussian', 'median'], 'sigma')
    """
    return [
        {
            "name": op.name,
            "group": op.group,
            "help": op.help,
            "methods": list(op.methods) if isinstance(op, Dispatch) else None,
            "options": _option_info(op),
        }
        for op in [*list_operations(), COMPRESS]
    ]

"""Pipelines as plain data: a list of ``{op: ..., **options}`` steps, run on uint8 samples.

A step's ``op`` is a single step of :data:`~deepimage.transforms.registry.STEPS` or a
pipeline preset (``detect``, ``segment``, ``none``), which runs its steps in its place. A
pipeline YAML file holds that list, the same format as ``deepimage process pipeline``. A
batch preset (``classify-light``, ``classify-strong``) transforms whole tensor batches, so
it cannot mix with steps: a file may hold it alone (``- {op: classify-strong}``). Mosaic
takes four samples, so data sets apply it before the pipeline.

Example:
    >>> pipeline = build_pipeline([{"op": "hflip"}, {"op": "rotate", "degrees": 10}])
    >>> [type(step).__name__ for step in pipeline.steps]
    ['HorizontalFlip', 'Rotate']
    >>> len(build_pipeline([{"op": "detect"}, {"op": "vflip"}]).steps)
    5
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deepimage.errors import DeepImageError
from deepimage.transforms.base import Transform
from deepimage.transforms.compose import Compose
from deepimage.transforms.registry import AUGMENTATIONS, STEPS, Augmentation, augmentation

Spec = Sequence[Mapping[str, Any]]
_EXAMPLE = "'- {op: hflip, p: 0.5}'"


def build_pipeline(spec: str | Spec, task: str | None = None) -> Compose:
    """A :class:`Compose` from a pipeline preset's name or a list of steps; presets named
    (alone or in steps) must apply to ``task`` when one is given.

    Raises:
        DeepImageError: an unknown preset or step, bad options, or a batch preset, naming
            the step.

    Example:
        >>> build_pipeline([{"op": "rotate", "degree": 5}])
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: step 1 (rotate): unexpected option 'degree'; accepted: degrees, fill, mask_fill, p
    """
    if isinstance(spec, str):
        return Compose(_preset_steps(augmentation(spec, task)))
    steps = (_steps(index, step, task) for index, step in enumerate(spec, start=1))
    return Compose([transform for group in steps for transform in group])


def preset_name(spec: str | Spec) -> str | None:
    """The preset ``spec`` is when it is one alone (a name or ``[{op: name}]``), else None.

    Example:
        >>> preset_name([{"op": "classify-strong"}]), preset_name([{"op": "hflip"}])
        ('classify-strong', None)
    """
    if isinstance(spec, str):
        return spec
    only = spec[0] if len(spec) == 1 else None
    op = only.get("op") if isinstance(only, Mapping) and len(only) == 1 else None
    return op if isinstance(op, str) and op in AUGMENTATIONS else None


def load_pipeline(path: str | os.PathLike[str], task: str | None = None) -> list[dict[str, Any]]:
    """The checked steps of a YAML pipeline file: a list of ``{op: name, option: value}``.

    Errors name the file and the step (counted from 1).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "aug.yaml"
        >>> _ = path.write_text("- {op: vflip, p: 1.0}\\n- op: detect\\n")
        >>> load_pipeline(path)
        [{'op': 'vflip', 'p': 1.0}, {'op': 'detect'}]
        >>> _ = path.write_text("- name: vflip\\n")
        >>> load_pipeline(path)
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: ...aug.yaml: step 1: name the step with 'op:', not 'name:', as in '- {op: hflip, p: 0.5}'
    """
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise DeepImageError(f"{path}: cannot read the pipeline file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise DeepImageError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(spec, list) or not spec:
        raise DeepImageError(f"{path}: a pipeline is a YAML list of steps such as {_EXAMPLE}")
    try:
        name = preset_name(spec)
        if name is None or not augmentation(name, task).batch:
            build_pipeline(spec, task)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: {error}") from None
    return spec


def _steps(index: int, step: Any, task: str | None) -> list[Transform]:
    if isinstance(step, Mapping) and "op" not in step and "name" in step:
        raise DeepImageError(
            f"step {index}: name the step with 'op:', not 'name:', as in {_EXAMPLE}"
        )
    if not isinstance(step, Mapping) or "op" not in step:
        raise DeepImageError(f"step {index}: expected a mapping with an 'op' key, not {step!r}")
    op = step["op"]
    if isinstance(op, str) and op in AUGMENTATIONS:
        return _preset_step(index, step, task)
    if not isinstance(op, str) or op not in STEPS:
        raise DeepImageError(
            f"step {index}: unknown op {op!r}; choose a step ({', '.join(STEPS)}) "
            f"or a preset ({', '.join(AUGMENTATIONS)})"
        )
    return [_transform(index, step)]


def _preset_step(index: int, step: Mapping[str, Any], task: str | None) -> list[Transform]:
    if set(step) != {"op"}:
        raise DeepImageError(f"step {index} ({step['op']}): a preset takes no options")
    try:
        return _preset_steps(augmentation(step["op"], task))
    except DeepImageError as error:
        raise DeepImageError(f"step {index}: {error}") from None


def _preset_steps(entry: Augmentation) -> list[Transform]:
    if entry.batch:
        raise DeepImageError(
            f"{entry.name!r} transforms whole tensor batches in classification training and "
            f"mixes with no pipeline step: use it alone (--preset {entry.name}, "
            f"--augment {entry.name} or a file holding only '- {{op: {entry.name}}}')"
        )
    return [_transform(index, step) for index, step in enumerate(entry.steps, start=1)]


def _transform(index: int, step: Mapping[str, Any]) -> Transform:
    op = step["op"]
    cls = STEPS[op]
    options = {key: value for key, value in step.items() if key != "op"}
    accepted = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DeepImageError(
            f"step {index} ({op}): unexpected option {unknown[0]!r}; accepted: {', '.join(accepted)}"
        )
    try:
        return cls(**options)
    except (TypeError, ValueError) as error:
        raise DeepImageError(f"step {index} ({op}): {error}") from error

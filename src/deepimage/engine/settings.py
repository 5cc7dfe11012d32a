"""Settings dataclasses: the one place a task's options, defaults, help, bounds and choices
live. The command line is generated from them (``cli/settings.py``), ``--config FILE.yaml``
replays them, and :func:`make_settings` checks every value with a clear error.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Demo:
    ...     lr: float = setting(1e-3, "Peak learning rate.", low=0.0)
    ...     schedule: str = setting("cosine", "LR schedule.", choices=("cosine", "none"))
    >>> make_settings(Demo, {"lr": "0.01"}).lr
    0.01
    >>> make_settings(Demo, {"shedule": "none"})
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: unknown setting 'shedule'. Known settings: lr, schedule.
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from deepimage.errors import DeepImageError

S = TypeVar("S")
MAX_CONFIG_BYTES = 1 << 20
"""The largest settings file read (a run's config.yaml is about 1 KB)."""


@dataclass(frozen=True)
class Meta:
    """What the command line needs about one setting besides its type and default."""

    help: str
    low: float | None = None
    high: float | None = None
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    flag: str | None = None  # default: --name-with-dashes
    short: str | None = None  # e.g. "-e"
    cli: bool = True  # False: set by the program (or the API), not a flag

    def choice_list(self) -> list[str] | None:
        """The allowed values, computed now when ``choices`` is a function."""
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)


def setting(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    flag: str | None = None,
    short: str | None = None,
    cli: bool = True,
) -> Any:
    """A dataclass field with its help, bounds and choices (a list default is copied)."""
    meta = {"deepimage": Meta(help, low, high, choices, flag, short, cli)}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def meta_of(item: dataclasses.Field) -> Meta:
    """The :class:`Meta` of a settings field (a plain field gets an empty one)."""
    return item.metadata.get("deepimage", Meta(""))


def settings_fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """(field, resolved type) of a settings dataclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    return [(item, hints[item.name]) for item in dataclasses.fields(cls)]


def make_settings(cls: type[S], values: Mapping[str, Any], source: str = "") -> S:
    """An instance of ``cls`` from ``values``, each converted to its field's type and
    checked against its bounds and choices. ``source`` names a config file in errors."""
    where = f"{source}: " if source else ""
    known = {item.name: (item, kind) for item, kind in settings_fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise DeepImageError(
            f"{where}unknown setting {unknown[0]!r}. Known settings: {', '.join(known)}."
        )
    checked = {}
    for name, value in values.items():
        item, kind = known[name]
        checked[name] = check_value(name, _convert(name, value, kind, where), meta_of(item), where)
    missing = [
        name
        for name, (item, _) in known.items()
        if name not in checked
        and item.default is dataclasses.MISSING
        and item.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise DeepImageError(f"{where}missing setting {missing[0]!r}.")
    return cls(**checked)


def read_config(path: str | Path) -> dict[str, Any]:
    """The settings in a run's ``config.yaml`` (or any YAML mapping of settings)."""
    config = read_yaml(path, "config file")
    if not isinstance(config, dict):
        raise DeepImageError(f"{path}: expected a mapping of settings (name: value).")
    return config


def read_yaml(path: str | Path, what: str) -> Any:
    """The YAML document in the settings file ``path`` (at most :data:`MAX_CONFIG_BYTES`,
    UTF-8, not nested too deeply); every failure one clear error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DeepImageError(f"{path}: no such {what}.")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise DeepImageError(f"{path}: not a {what}: larger than {MAX_CONFIG_BYTES >> 20} MB.")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise DeepImageError(f"{path}: not valid YAML ({error}).") from None
    except RecursionError:
        raise DeepImageError(f"{path}: not a {what}: its YAML is nested too deeply.") from None


def _convert(name: str, value: Any, kind: Any, where: str) -> Any:
    """``value`` as ``kind`` (``int``, ``float``, ``str``, ``bool``, ``list[str]``, ``X | None``)."""
    options = typing.get_args(kind) if _is_union(kind) else (kind,)
    if value is None:
        if type(None) in options:
            return None
        raise DeepImageError(f"{where}setting {name!r} needs a value, not null.")
    errors = []
    for option in (o for o in options if o is not type(None)):
        try:
            return _as(value, option)
        except (TypeError, ValueError, OverflowError) as error:
            errors.append(str(error))
    wanted = " or ".join(type_name(o) for o in options)
    raise DeepImageError(f"{where}setting {name!r} must be {wanted}, not {short_repr(value)}.")


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _as(value: Any, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [part for part in value.split(",") if part]
        if not isinstance(value, (list, tuple)):
            raise TypeError("not a list")
        (inner,) = typing.get_args(kind)[:1]
        return [_as(item, inner) for item in value]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1"):
            return True
        if str(value).lower() in ("false", "no", "0"):
            return False
        raise ValueError("not a boolean")
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("not an integer")
        return int(value)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError("not a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if kind is str:
        if isinstance(value, (dict, list)):
            raise TypeError("not a string")
        return str(value)
    return value


def short_repr(value: Any) -> str:
    """``repr(value)`` cut short, for error messages about untrusted values (a YAML alias
    bomb or a nested list would otherwise print for ever).

    Example:
        >>> short_repr(list(range(100)))
        '[0, 1, 2, 3, 4, 5, ...]'
    """
    return reprlib.repr(value)


def type_name(kind: Any) -> str:
    """How an error message names the type ``kind`` (``int`` -> "an integer").

    Example:
        >>> type_name(list[str]), type_name(float)
        ('a list', 'a number')
    """
    if typing.get_origin(kind) in (list, tuple):
        return "a list"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return names.get(kind, "null" if kind is type(None) else str(kind))


def check_value(name: str, value: Any, meta: Meta, where: str = "") -> Any:
    """``value`` of setting ``name``, checked against the choices and bounds of ``meta``.

    Example:
        >>> check_value("lr", 2.0, Meta("Peak learning rate.", low=0.0, high=1.0))
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: setting 'lr' must be at most 1.0.
    """
    choices = meta.choice_list()
    for item in value if isinstance(value, list) else [value]:  # a list's every item
        if item is not None and choices is not None and item not in choices:
            raise DeepImageError(
                f"{where}setting {name!r}: unknown value {short_repr(item)}; "
                f"choose {', '.join(choices)}."
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if meta.low is not None and value < meta.low:
            raise DeepImageError(f"{where}setting {name!r} must be at least {meta.low}.")
        if meta.high is not None and value > meta.high:
            raise DeepImageError(f"{where}setting {name!r} must be at most {meta.high}.")
    return value

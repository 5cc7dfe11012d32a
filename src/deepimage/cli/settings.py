"""Command-line options generated from a settings dataclass (``engine/settings.py``).

Every generated option defaults to None, "not given": the dataclass stays the only place
defaults live (they are shown in the help), and ``--config`` values are overridden only
by the flags actually typed.

Example:
    >>> from deepimage.tasks.classification_spec import ClassifyTrain
    >>> names = [p.name for p in settings_parameters(ClassifyTrain)]
    >>> "label_smoothing" in names and "time_minutes" in names
    True
    >>> given({"lr": None, "epochs": 3, "classes": []})
    {'epochs': 3}
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import typer

from deepimage.engine.settings import meta_of, settings_fields

_METAVARS = {int: "INT", float: "FLOAT", str: "TEXT"}


def settings_parameters(cls: type, skip: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """A keyword parameter with a typer option for each command-line field of ``cls``."""
    parameters = []
    for item, kind in settings_fields(cls):
        meta = meta_of(item)
        if not meta.cli or item.name in skip:
            continue
        flag = meta.flag or "--" + item.name.replace("_", "-")
        names = [flag, *([meta.short] if meta.short else [])]
        default = _default(item)
        help_text = meta.help + _choices_text(meta.help, meta.choices)
        help_text += f" Default: {default}." if default not in (None, "", []) else ""
        base = _base_type(kind)
        if base is bool:
            option = typer.Option(
                None, f"{flag}/--no-{flag[2:]}", help=help_text, show_default=False
            )
        else:
            option = typer.Option(
                None, *names, help=help_text, show_default=False, metavar=_METAVARS.get(base)
            )
        annotation = (list[str] if typing.get_origin(base) is list else base) | None
        parameters.append(keyword(item.name, annotation, option))
    return parameters


def _choices_text(help_text: str, choices: Any) -> str:
    """ " Choices: a, b, c." unless the help names every choice already.

    Example:
        >>> _choices_text("Optimizer.", ("adamw", "sgd")), _choices_text("adamw or sgd.", ("adamw", "sgd"))
        (' Choices: adamw, sgd.', '')
    """
    names = list(choices() if callable(choices) else choices or ())
    if not names or all(name in help_text for name in names):
        return ""
    return f" Choices: {', '.join(map(str, names))}."


def keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """A keyword-only parameter for a generated command."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The options a user actually typed (not None, not an empty repeated option)."""
    return {key: value for key, value in values.items() if value is not None and value != []}


def make_command(
    body: Callable[..., None], parameters: list[inspect.Parameter], help_text: str
) -> Callable[..., None]:
    """A function typer reads as a command with ``parameters``, calling ``body(**values)``."""

    def command(**values: Any) -> None:
        body(**values)

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = help_text
    return command


def _default(item: dataclasses.Field) -> Any:
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return None if item.default is dataclasses.MISSING else item.default


def _base_type(kind: Any) -> Any:
    """``int | None`` -> ``int``; ``list[str] | None`` -> ``list[str]``."""
    options = [o for o in typing.get_args(kind) if o is not type(None)]
    return options[0] if typing.get_origin(kind) in (typing.Union, types.UnionType) else kind

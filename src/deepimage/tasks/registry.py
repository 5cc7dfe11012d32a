"""The task registry: every task (classification, detection, ...) is one :class:`TaskSpec`.

A spec is light (no torch): its name, its settings dataclasses per verb, the metric that
picks the best checkpoint, the figures its summaries show, and the dotted name of the
module holding its :class:`~deepimage.tasks.hooks.TaskHooks` (the LightningModule, data
loading, input conversion, evaluation and plots), imported only when a model is used. The
command line (``cli/tasks.py``) and the generic model (``api/model.py``) are driven by it.

Example:
    >>> import deepimage.tasks
    >>> [spec.name for spec in task_specs()][:2]
    ['classify', 'detect']
    >>> task_spec("classify").monitor
    'val/acc'
    >>> task_spec("paint")
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: unknown task 'paint'; known tasks: classify, detect...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deepimage.errors import DeepImageError

if TYPE_CHECKING:
    from deepimage.tasks.hooks import TaskHooks


@dataclass(frozen=True)
class TaskSpec:
    """One task: what the CLI and the generic model need to drive it."""

    name: str  # the command group, runs/<name>/, the task named in checkpoints
    noun: str  # "classifier": in messages
    help: str  # the command group's help
    train: type  # settings dataclasses (subclasses of tasks.settings.*Settings)
    evaluate: type
    predict: type
    hooks_module: str  # dotted module with a HOOKS: TaskHooks
    monitor: str | None  # the metric that picks best.ckpt (None: the latest epoch)
    mode: str = "max"
    headline: tuple[str, ...] = ()  # metrics in one-line summaries
    row_summary: Callable[[dict[str, Any]], dict[str, str]] = field(default=lambda row: {})
    """A predict row -> the few cells a results table shows beside its path."""
    models_example: dict[str, Any] = field(default_factory=dict)  # inputs sizes are counted for
    predict_verb: str = "predict"  # the command that runs the model on images
    predict_help: str | None = None  # its help (default: the generic predict help)

    def hooks(self) -> TaskHooks:
        """The heavy half of the task (imports torch)."""
        return importlib.import_module(self.hooks_module).HOOKS


_SPECS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to the registry (a second spec of the same name replaces the first)."""
    _SPECS[spec.name] = spec
    return spec


def task_specs() -> list[TaskSpec]:
    """Every registered task, in registration order."""
    return list(_SPECS.values())


def task_spec(name: str) -> TaskSpec:
    """The spec called ``name``; a clear error lists the known ones otherwise."""
    if name not in _SPECS:
        raise DeepImageError(f"unknown task {name!r}; known tasks: {', '.join(_SPECS)}.")
    return _SPECS[name]

"""The heavy half of a task spec: the functions the generic model (``api/model.py``) calls.

A task module ends with ``HOOKS = TaskHooks(...)``; its light half is a
:class:`~deepimage.tasks.registry.TaskSpec` naming that module.

Example:
    >>> from deepimage.tasks.registry import task_spec
    >>> import deepimage.tasks
    >>> task_spec("classify").hooks().module.task_name
    'classify'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np

from deepimage.engine.module import TaskModule


@dataclass
class Training:
    """What a task prepares for a run: the module, its data, and what to score after."""

    module: TaskModule
    data: pl.LightningDataModule
    settings: Any  # the run's settings, with what loading resolved (an image size, say)
    scored: dict[str, EvalData]  # splits evaluated once training ends (val, and test if any)
    skipped: list[dict[str, str]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # task figures for the report


@dataclass
class EvalData:
    """One split ready to score: the task's own items, how many, and what was left out."""

    items: Any
    count: int
    skipped: list[dict[str, str]] = field(default_factory=list)


Input = Path | np.ndarray  # a file, or an image already in memory (uint8 HxW[xC] RGB)


@dataclass(frozen=True)
class TaskHooks:
    """What the generic model calls; each task module defines one as ``HOOKS``."""

    module: type[TaskModule]
    prepare_training: Callable[[Any], Training]
    """TrainSettings -> the module (weights initialised), data module and splits to score."""
    load_split: Callable[[TaskModule, Any], EvalData]
    """(trained module, EvaluateSettings) -> the split to score, split as in training."""
    score: Callable[[TaskModule, EvalData, Path, str, Any], dict[str, Any]]
    """(module, data, plot folder, split name, settings) -> {images, metrics, per_class, plots}."""
    load_input: Callable[[TaskModule, Input], Any]
    """A file or an array -> what predict_batch takes (raises BadImageError for bad files)."""
    predict_batch: Callable[[TaskModule, list[Any], Any], list[dict[str, Any]]]
    """(module, loaded inputs, PredictSettings) -> one JSON-ready row per input."""
    write_outputs: Callable[[TaskModule, list[dict[str, Any]], Any], str | None] | None = None
    """Predict's files (annotated copies, say) -> the folder written, or None."""
    model_latency: Callable[[str, str], float] | None = None
    """(model name, device) -> ms per image, for ``models --speed``."""
    check_outputs: Callable[[list[Path], Any], None] | None = None
    """(input files, PredictSettings): raise, before any image is predicted, when
    ``write_outputs`` would refuse (a file already in the output folder, say)."""
    find_inputs: Callable[[str | os.PathLike[str]], list[Path]] | None = None
    """A file, folder or glob a user named -> the inputs in it (default: its image files,
    ``io.paths.find_images``; clips are video files and frame folders)."""
    annotate: Callable[[TaskModule, np.ndarray, dict[str, Any], Any], np.ndarray] | None = None
    """(module, RGB image, its row, PredictSettings) -> the image with the prediction
    drawn: what a video through ``predict -o`` is written with."""
    check_array: Callable[[np.ndarray], np.ndarray] | None = None
    """An in-memory input -> what ``load_input`` takes, or a DeepImageError (default: a
    uint8 image's checks, ``tasks.predict.checked_image``)."""

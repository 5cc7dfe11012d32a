"""The one augmentation registry: the presets ``augment preview --preset``, a pipeline YAML
(``- {op: detect}``) and ``train --augment`` take, and the steps a pipeline YAML may use.

A preset runs one of two ways: ``batch`` presets (classification, video clips) transform
whole float batches on the training device (:func:`deepimage.transforms.batch.augment_batch`;
``augment preview`` shows those of classification only);
``pipeline`` presets (detection, segmentation) are step lists run on each uint8 image with
its boxes and masks (:func:`deepimage.transforms.pipeline.build_pipeline`). ``none`` runs
nothing.

Example:
    >>> augmentation_names("classify"), augmentation_default("classify")
    (['none', 'classify-light', 'classify-strong'], 'none')
    >>> augmentation("detect", task="detect").runs
    'pipeline'
    >>> augmentation("classify-strong", task="detect")
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: augmentation 'classify-strong' is for classify, not detect: choose one of none, detect
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepimage.errors import DeepImageError
from deepimage.transforms import geometric as geo
from deepimage.transforms import photometric as photo
from deepimage.transforms.base import Transform

TASKS = ("classify", "detect", "segment", "video")
"""The tasks an augmentation can apply to."""
PIPELINE_TASKS = ("detect", "segment")
"""The tasks whose training runs pipelines of steps (classification and video run batch
presets)."""


@dataclass(frozen=True)
class BatchRanges:
    """Ranges of a batch preset's random transforms; zero turns a transform off."""

    shift: float = 0.0  # fraction of the side
    scale: float = 0.0  # +/- relative zoom
    degrees: float = 0.0
    hflip: bool = False
    erase: float = 0.0  # probability of erasing one rectangle
    brightness: float = 0.0  # +/- relative gain


@dataclass(frozen=True)
class Augmentation:
    """A named preset: its one-line help, the tasks it applies to and what it runs
    (``batch`` ranges for classification, or pipeline ``steps`` ``{op: ..., **options}``)."""

    name: str
    help: str
    tasks: tuple[str, ...]
    batch: BatchRanges | None = None
    steps: tuple[Mapping[str, Any], ...] = ()

    @property
    def runs(self) -> str:
        """``batch``, ``pipeline`` or ``nothing``."""
        return "batch" if self.batch else "pipeline" if self.steps else "nothing"


AUGMENTATIONS: dict[str, Augmentation] = {
    a.name: a
    for a in (
        Augmentation("none", "No augmentation.", TASKS),
        Augmentation(
            "classify-light",
            "Shifts by up to 10% of the side, on the training device.",
            ("classify",),
            batch=BatchRanges(shift=0.1),
        ),
        Augmentation(
            "classify-strong",
            "Shifts, +/-10% zoom, +/-10 degree turns, left-right flips, erasing, on the device.",
            ("classify",),
            batch=BatchRanges(shift=0.1, scale=0.1, degrees=10.0, hflip=True, erase=0.5),
        ),
        Augmentation(
            "video",
            "One shift (up to 10% of the side), +/-10% zoom and +/-20% brightness for all "
            "the frames of a clip, on the device; no flips (a flip reverses a motion).",
            ("video",),
            batch=BatchRanges(shift=0.1, scale=0.1, brightness=0.2),
        ),
        Augmentation(
            "video-flip",
            "video, and left-right flips: for classes a mirror image does not change.",
            ("video",),
            batch=BatchRanges(shift=0.1, scale=0.1, brightness=0.2, hflip=True),
        ),
        Augmentation(
            "detect",
            "Flips, 0.6-1.4 zoom, shifts, small turns, colour, blur; boxes follow.",
            ("detect",),
            steps=(
                {"op": "hflip"},
                {"op": "affine", "degrees": 5, "translate": 0.1, "scale": [0.6, 1.4]},
                {
                    "op": "color-jitter",
                    "brightness": 0.3,
                    "contrast": 0.3,
                    "saturation": 0.5,
                    "hue": 0.015,
                },
                {"op": "gaussian-blur", "sigma": [0.1, 1.5], "p": 0.1},
            ),
        ),
        Augmentation(
            "segment",
            "Left-right flips, 0.7-1.4 zoom, shifts, +/-10 degree turns, colour, noise; masks "
            "follow (uncovered canvas is ignored).",
            ("segment",),
            steps=(
                {"op": "hflip"},
                {
                    "op": "affine",
                    "degrees": 10,
                    "translate": 0.1,
                    "scale": [0.7, 1.4],
                    "mask_fill": 255,
                },
                {"op": "color-jitter", "brightness": 0.25, "contrast": 0.25, "saturation": 0.25},
                {"op": "gaussian-noise", "std": [2, 8], "p": 0.2},
            ),
        ),
        Augmentation(
            "segment-any-angle",
            "For images with no up (microscopy, aerial, scans): both flips, any turn, "
            "0.8-1.25 zoom, brightness, contrast, noise; masks follow.",
            ("segment",),
            steps=(
                {"op": "hflip"},
                {"op": "vflip"},
                {
                    "op": "affine",
                    "degrees": 180,
                    "translate": 0.05,
                    "scale": [0.8, 1.25],
                    "mask_fill": 255,
                },
                {"op": "color-jitter", "brightness": 0.2, "contrast": 0.2},
                {"op": "gaussian-noise", "std": [2, 8], "p": 0.2},
            ),
        ),
    )
}
"""Every preset by name."""

_TRAINING_DEFAULTS = {
    "classify": "none",
    "detect": "detect",
    "segment": "segment",
    "video": "video",
}

STEPS: dict[str, type[Transform]] = {
    "hflip": geo.HorizontalFlip,
    "vflip": geo.VerticalFlip,
    "rotate": geo.Rotate,
    "translate": geo.Translate,
    "affine": geo.Affine,
    "perspective": geo.Perspective,
    "random-resized-crop": geo.RandomResizedCrop,
    "resize": geo.Resize,
    "letterbox": geo.Letterbox,
    "color-jitter": photo.ColorJitter,
    "gaussian-blur": photo.GaussianBlur,
    "gaussian-noise": photo.GaussianNoise,
    "random-erasing": photo.RandomErasing,
}
"""The single steps of a pipeline YAML (``- {op: hflip, p: 0.5}``), by ``op`` name."""


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise DeepImageError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")


def augmentation_names(task: str) -> list[str]:
    """The presets ``task`` can train with (its ``--augment`` choices), ``none`` first.

    Example:
        >>> augmentation_names("segment")
        ['none', 'segment', 'segment-any-angle']
    """
    _check_task(task)
    return [name for name, entry in AUGMENTATIONS.items() if task in entry.tasks]


def augmentation_default(task: str) -> str:
    """The preset ``task`` trains with when none is given.

    Example:
        >>> augmentation_default("detect")
        'detect'
    """
    _check_task(task)
    return _TRAINING_DEFAULTS[task]


def augmentation(name: str, task: str | None = None) -> Augmentation:
    """The preset called ``name``, checked to apply to ``task`` when one is given.

    Raises:
        DeepImageError: an unknown name, or one for another task, listing the choices.
    """
    choices = augmentation_names(task) if task else list(AUGMENTATIONS)
    if name not in AUGMENTATIONS:
        raise DeepImageError(f"unknown augmentation {name!r}: choose one of {', '.join(choices)}")
    entry = AUGMENTATIONS[name]
    if task and task not in entry.tasks:
        raise DeepImageError(
            f"augmentation {name!r} is for {', '.join(entry.tasks)}, not {task}: "
            f"choose one of {', '.join(choices)}"
        )
    return entry


def step_options(cls: type[Transform]) -> dict[str, Any]:
    """The options of a step class with their defaults (JSON-ready: tuples become lists).

    Example:
        >>> step_options(geo.Rotate)
        {'degrees': 15.0, 'fill': 0, 'mask_fill': 0, 'p': 1.0}
    """
    fields = sorted(dataclasses.fields(cls), key=lambda f: f.name)
    return {f.name: _plain(f.default) for f in fields}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def catalog() -> list[dict[str, Any]]:
    """Every preset, then every step, as rows ``{kind, name, help, tasks, runs, options}``:
    a preset's ``options`` are its batch ranges or its steps, a step's its defaults.

    Example:
        >>> rows = catalog()
        >>> [row["name"] for row in rows if row["kind"] == "preset"][:2], rows[-1]["name"]
        (['none', 'classify-light'], 'random-erasing')
    """
    presets = [
        {
            "kind": "preset",
            "name": entry.name,
            "help": entry.help,
            "tasks": list(entry.tasks),
            "runs": entry.runs,
            "options": dataclasses.asdict(entry.batch) if entry.batch else list(entry.steps),
        }
        for entry in AUGMENTATIONS.values()
    ]
    steps = [
        {
            "kind": "step",
            "name": name,
            "help": (cls.__doc__ or "").strip().splitlines()[0].replace("``", ""),
            "tasks": list(PIPELINE_TASKS),
            "runs": "pipeline",
            "options": step_options(cls),
        }
        for name, cls in STEPS.items()
    ]
    return presets + steps

"""Preview an augmentation: augment samples of a data set and write them as one grid picture.

Data sets are found by name like every command (``$DEEPIMAGE_DATA/<name>``, the cache,
system folders) or by path, and recognised by their layout: detection data (COCO, Pascal
VOC or YOLO, read by :func:`~deepimage.data.detection.load_detection_data`: boxes
drawn), image + mask folders (``image/`` and ``label/``, optionally under ``train/``:
masks overlaid), or anything
:func:`~deepimage.data.classification.load_classification_data` reads (images only).

What is drawn is what training runs: classification images are read at the size training
uses and a batch preset (``classify-light``, ``classify-strong``) transforms them as one
batch with :func:`~deepimage.transforms.batch.augment_batch`, seeded by ``seed``; other
data goes through the pipeline of steps, boxes and masks following.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("image", "label"):
    ...     (root / folder).mkdir()
    ...     write_image(root / folder / "0.png", np.eye(16, dtype=np.uint8) * 255)
    >>> report = preview(root, root / "grid.png", count=2)
    >>> report["kind"], report["augment"], report["skipped"]
    ('masks', 'segment', [])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from deepimage.data.classification import load_classification_data
from deepimage.data.detection import (
    ERROR_KINDS,
    DetectionItem,
    detection_format,
    load_detection_data,
)
from deepimage.data.model_input import DEFAULT_FILE_SIZE, load_for_model
from deepimage.data.names import find_data
from deepimage.errors import BadImageError, DataNotFoundError
from deepimage.io.headers import IMAGE_EXTENSIONS
from deepimage.io.images import probe_image, read_image
from deepimage.io.paths import shown_path
from deepimage.transforms.batch import augment_images
from deepimage.transforms.geometric import Letterbox
from deepimage.transforms.pipeline import Spec, build_pipeline, preset_name
from deepimage.transforms.registry import augmentation
from deepimage.transforms.sample import Sample
from deepimage.viz.draw import draw_boxes, overlay_mask
from deepimage.viz.plots import plot_image_grid

KIND_TASKS = {
    "coco": "detect",
    "voc": "detect",
    "yolo": "detect",
    "masks": "segment",
    "classification": "classify",
}
"""The task each kind of data set trains."""
PREVIEW_DEFAULTS = {"classify": "classify-strong", "detect": "detect", "segment": "segment"}
"""The preset previewed for each task when none is given."""

_DISPLAY_SIDE = 256
_T = TypeVar("_T")


@dataclass
class _Item:
    title: str
    sample: Sample
    names: list[str]


@dataclass
class Augmented:
    """Samples of a data set before (``items``) and after (``samples``) augmentation."""

    kind: str
    task: str
    augment: str | None  # the preset's name; None for a list of steps
    runs: str  # batch, pipeline or nothing
    steps: list[dict[str, Any]]
    items: list[_Item]
    samples: list[Sample]
    skipped: list[dict[str, str]]


def augment_samples(
    data: str | os.PathLike[str],
    count: int = 16,
    augment: str | Spec | None = None,
    seed: int = 0,
    skip_bad: bool = False,
) -> Augmented:
    """Augment ``count`` random samples of ``data`` with ``augment``, a preset's name or a
    list of steps (default: :data:`PREVIEW_DEFAULTS` for the data's task).

    A bad image file is an error naming it; ``skip_bad`` leaves bad files out (``skipped``).
    """
    rng = np.random.default_rng(seed)
    kind, items, skipped = _load(data, count, rng, skip_bad)
    task = KIND_TASKS[kind]
    spec = augment or PREVIEW_DEFAULTS[task]
    name = preset_name(spec)
    entry = augmentation(name, task) if name else None
    if entry and entry.batch:
        images = np.stack([item.sample.image for item in items])
        augmented = augment_images(images, entry.name, torch.Generator().manual_seed(seed))
        samples = [Sample(image) for image in augmented]
    else:
        pipeline = build_pipeline(spec, task)
        samples = [pipeline(item.sample, rng) for item in items]
    steps = [{"op": spec}] if isinstance(spec, str) else [dict(step) for step in spec]
    runs = entry.runs if entry else "pipeline"
    return Augmented(kind, task, name, runs, steps, items, samples, skipped)


def preview(
    data: str | os.PathLike[str],
    out: Path,
    count: int = 16,
    augment: str | Spec | None = None,
    seed: int = 0,
    skip_bad: bool = False,
) -> dict[str, Any]:
    """:func:`augment_samples`, drawn with their boxes and masks in one grid at ``out``.

    Returns the summary ``--json`` prints: kind, task, augment, runs, steps, samples, boxes,
    grid (the picture), out_dir (its folder) and skipped (``[{path, reason}]``).
    """
    result = augment_samples(data, count, augment, seed, skip_bad)
    side = min(_DISPLAY_SIDE, max(max(item.sample.size) for item in result.items))
    shown = [Letterbox(side)(sample, np.random.default_rng(seed)) for sample in result.samples]
    pictures = [_draw(sample, item.names) for sample, item in zip(shown, result.items, strict=True)]
    titles = [item.title for item in result.items]
    plot_image_grid(pictures, titles, out, columns=min(4, len(pictures)))
    return {
        "data": str(data),
        "kind": result.kind,
        "task": result.task,
        "augment": result.augment,
        "runs": result.runs,
        "steps": result.steps,
        "samples": len(result.samples),
        "boxes": sum(len(s.boxes) for s in result.samples if s.boxes is not None),
        "grid": shown_path(out),
        "out_dir": shown_path(Path(out).parent),
        "skipped": [{**row, "path": shown_path(row["path"])} for row in result.skipped],
    }


def _load(
    data: str | os.PathLike[str], count: int, rng: np.random.Generator, skip_bad: bool
) -> tuple[str, list[_Item], list[dict[str, str]]]:
    kind = detection_format(data)
    if kind is not None:
        return kind, *_detection_items(data, count, rng, skip_bad)
    folder = find_data(data)
    masks = _mask_folders(folder) if folder is not None else None
    if masks is not None:
        pairs = [(path, masks[1] / path.name) for path in _images(masks[0])]
        pairs, skipped = _readable(pairs) if skip_bad else (pairs, [])
        return "masks", [_mask_item(*pair) for pair in _pick(pairs, count, rng)], skipped
    return "classification", *_classification_items(data, count, rng, skip_bad)


def _readable(pairs: list[tuple[Path, Path]]) -> tuple[list[tuple[Path, Path]], list[dict]]:
    """The (image, mask) pairs whose files both decode, and ``{path, reason}`` for the rest."""
    kept, skipped = [], []
    for pair in pairs:
        bad = []
        for path in pair:
            try:
                probe_image(path)
            except BadImageError as error:
                bad.append({"path": error.path, "reason": error.reason})
        skipped += bad
        kept += [] if bad else [pair]
    return kept, skipped


def _pick(choices: Sequence[_T], count: int, rng: np.random.Generator) -> list[_T]:
    if not choices:
        raise DataNotFoundError("no annotated images found")
    return [
        choices[i] for i in rng.choice(len(choices), size=min(count, len(choices)), replace=False)
    ]


def _detection_items(
    data: str | os.PathLike[str], count: int, rng: np.random.Generator, skip_bad: bool
) -> tuple[list[_Item], list[dict[str, str]]]:
    """``count`` random images of a detection data set with their boxes; the dropped ones."""
    loaded = load_detection_data(data, val_fraction=0, skip_bad=skip_bad, check_images=skip_bad)
    items = [item for split in loaded.splits.values() for item in split]
    skipped = [
        {"path": issue["path"], "reason": issue["detail"]}
        for issue in loaded.issues
        if issue["kind"] in ERROR_KINDS
    ]
    return [_box_item(item, loaded.classes) for item in _pick(items, count, rng)], skipped


def _box_item(item: DetectionItem, classes: list[str]) -> _Item:
    sample = Sample(read_image(item.image, "rgb"), boxes=item.boxes, labels=item.labels)
    return _Item(item.image.name, sample, classes)


def _mask_folders(folder: Path) -> tuple[Path, Path] | None:
    for base in (folder / "train", folder):
        if (base / "image").is_dir() and (base / "label").is_dir():
            return base / "image", base / "label"
    return None


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def _mask_item(image_path: Path, mask_path: Path) -> _Item:
    """An image with its mask; a 0/255 mask becomes classes 0/1."""
    mask = read_image(mask_path, "gray")
    if set(np.unique(mask).tolist()) <= {0, 255}:
        mask = mask // 255
    return _Item(image_path.name, Sample(read_image(image_path, "rgb"), mask=mask), [])


def _classification_items(
    data: str | os.PathLike[str], count: int, rng: np.random.Generator, skip_bad: bool
) -> tuple[list[_Item], list[dict[str, str]]]:
    """``count`` random images at the size and channels training reads them."""
    loaded = load_classification_data(data, skip_bad=skip_bad)
    split = next(iter(loaded.splits.values()))
    size = max(loaded.image_size) if loaded.image_size else DEFAULT_FILE_SIZE
    items = []
    for index in rng.choice(len(split), size=min(count, len(split)), replace=False):
        image = (
            split.images[index]
            if split.images is not None
            else load_for_model(split.paths[index], loaded.channels, size)
        )
        title = loaded.classes[split.labels[index]]
        items.append(_Item(title, Sample(image[..., 0] if image.shape[-1] == 1 else image), []))
    return items, loaded.skipped


def _draw(sample: Sample, names: list[str]) -> np.ndarray:
    image = sample.image
    if sample.mask is not None:
        image = overlay_mask(image, sample.mask)
    if sample.boxes is not None:
        image = draw_boxes(image, sample.boxes, [names[i] for i in sample.labels], thickness=2)
    return image

"""Preview a pipeline: augment samples of a data set and write them as one grid picture.

Data sets are found by name like every command (``$DEEPIMAGE_DATA/<name>``, the cache,
system folders) or by path, and recognised by their layout: detection data (COCO, Pascal
VOC or YOLO, read by :func:`~deepimage.data.detection.load_detection_data`: boxes
drawn), image + mask folders (``image/`` and
``label/``, optionally under ``train/``: masks overlaid), or anything
:func:`~deepimage.data.classification.load_classification_data` reads (images only).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("image", "label"):
    ...     (root / folder).mkdir()
    ...     write_image(root / folder / "0.png", np.eye(16, dtype=np.uint8) * 255)
    >>> preview(root, root / "grid.png", count=2)["kind"]
    'masks'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from deepimage.data.classification import data_search_dirs, load_classification_data
from deepimage.data.detection import DetectionItem, detection_format, load_detection_data
from deepimage.errors import BadImageError, DataNotFoundError
from deepimage.io.images import IMAGE_EXTENSIONS, probe_image, read_image
from deepimage.transforms.compose import Compose
from deepimage.transforms.geometric import Letterbox
from deepimage.transforms.presets import build_pipeline
from deepimage.transforms.sample import Sample
from deepimage.viz.draw import draw_boxes, overlay_mask
from deepimage.viz.plots import plot_image_grid

DEFAULT_PRESETS = {
    "coco": "detect",
    "voc": "detect",
    "yolo": "detect",
    "masks": "segment",
    "classification": "classify-strong",
}
"""The preset previewed for each kind of data set when none is given."""

_DISPLAY_SIDE = 256
_T = TypeVar("_T")


@dataclass
class _Item:
    title: str
    sample: Sample
    names: list[str]


def preview(
    data: str | os.PathLike[str],
    out: Path,
    count: int = 16,
    pipeline: Compose | None = None,
    seed: int = 0,
    skip_bad: bool = False,
) -> dict[str, Any]:
    """Augment ``count`` random samples of ``data`` and write them, targets drawn, to ``out``.

    ``pipeline`` defaults to the preset in :data:`DEFAULT_PRESETS` for the data's kind.
    A bad image file is an error naming it; ``skip_bad`` leaves bad files out of the draw.
    Returns a summary: kind, pipeline steps, samples, boxes drawn, output path.
    """
    rng = np.random.default_rng(seed)
    kind, items = _load(data, count, rng, skip_bad)
    pipeline = pipeline or build_pipeline(DEFAULT_PRESETS[kind])
    side = min(_DISPLAY_SIDE, max(max(item.sample.size) for item in items))
    shown = Compose([*pipeline.steps, Letterbox(side)])
    augmented = [shown(item.sample, rng) for item in items]
    pictures = [_draw(sample, item.names) for sample, item in zip(augmented, items, strict=True)]
    boxes = sum(len(sample.boxes) for sample in augmented if sample.boxes is not None)
    plot_image_grid(pictures, [item.title for item in items], out, columns=min(4, len(items)))
    steps = [type(step).__name__ for step in pipeline.steps]
    return {
        "data": str(data),
        "kind": kind,
        "pipeline": steps,
        "samples": len(items),
        "boxes": boxes,
        "out": str(out),
    }


def find_data(data: str | os.PathLike[str]) -> Path | None:
    """The folder ``data`` names: a path, else the first search folder that exists."""
    path = Path(data).expanduser()
    if path.is_dir():
        return path
    return next((p for p in data_search_dirs(os.fspath(data)) if p.is_dir()), None)


def _load(
    data: str | os.PathLike[str], count: int, rng: np.random.Generator, skip_bad: bool
) -> tuple[str, list[_Item]]:
    kind = detection_format(data)
    if kind is not None:
        return kind, _detection_items(data, count, rng, skip_bad)
    folder = find_data(data)
    masks = _mask_folders(folder) if folder is not None else None
    if masks is not None:
        pairs = [(path, masks[1] / path.name) for path in _images(masks[0])]
        if skip_bad:
            pairs = [pair for pair in pairs if all(map(_decodes, pair))]
        return "masks", [_mask_item(*pair) for pair in _pick(pairs, count, rng)]
    return "classification", _classification_items(data, count, rng, skip_bad)


def _decodes(path: Path) -> bool:
    try:
        probe_image(path)
    except BadImageError:
        return False
    return True


def _pick(choices: Sequence[_T], count: int, rng: np.random.Generator) -> list[_T]:
    if not choices:
        raise DataNotFoundError("no annotated images found")
    return [
        choices[i] for i in rng.choice(len(choices), size=min(count, len(choices)), replace=False)
    ]


def _detection_items(
    data: str | os.PathLike[str], count: int, rng: np.random.Generator, skip_bad: bool
) -> list[_Item]:
    """``count`` random images of a detection data set with their boxes."""
    loaded = load_detection_data(data, val_split=0, skip_bad=skip_bad, check_images=skip_bad)
    items = [item for split in loaded.splits.values() for item in split]
    return [_box_item(item, loaded.classes) for item in _pick(items, count, rng)]


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
) -> list[_Item]:
    loaded = load_classification_data(data, skip_bad=skip_bad)
    split = next(iter(loaded.splits.values()))
    chosen = rng.choice(len(split), size=min(count, len(split)), replace=False)
    items = []
    for index in chosen:
        image = (
            split.images[index]
            if split.images is not None
            else read_image(split.paths[index], "rgb")
        )
        items.append(
            _Item(
                loaded.classes[split.labels[index]],
                Sample(np.ascontiguousarray(image.squeeze())),
                [],
            )
        )
    return items


def _draw(sample: Sample, names: list[str]) -> np.ndarray:
    image = sample.image
    if sample.mask is not None:
        image = overlay_mask(image, sample.mask)
    if sample.boxes is not None:
        image = draw_boxes(image, sample.boxes, [names[i] for i in sample.labels], thickness=2)
    return image

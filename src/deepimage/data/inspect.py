"""A health report on a data set: counts, sizes, bad files, duplicates.

Detection data (COCO, VOC, YOLO) is reported by
:func:`~deepimage.data.detection.inspect_detection`, segmentation data (image and mask
folders, SegNet, VOC, COCO) by :func:`~deepimage.data.segmentation.inspect_segmentation`;
:func:`data_task` says which a source is.

Example:
    >>> report = inspect_data("digits")
    >>> report["splits"]["train"]["count"], report["splits"]["train"]["width"]
    (1259, {'min': 8, 'max': 8, 'mean': 8.0})
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

from deepimage.data.classification import ClassificationData, Split, load_classification_data
from deepimage.data.detection import detection_format, inspect_detection
from deepimage.data.segmentation import inspect_segmentation, segmentation_format
from deepimage.errors import DeepImageError
from deepimage.io.images import DEFAULT_MAX_PIXELS
from deepimage.io.paths import shown_path

IMBALANCE_RATIO = 1.5
"""A split whose largest class has more than this times the images of its smallest is flagged."""

_ARRAY_MODES = {1: "L", 3: "RGB", 4: "RGBA"}

DataTask = Literal["auto", "classify", "detect", "segment"]
DATA_TASKS: tuple[DataTask, ...] = ("auto", "classify", "detect", "segment")


def data_task(spec: str | os.PathLike[str]) -> DataTask:
    """What task the data ``spec`` names is for, from its layout: "segment" for image and
    mask folders and SegNet folders, "detect" for detection data (COCO, VOC with
    ``Annotations/``, YOLO), "segment" for other segmentation data (VOC with only
    ``SegmentationClass/``), else "classify". COCO JSON and VOC folders holding both
    boxes and masks are "detect": ask for "segment" to read their masks.

    Example:
        >>> data_task("digits")
        'classify'
    """
    layout = segmentation_format(spec)
    if layout in ("folders", "segnet"):
        return "segment"
    if detection_format(spec) is not None:
        return "detect"
    return "segment" if layout is not None else "classify"


def inspect_data(
    spec: str | os.PathLike[str],
    *,
    task: DataTask = "auto",
    ignore_index: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int = 0,
) -> dict[str, Any]:
    """Describe a data set (any ``spec`` of :func:`load_classification_data`) as JSON-ready data.

    ``task`` "auto" reads the data as :func:`data_task` says; detection data gets the
    report of :func:`~deepimage.data.detection.inspect_detection` instead, segmentation
    data that of :func:`~deepimage.data.segmentation.inspect_segmentation` (with
    ``ignore_index``, the raw mask value that is void).

    Bad images never raise here: they are left out and listed under "skipped" as
    ``{path, reason}``. The report has, per split, the images per class and width/height
    statistics, pixel modes and channel counts; "duplicates" lists groups of identical
    images (files by SHA-1 of their bytes, as absolute paths; in-memory images as
    "split:index"); "warnings" flags class imbalance (largest/smallest class above
    :data:`IMBALANCE_RATIO`), classes missing from a split, duplicates across splits and
    skipped files.

    Example:
        >>> report = inspect_data("digits")
        >>> report["name"], report["channels"], report["image_size"], report["skipped"]
        ('digits', 1, [8, 8], [])
        >>> report["splits"]["test"]["per_class"]["0"], report["warnings"]
        (27, [])
    """
    if task not in DATA_TASKS:
        raise DeepImageError(f"--task must be one of {', '.join(DATA_TASKS)}, not {task!r}")
    chosen = data_task(spec) if task == "auto" else task
    if ignore_index is not None and chosen != "segment":
        raise DeepImageError(
            f"--ignore-index is for segmentation data, and {spec} is read as {chosen} data; "
            "pass --task segment to read its masks"
        )
    if chosen == "segment":
        return inspect_segmentation(spec, ignore_index=ignore_index, max_pixels=max_pixels)
    if chosen == "detect":
        return inspect_detection(spec)
    data = load_classification_data(spec, skip_bad=True, max_pixels=max_pixels, workers=workers)
    splits = {name: _split_report(split, data.classes) for name, split in data.splits.items()}
    groups = _duplicate_groups(data)
    skipped = [{"path": shown_path(bad["path"]), "reason": bad["reason"]} for bad in data.skipped]
    return {
        "name": data.name,
        "source": data.source,
        "classes": data.classes,
        "channels": data.channels,
        "image_size": list(data.image_size) if data.image_size else None,
        "splits": splits,
        "skipped": skipped,
        "duplicates": [[key for _, key in group] for group in groups],
        "warnings": _warnings(splits, groups, skipped),
    }


def _split_report(split: Split, classes: list[str]) -> dict[str, Any]:
    counts = np.bincount(split.labels, minlength=len(classes))
    if split.infos is not None:
        widths = np.array([info.width for info in split.infos])
        heights = np.array([info.height for info in split.infos])
        modes = Counter(info.mode for info in split.infos)
        channels = Counter(info.channels for info in split.infos)
    else:
        count, height, width, depth = split.images.shape
        widths, heights = np.full(count, width), np.full(count, height)
        modes, channels = Counter({_ARRAY_MODES[depth]: count}), Counter({depth: count})
    return {
        "count": len(split),
        "per_class": {cls: int(n) for cls, n in zip(classes, counts, strict=True)},
        "width": _stats(widths),
        "height": _stats(heights),
        "modes": dict(modes),
        "channels": {str(depth): n for depth, n in sorted(channels.items())},
    }


def _stats(values: np.ndarray) -> dict[str, int | float]:
    return {
        "min": int(values.min()),
        "max": int(values.max()),
        "mean": round(float(values.mean()), 2),
    }


def _duplicate_groups(data: ClassificationData) -> list[list[tuple[str, str]]]:
    """Groups of (split, key) whose content is byte-for-byte identical."""
    by_digest: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, split in data.splits.items():
        for key, digest in _digests(name, split):
            by_digest[digest].append((name, key))
    return sorted(group for group in by_digest.values() if len(group) > 1)


def _digests(name: str, split: Split) -> Iterator[tuple[str, str]]:
    if split.paths is not None:
        for path in split.paths:
            yield (
                shown_path(path),
                hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest(),
            )
    else:
        for index, image in enumerate(split.images):
            yield (
                f"{name}:{index}",
                hashlib.sha1(image.tobytes(), usedforsecurity=False).hexdigest(),
            )


def _warnings(
    splits: dict[str, dict[str, Any]],
    groups: list[list[tuple[str, str]]],
    skipped: list[dict[str, str]],
) -> list[str]:
    warnings = [message for name, report in splits.items() for message in _balance(name, report)]
    crossing = sum(len({split for split, _ in group}) > 1 for group in groups)
    if crossing:
        warnings.append(
            f"{crossing} group(s) of identical images span more than one split: "
            "evaluation scores will be optimistic"
        )
    if skipped:
        warnings.append(f"{len(skipped)} bad file(s) skipped (see skipped)")
    return warnings


def _balance(split: str, report: dict[str, Any]) -> list[str]:
    per_class: dict[str, int] = report["per_class"]
    missing = [cls for cls, n in per_class.items() if n == 0]
    if missing:
        return [f"{split}: no images of class(es) {', '.join(missing)}"]
    largest = max(per_class, key=per_class.__getitem__)
    smallest = min(per_class, key=per_class.__getitem__)
    ratio = per_class[largest] / per_class[smallest]
    if ratio <= IMBALANCE_RATIO:
        return []
    return [
        f"{split}: class imbalance: {largest} has {per_class[largest]} images, "
        f"{smallest} {per_class[smallest]} (ratio {ratio:.1f} > {IMBALANCE_RATIO})"
    ]

"""Raw annotations checked into :class:`DetectionItem`: images, classes, sizes and boxes.

Every image is probed (in threads) when its size is unknown or images are checked; a
missing or undecodable image and an unknown class fail the item (:class:`Issues`);
boxes sticking out of the image are clipped, zero-area boxes dropped and images left
without boxes kept as negatives, each noted.

Example:
    >>> from pathlib import Path
    >>> raw = RawItem(Path("a.xml"), Path("a.png"), (10, 10), np.array([[-2.0, 1, 5, 12]]), ["cat"])
    >>> issues = Issues(skip_bad=True)
    >>> boxes = raw.boxes.copy()
    >>> checked_boxes(raw, boxes, 10, 10, issues).tolist(), boxes.tolist()
    ([True], [[0.0, 1.0, 5.0, 10.0]])
    >>> issues.items[0]["detail"]
    'box 1 xyxy [-2, 1, 5, 12] is outside the 10x10 image: clipped to xyxy [0, 1, 5, 10]'
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from deepimage.data.detection.items import DetectionItem, Issues, RawItem
from deepimage.errors import BadImageError
from deepimage.io.images import ImageInfo, probe_image

_CLIP_TOLERANCE = 0.01  # pixels a box may stick out (float noise) before clipping is reported
_WORKERS = min(8, os.cpu_count() or 1)


def checked_items(
    raws: list[RawItem], classes: list[str], issues: Issues, check_images: bool
) -> list[DetectionItem]:
    """The items of ``raws`` that pass, labels indexing ``classes``; problems to ``issues``."""
    index = {name: i for i, name in enumerate(classes)}
    with ThreadPoolExecutor(_WORKERS) as pool:
        probes = list(pool.map(lambda raw: _probe(raw, check_images), raws))
    items = [_item(raw, probe, index, issues) for raw, probe in zip(raws, probes, strict=True)]
    return [item for item in items if item is not None]


def _probe(raw: RawItem, check_images: bool) -> ImageInfo | BadImageError | None:
    """Decode the image when asked to or when its size is unknown; None when skipped."""
    if not raw.image.is_file() or (raw.size is not None and not check_images):
        return None
    try:
        return probe_image(raw.image)
    except BadImageError as error:
        return error


def _item(
    raw: RawItem, probe: ImageInfo | BadImageError | None, index: dict[str, int], issues: Issues
) -> DetectionItem | None:
    if not raw.image.is_file():
        issues.fail(raw.annotation, "missing_image", f"{raw.where}image {raw.image} not found")
        return None
    if isinstance(probe, BadImageError):
        issues.fail(raw.image, "bad_image", probe.reason, probe)
        return None
    unknown = sorted(set(raw.names) - set(index))
    if unknown:
        known = ", ".join(index) or "none"
        issues.fail(
            raw.annotation,
            "unknown_class",
            f"{raw.where}unknown class(es) {', '.join(unknown)} (classes: {known})",
        )
        return None
    width, height = _size(raw, probe, issues)
    scale = np.array([width, height] * 2, np.float64)
    boxes = _cxcywh_to_xyxy(raw.boxes * scale) if raw.normalised else raw.boxes.copy()
    labels = np.array([index[name] for name in raw.names], np.int64)
    keep = checked_boxes(raw, boxes, width, height, issues)
    if not keep.any():
        issues.note(raw.annotation, "no_boxes", f"{raw.where}no boxes: kept as a negative image")
    return DetectionItem(raw.image, width, height, boxes[keep].astype(np.float32), labels[keep])


def _size(raw: RawItem, probe: ImageInfo | None, issues: Issues) -> tuple[int, int]:
    if probe is None:
        return raw.size  # type: ignore[return-value]  # probed whenever it is None
    actual = (probe.width, probe.height)
    if raw.size is not None and raw.size != actual:
        issues.note(
            raw.annotation,
            "size_mismatch",
            f"{raw.where}annotation says {raw.size[0]}x{raw.size[1]}, image {raw.image.name} is "
            f"{actual[0]}x{actual[1]}: the image's size is used",
        )
    return actual


def _cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], axis=1
    )


def checked_boxes(
    raw: RawItem, boxes: np.ndarray, width: int, height: int, issues: Issues
) -> np.ndarray:
    """Clip ``boxes`` in place to the image; the mask of boxes kept. Reports every change."""
    keep = np.zeros(len(boxes), bool)
    limits = np.array([width, height, width, height], np.float64)
    for i, box in enumerate(boxes):
        where = f"{raw.where}box {i + 1} {_xyxy_text(box)}"
        if not _has_area(box):
            issues.note(raw.annotation, "zero_area_box", f"{where} has no area: dropped")
            continue
        clipped = np.clip(box, 0, limits)
        keep[i] = _has_area(clipped)
        if np.abs(clipped - box).max() > _CLIP_TOLERANCE:
            done = f"clipped to {_xyxy_text(clipped)}" if keep[i] else "dropped"
            issues.note(
                raw.annotation,
                "clipped_box",
                f"{where} is outside the {width}x{height} image: {done}",
            )
        boxes[i] = clipped
    return keep


def _has_area(box: np.ndarray) -> bool:
    return bool(box[2] > box[0] and box[3] > box[1])  # False for NaN too


def _xyxy_text(box: np.ndarray) -> str:
    return "xyxy [" + ", ".join(f"{v:g}" for v in box) + "]"

"""A health report on detection data: counts per split and class, box sizes, issues.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "images" / "a.png", np.zeros((8, 8), np.uint8))
    >>> write_image(root / "images" / "b.png", np.zeros((8, 8), np.uint8))
    >>> _ = (root / "labels").mkdir()
    >>> _ = (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\\n")
    >>> _ = (root / "classes.txt").write_text("dot\\n")
    >>> report = inspect_detection(root)
    >>> report["splits"]["train"]["boxes"], report["issue_counts"], report["skipped"]
    (1, {'no_boxes': 1}, [])
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np

from deepimage.data.detection.items import DetectionItem
from deepimage.data.detection.load import load_detection_data


def inspect_detection(spec: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON-ready health report on detection data (bad items skipped and named, never raised).

    Per split: images, boxes, negative images, and per class images and boxes; box width,
    height and area statistics over all splits; ``issues`` (``[{path, kind, detail}]``,
    each naming its file) and their counts by kind; ``skipped`` (``[{path, reason}]``, the
    inputs a training with ``--skip-bad`` leaves out).
    """
    data = load_detection_data(spec, skip_bad=True, val_fraction=0.2)
    counts = Counter(issue["kind"] for issue in data.issues)
    all_boxes = np.concatenate([item.boxes for items in data.splits.values() for item in items])
    sizes = all_boxes[:, 2:] - all_boxes[:, :2]
    return {
        "task": "detection",
        "name": data.name,
        "source": data.source,
        "format": data.format,
        "classes": data.classes,
        "splits": {
            split: _split_summary(items, data.classes) for split, items in data.splits.items()
        },
        "box_size": {
            "width": _stats(sizes[:, 0]),
            "height": _stats(sizes[:, 1]),
            "area": _stats(sizes[:, 0] * sizes[:, 1]),
        },
        "issue_counts": dict(counts),
        "issues": [{**issue, "path": os.path.abspath(issue["path"])} for issue in data.issues],
        "skipped": [{**row, "path": os.path.abspath(row["path"])} for row in data.skipped],
    }


def _split_summary(items: list[DetectionItem], classes: list[str]) -> dict[str, Any]:
    boxes = Counter(int(label) for item in items for label in item.labels)
    images = Counter(int(label) for item in items for label in set(item.labels.tolist()))
    return {
        "images": len(items),
        "boxes": sum(boxes.values()),
        "negatives": sum(len(item.boxes) == 0 for item in items),
        "per_class": {
            name: {"images": images[i], "boxes": boxes[i]} for i, name in enumerate(classes)
        },
    }


def _stats(values: np.ndarray) -> dict[str, float] | None:
    if not len(values):
        return None
    return {
        "min": round(float(values.min()), 2),
        "median": round(float(np.median(values)), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }

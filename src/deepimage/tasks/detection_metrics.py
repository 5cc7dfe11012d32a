"""COCO detection metrics, computed by pycocotools' COCOeval (never re-implemented).

Boxes are absolute pixel xyxy; class indices are 1-based (0 is background).

Example:
    >>> import numpy as np
    >>> truth = [GroundTruth(1, 100, 80, np.array([[10, 10, 50, 40]], np.float32), np.array([1]))]
    >>> preds = [Prediction(1, np.array([[10, 10, 50, 40]], np.float32), np.array([0.9]), np.array([1]))]
    >>> round(coco_metrics(truth, preds, ["cat"])["map50"], 3)
    1.0
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from deepimage.data.detection import coco_annotations, xyxy_to_xywh

SUMMARY_NAMES = [
    "map", "map50", "map75", "map_small", "map_medium", "map_large",
    "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large",
]  # fmt: skip


@dataclass
class GroundTruth:
    """The true boxes of one image."""

    image_id: int
    width: int
    height: int
    boxes: np.ndarray  # N x 4 xyxy
    labels: np.ndarray  # N, 1-based


@dataclass
class Prediction:
    """A detector's boxes for one image."""

    image_id: int
    boxes: np.ndarray  # N x 4 xyxy
    scores: np.ndarray
    labels: np.ndarray  # 1-based


def coco_ground_truth(truths: list[GroundTruth], classes: list[str]) -> COCO:
    """A pycocotools ``COCO`` object holding the true boxes."""
    annotations = coco_annotations([(t.image_id, t.boxes, t.labels) for t in truths])
    coco = COCO()
    coco.dataset = {
        "images": [{"id": t.image_id, "width": t.width, "height": t.height} for t in truths],
        "annotations": annotations,
        "categories": [{"id": i + 1, "name": name} for i, name in enumerate(classes)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def coco_detections(predictions: list[Prediction]) -> list[dict[str, Any]]:
    """Predictions in COCO's results format (xywh boxes)."""
    return [
        {"image_id": p.image_id, "category_id": int(label), "bbox": box, "score": float(score)}
        for p in predictions
        for box, score, label in zip(
            xyxy_to_xywh(p.boxes).tolist(), p.scores, p.labels, strict=True
        )
    ]


def coco_metrics(
    truths: list[GroundTruth], predictions: list[Prediction], classes: list[str]
) -> dict[str, Any]:
    """The 12 COCO summary numbers (fractions; -1 where undefined), AP per class and
    ``pr_curves``: per class, precision at IoU 0.5 on COCO's 101 recall points."""
    gt = coco_ground_truth(truths, classes)
    results = coco_detections(predictions)
    if not results:
        return {
            **dict.fromkeys(SUMMARY_NAMES, 0.0),
            "per_class": dict.fromkeys(classes, 0.0),
            "pr_curves": {},
        }
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    summary = dict(zip(SUMMARY_NAMES, map(float, evaluator.stats), strict=True))
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # IoU x recall x class, all areas
    per_class, curves = {}, {}
    for index, name in enumerate(classes):
        values = precision[:, :, index]
        per_class[name] = float(values[values > -1].mean()) if (values > -1).any() else -1.0
        if (values[0] > -1).any():
            curves[name] = values[0].clip(0, 1).tolist()
    return {**summary, "per_class": per_class, "pr_curves": curves}

"""COCO detection metrics, computed by pycocotools' COCOeval (never re-implemented), and
what COCOeval does not give: precision, recall and F1 against the confidence threshold and
a confusion matrix with a background class, both from one matching of boxes at IoU 0.5
(Ultralytics' figures).

Boxes are absolute pixel xyxy; class indices are 1-based (0 is background). A COCO figure
with nothing to measure (``map_small`` where no box is small) is None, never COCO's -1.

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
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchvision.ops import box_iou

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
    """The 12 COCO summary numbers (fractions; None where there is nothing to measure, COCO's
    -1: no small boxes, say), AP per class (None for a class without boxes) and
    ``pr_curves``: per class, precision at IoU 0.5 on COCO's 101 recall points."""
    gt = coco_ground_truth(truths, classes)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, _coco_results(gt, coco_detections(predictions)), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    summary = dict(zip(SUMMARY_NAMES, map(_defined, evaluator.stats), strict=True))
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # IoU x recall x class, all areas
    per_class, curves = {}, {}
    for index, name in enumerate(classes):
        values = precision[:, :, index]
        per_class[name] = float(values[values > -1].mean()) if (values > -1).any() else None
        if (values[0] > -1).any():
            curves[name] = values[0].clip(0, 1).tolist()
    return {**summary, "per_class": per_class, "pr_curves": curves}


def _coco_results(gt: COCO, results: list[dict[str, Any]]) -> COCO:
    """``results`` loaded against ``gt``; none at all is an empty result set (``loadRes``
    refuses an empty list), which COCOeval scores 0 where there are boxes to find."""
    if results:
        return gt.loadRes(results)
    empty = COCO()
    empty.dataset = {**gt.dataset, "annotations": []}
    with contextlib.redirect_stdout(io.StringIO()):
        empty.createIndex()
    return empty


def _defined(value: float) -> float | None:
    """A COCOeval figure, or None for its -1 (no boxes in that area range or class)."""
    return None if value < 0 else float(value)


def match_boxes(
    truths: np.ndarray, found: np.ndarray, allowed: np.ndarray | None = None, iou: float = 0.5
) -> np.ndarray:
    """For each box in ``found``, the index of the true box it matches, -1 for none: pairs
    overlapping by at least ``iou`` (and ``allowed[found, truth]`` where given: the same
    class, say) are taken best IoU first, each box used once (Ultralytics' matching).

    Example:
        >>> truths = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
        >>> found = np.array([[1, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
        >>> match_boxes(truths, found).tolist()
        [-1, 0, -1]
    """
    matched = np.full(len(found), -1, np.int64)
    if not len(truths) or not len(found):
        return matched
    overlap = box_iou(
        torch.as_tensor(np.asarray(found), dtype=torch.float64),
        torch.as_tensor(np.asarray(truths), dtype=torch.float64),
    ).numpy()
    if allowed is not None:
        overlap = np.where(allowed, overlap, -1.0)
    pairs = np.argwhere(overlap >= iou)
    taken: set[int] = set()
    for box, truth in pairs[np.argsort(-overlap[tuple(pairs.T)], kind="stable")]:
        if matched[box] < 0 and truth not in taken:
            matched[box] = truth
            taken.add(int(truth))
    return matched


ALL_CLASSES = "all classes"
"""The key of the curves averaged over the classes that have true boxes."""


@dataclass
class ConfidenceCurves:
    """Precision, recall and F1 of the detections scoring at least each ``confidence``
    (0 to 1 in 1001 steps), per class name and :data:`ALL_CLASSES` (their mean, as
    Ultralytics plots it); precision is 1 where nothing scores that high."""

    confidence: np.ndarray
    precision: dict[str, np.ndarray]
    recall: dict[str, np.ndarray]
    f1: dict[str, np.ndarray]

    def best(self) -> dict[str, float | None]:
        """``f1``: the best F1 of all classes, at ``f1_conf``, the highest confidence giving
        it (None when no detection finds a box), and the ``precision`` and ``recall`` there."""
        if ALL_CLASSES not in self.f1:
            return dict.fromkeys(("f1", "f1_conf", "precision", "recall"))
        f1s = self.f1[ALL_CLASSES]
        at = len(f1s) - 1 - int(np.argmax(f1s[::-1]))
        f1 = float(f1s[at])
        return {
            "f1": f1,
            "f1_conf": float(self.confidence[at]) if f1 > 0 else None,
            "precision": float(self.precision[ALL_CLASSES][at]),
            "recall": float(self.recall[ALL_CLASSES][at]),
        }


def confidence_curves(
    truths: list[GroundTruth],
    predictions: list[Prediction],
    classes: list[str],
    iou: float = 0.5,
) -> ConfidenceCurves:
    """Precision, recall and F1 against the score threshold, per class with true boxes and
    for all of them, detections matched to boxes of their class by :func:`match_boxes`.

    Example:
        >>> truth = [GroundTruth(1, 100, 80, np.array([[10, 10, 50, 40]]), np.array([1]))]
        >>> found = np.array([[10, 10, 50, 40], [60, 10, 90, 40]])
        >>> preds = [Prediction(1, found, np.array([0.9, 0.6]), np.array([1, 1]))]
        >>> curves = confidence_curves(truth, preds, ["cat"])
        >>> [float(curves.precision["cat"][i]) for i in (500, 700)]  # at 0.5 and 0.7
        [0.5, 1.0]
        >>> curves.best()["f1_conf"]  # from 0.601 to 0.9 only the right box is kept
        0.9
    """
    scores, labels, hits = _class_matches(truths, predictions, iou)
    true = np.concatenate([np.asarray(t.labels, np.int64) for t in truths] or [np.zeros(0)])
    counts = np.bincount(true.astype(np.int64), minlength=len(classes) + 1)
    grid = np.linspace(0, 1, 1001)
    precision, recall, f1 = {}, {}, {}
    for label, name in enumerate(classes, start=1):
        if counts[label]:
            mine = labels == label
            precision[name], recall[name] = _threshold_rates(
                scores[mine], hits[mine], counts[label], grid
            )
            f1[name] = _f1(precision[name], recall[name])
    if precision:
        precision[ALL_CLASSES] = np.mean(list(precision.values()), axis=0)
        recall[ALL_CLASSES] = np.mean(list(recall.values()), axis=0)
        f1[ALL_CLASSES] = np.mean(list(f1.values()), axis=0)
    return ConfidenceCurves(grid, precision, recall, f1)


def _class_matches(
    truths: list[GroundTruth], predictions: list[Prediction], iou: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, labels, found a true box of its class) of every detection."""
    boxes = {t.image_id: t for t in truths}
    hits = []
    for p in predictions:
        truth = boxes[p.image_id]
        same = np.asarray(p.labels)[:, None] == np.asarray(truth.labels)[None, :]
        hits.append(match_boxes(truth.boxes, p.boxes, same, iou) >= 0)
    return (
        np.concatenate([np.asarray(p.scores, np.float64) for p in predictions] or [np.zeros(0)]),
        np.concatenate([np.asarray(p.labels, np.int64) for p in predictions] or [np.zeros(0)]),
        np.concatenate(hits or [np.zeros(0, bool)]),
    )


def _threshold_rates(
    scores: np.ndarray, hits: np.ndarray, truths: int, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of the detections scoring at least each ``grid`` value."""
    order = np.argsort(-scores, kind="stable")
    found = np.concatenate([[0], np.cumsum(hits[order])])
    kept = np.searchsorted(-scores[order], -grid, side="right")  # how many score >= each
    precision = np.where(kept > 0, found[kept] / np.maximum(kept, 1), 1.0)
    return precision, found[kept] / truths


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    return 2 * precision * recall / np.maximum(precision + recall, 1e-12)


def detection_confusion(
    truths: list[GroundTruth],
    predictions: list[Prediction],
    count: int,
    conf: float = 0.25,
    iou: float = 0.5,
) -> np.ndarray:
    """A ``count + 1`` square of counts, true classes down and predicted classes across,
    the last row and column the background: detections scoring at least ``conf`` are matched
    to true boxes of any class by :func:`match_boxes`; a detection that matches none is
    counted on the background row (a false detection), a true box no detection matches in
    the background column (a miss), as Ultralytics counts them.

    Example:
        >>> truth = [GroundTruth(1, 100, 80, np.array([[10, 10, 50, 40], [60, 0, 99, 9]]),
        ...                      np.array([1, 2]))]
        >>> found = np.array([[10, 10, 50, 40], [0, 50, 9, 79]])
        >>> preds = [Prediction(1, found, np.array([0.9, 0.8]), np.array([2, 1]))]
        >>> detection_confusion(truth, preds, 2).tolist()
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    """
    matrix = np.zeros((count + 1, count + 1), np.int64)
    boxes = {p.image_id: p for p in predictions}
    none = Prediction(0, np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
    for truth in truths:
        found = boxes.get(truth.image_id, none)
        shown = np.asarray(found.scores) >= conf
        labels = np.asarray(found.labels, np.int64)[shown] - 1
        matched = match_boxes(truth.boxes, np.asarray(found.boxes)[shown], iou=iou)
        real = np.asarray(truth.labels, np.int64) - 1
        np.add.at(matrix, (real[matched[matched >= 0]], labels[matched >= 0]), 1)
        np.add.at(matrix, (count, labels[matched < 0]), 1)
        missed = np.setdiff1d(np.arange(len(real)), matched)
        np.add.at(matrix, (real[missed], count), 1)
    return matrix

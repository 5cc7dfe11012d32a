"""COCO metrics through pycocotools, checked against COCOeval run directly on JSON files."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from deepimage.tasks.detection_metrics import (
    SUMMARY_NAMES,
    GroundTruth,
    Prediction,
    coco_detections,
    coco_ground_truth,
    coco_metrics,
)

CLASSES = ["cat", "dog"]


def _random_case(seed: int) -> tuple[list[GroundTruth], list[Prediction]]:
    rng = np.random.default_rng(seed)
    truths, preds = [], []
    for image_id in range(1, 11):
        xy = rng.uniform(0, 200, (3, 2))
        boxes = np.column_stack([xy, xy + rng.uniform(5, 120, (3, 2))]).astype(np.float32)
        labels = rng.integers(1, 3, 3)
        truths.append(GroundTruth(image_id, 400, 300, boxes, labels))
        noisy = boxes + rng.normal(0, 6, boxes.shape).astype(np.float32)
        preds.append(Prediction(image_id, noisy, rng.uniform(0.1, 1, 3), labels))
    return truths, preds


def test_matches_cocoeval_on_json_files(tmp_path: Path) -> None:
    truths, preds = _random_case(0)
    gt_file, dt_file = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_file.write_text(json.dumps(coco_ground_truth(truths, CLASSES).dataset))
    dt_file.write_text(json.dumps(coco_detections(preds)))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        direct = COCOeval(gt, gt.loadRes(str(dt_file)), "bbox")
        direct.evaluate()
        direct.accumulate()
        direct.summarize()
    ours = coco_metrics(truths, preds, CLASSES)
    for name, value in zip(SUMMARY_NAMES, direct.stats, strict=True):
        assert ours[name] == (None if value < 0 else pytest.approx(value, abs=1e-4)), name


def test_perfect_boxes_score_one_and_shifted_boxes_lose_strict_iou() -> None:
    truths, _ = _random_case(1)
    perfect = [Prediction(t.image_id, t.boxes, np.ones(len(t.boxes)), t.labels) for t in truths]
    assert coco_metrics(truths, perfect, CLASSES)["map"] == pytest.approx(1.0)
    shifted = [
        Prediction(t.image_id, t.boxes + np.float32(0.2) * (t.boxes[:, 2:3] - t.boxes[:, 0:1]),
                   np.ones(len(t.boxes)), t.labels)
        for t in truths
    ]  # fmt: skip
    result = coco_metrics(truths, shifted, CLASSES)
    assert result["map75"] < result["map50"] <= 1.0
    assert set(result["per_class"]) == set(CLASSES)


def test_no_detections_scores_zero() -> None:
    truths, _ = _random_case(2)
    assert coco_metrics(truths, [], CLASSES)["map50"] == 0.0


def test_figures_with_nothing_to_measure_are_none_not_minus_one() -> None:
    """COCOeval's -1 (an area range or a class without true boxes) is None, null in JSON,
    with detections or without."""
    large = np.array([[0, 0, 200, 150], [210, 0, 400, 290]], np.float32)  # both over 96 x 96
    truths = [GroundTruth(1, 400, 300, large, np.array([1, 1]))]
    perfect = [Prediction(1, large, np.array([0.9, 0.8]), np.array([1, 1]))]
    for preds, score in ((perfect, 1.0), ([], 0.0)):
        metrics = coco_metrics(truths, preds, CLASSES)
        absent = {name for name in SUMMARY_NAMES if metrics[name] is None}
        assert absent == {"map_small", "map_medium", "mar_small", "mar_medium"}
        assert metrics["map_large"] == metrics["mar_large"] == pytest.approx(score)
        assert metrics["per_class"] == {"cat": pytest.approx(score), "dog": None}
        assert json.loads(json.dumps(metrics))["map_small"] is None

"""Box matching, precision / recall / F1 against confidence and the detection confusion
matrix, on hand-made boxes whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from deepimage.tasks.detection_metrics import (
    ALL_CLASSES,
    GroundTruth,
    Prediction,
    confidence_curves,
    detection_confusion,
    match_boxes,
)

CAT, DOG = 1, 2  # 1-based labels, as the metrics take them
CLASSES = ["cat", "dog"]


def boxes(*rows: list[float]) -> np.ndarray:
    return np.array(rows, np.float64).reshape(-1, 4)


def at(curve: np.ndarray, confidence: float) -> float:
    """The curve's value at ``confidence`` (its grid has 1001 points from 0 to 1)."""
    return float(curve[round(confidence * 1000)])


def test_the_best_overlap_wins_and_each_box_is_used_once() -> None:
    truths = boxes([0, 0, 10, 10], [20, 0, 30, 10])
    found = boxes([0, 0, 10, 9], [0, 0, 10, 10], [21, 0, 30, 10], [50, 50, 60, 60])
    assert match_boxes(truths, found).tolist() == [-1, 0, 1, -1]


def test_iou_exactly_at_the_threshold_matches() -> None:
    half = boxes([0, 0, 10, 5])  # IoU 0.5 with the truth
    assert match_boxes(boxes([0, 0, 10, 10]), half).tolist() == [0]
    assert match_boxes(boxes([0, 0, 10, 10]), half, iou=0.51).tolist() == [-1]


def test_pairs_are_taken_best_iou_first() -> None:
    truths = boxes([0, 0, 10, 10], [5, 0, 15, 10])
    found = boxes([4, 0, 14, 10], [0, 0, 10, 10])  # IoU 0.43 / 0.82, then 1.0 / 0.33
    assert match_boxes(truths, found).tolist() == [1, 0]
    truths = boxes([0, 0, 10, 10])
    found = boxes([0, 0, 10, 8], [0, 0, 10, 10])  # the second overlaps better and takes it
    assert match_boxes(truths, found).tolist() == [-1, 0]


def test_disallowed_pairs_never_match() -> None:
    truths, found = boxes([0, 0, 10, 10]), boxes([0, 0, 10, 10])
    assert match_boxes(truths, found, np.array([[False]])).tolist() == [-1]
    assert match_boxes(boxes(), found).tolist() == [-1]
    assert match_boxes(truths, boxes()).tolist() == []


def scene() -> tuple[list[GroundTruth], list[Prediction]]:
    """Two cats and a dog: cat detections at 0.9 (hit), 0.8 (a duplicate), 0.6 (hit) and
    0.3 (nothing there); the dog is found only as a cat at 0.7, which is no hit."""
    true_boxes = boxes([0, 0, 40, 40], [50, 0, 90, 40], [100, 0, 140, 40])
    truth = GroundTruth(1, 200, 100, true_boxes, np.array([CAT, CAT, DOG]))
    found = boxes([0, 0, 40, 40], [1, 0, 40, 40], [50, 0, 90, 40], [150, 50, 190, 90])
    found = np.concatenate([found, boxes([100, 0, 140, 40])])
    prediction = Prediction(
        1, found, np.array([0.9, 0.8, 0.6, 0.3, 0.7]), np.array([CAT, CAT, CAT, CAT, CAT])
    )
    return [truth], [prediction]


def test_precision_recall_and_f1_against_confidence_per_class() -> None:
    curves = confidence_curves(*scene(), CLASSES)
    cat_p, cat_r, cat_f1 = curves.precision["cat"], curves.recall["cat"], curves.f1["cat"]
    # kept above 0.85: the 0.9 hit; above 0.75: + the duplicate; above 0.65: + the cat on
    # the dog; above 0.5: + the second hit; above 0.2: + the empty one
    for conf, precision, recall in [
        (0.85, 1.0, 0.5),
        (0.75, 0.5, 0.5),
        (0.65, 1 / 3, 0.5),
        (0.5, 0.5, 1.0),
        (0.2, 0.4, 1.0),
    ]:
        assert at(cat_p, conf) == pytest.approx(precision), conf
        assert at(cat_r, conf) == pytest.approx(recall), conf
        f1 = 2 * precision * recall / (precision + recall)
        assert at(cat_f1, conf) == pytest.approx(f1), conf
    assert at(cat_p, 0.95) == 1.0 and at(cat_r, 0.95) == 0.0 and at(cat_f1, 0.95) == 0.0
    # no dog detection at all: precision 1 (nothing wrong), recall 0
    assert set(curves.precision["dog"]) == {1.0} and set(curves.recall["dog"]) == {0.0}


def test_all_classes_is_the_mean_and_the_best_f1_is_reported() -> None:
    curves = confidence_curves(*scene(), CLASSES)
    for kind in (curves.precision, curves.recall, curves.f1):
        np.testing.assert_allclose(kind[ALL_CLASSES], (kind["cat"] + kind["dog"]) / 2)
    best = curves.best()
    # cat's F1 is best (2/3) from 0.301 to 0.6 (P 0.5, R 1) and from 0.801 to 0.9 (P 1,
    # R 0.5); the highest confidence giving it is reported; dog's F1 is 0 throughout
    assert best["f1"] == pytest.approx(1 / 3)
    assert best["f1_conf"] == pytest.approx(0.9)
    assert best["precision"] == pytest.approx(1.0) and best["recall"] == pytest.approx(0.25)


def test_classes_without_true_boxes_have_no_curve_and_nothing_found_no_best() -> None:
    truth = [GroundTruth(1, 100, 100, boxes([0, 0, 40, 40]), np.array([CAT]))]
    missing = [Prediction(1, boxes([50, 50, 90, 90]), np.array([0.9]), np.array([DOG]))]
    curves = confidence_curves(truth, missing, CLASSES)
    assert set(curves.f1) == {"cat", ALL_CLASSES}
    assert curves.best()["f1"] == 0.0 and curves.best()["f1_conf"] is None
    empty = [GroundTruth(1, 100, 100, boxes(), np.zeros(0, np.int64))]
    assert confidence_curves(empty, missing, CLASSES).best() == dict.fromkeys(
        ("f1", "f1_conf", "precision", "recall")
    )


def test_confusion_matrix_counts_matches_confusions_misses_and_false_detections() -> None:
    [truth], [prediction] = scene()
    prediction.scores[2] = 0.1  # the second cat's hit falls below conf: that cat is missed
    nothing = Prediction(3, boxes(), np.zeros(0), np.zeros(0, np.int64))
    truths = [
        truth,
        GroundTruth(2, 100, 100, boxes(), np.zeros(0, np.int64)),
        GroundTruth(3, 100, 100, boxes([0, 0, 50, 50]), np.array([DOG])),
    ]
    stray = Prediction(2, boxes([0, 0, 30, 30]), np.array([0.5]), np.array([DOG]))
    matrix = detection_confusion(truths, [prediction, stray, nothing], 2, conf=0.25)
    # rows: true cat, dog, background; columns: predicted cat, dog, background
    assert matrix.tolist() == [
        [1, 0, 1],  # a cat found; the other cat missed (its detection scored 0.1)
        [1, 0, 1],  # the dog taken for a cat; image 3's dog missed
        [2, 1, 0],  # the duplicate and the empty cat detections; the stray dog
    ]
    assert matrix[:2].sum() == 4  # every true box counted once

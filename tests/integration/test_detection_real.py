"""The raccoon data set (Pascal VOC, 200 images, 217 boxes) through the detection data layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from deepimage.data.detection import (
    DetectionData,
    inspect_detection,
    load_detection_data,
    write_coco,
    write_voc,
    write_yolo,
)

pytestmark = pytest.mark.integration

RequireData = Callable[[str], Path]


def boxes_by_image(data: DetectionData) -> dict[str, tuple[str, list[int], np.ndarray]]:
    return {
        item.image.name: (split, item.labels.tolist(), item.boxes)
        for split, items in data.splits.items()
        for item in items
    }


def test_raccoon_loads_by_name_with_a_seeded_split(
    require_data: RequireData, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = require_data("raccoon")
    monkeypatch.setenv("DEEPIMAGE_DATA", str(folder.parent))
    data = load_detection_data("raccoon")
    assert (data.format, data.classes, data.source) == ("voc", ["raccoon"], str(folder))
    assert {split: len(items) for split, items in data.splits.items()} == {"train": 160, "val": 40}
    items = [item for items in data.splits.values() for item in items]
    assert sum(len(item.boxes) for item in items) == 217
    assert data.issues == []
    first = next(item for item in items if item.image.name == "raccoon-1.jpg")
    assert (first.width, first.height, first.boxes.tolist()) == (650, 417, [[80, 87, 522, 408]])
    again = load_detection_data(folder, check_images=False)
    assert [i.image for i in again.splits["val"]] == [i.image for i in data.splits["val"]]
    other = load_detection_data(folder, seed=1, check_images=False)
    assert [i.image for i in other.splits["val"]] != [i.image for i in data.splits["val"]]


def test_raccoon_round_trip_voc_coco_yolo_voc(require_data: RequireData, tmp_path: Path) -> None:
    original = load_detection_data(require_data("raccoon"), check_images=False)
    coco = load_detection_data(write_coco(original, tmp_path / "coco"), check_images=False)
    yolo = load_detection_data(write_yolo(coco, tmp_path / "yolo"), check_images=False)
    back = load_detection_data(write_voc(yolo, tmp_path / "voc"), check_images=False)
    start, end = boxes_by_image(original), boxes_by_image(back)
    assert start.keys() == end.keys() and len(end) == 200
    for name, (split, labels, boxes) in start.items():
        assert end[name][:2] == (split, labels), name
        assert np.abs(end[name][2] - boxes).max() <= 1, name
    assert back.issues == []


def test_raccoon_inspect_report(require_data: RequireData) -> None:
    report = inspect_detection(require_data("raccoon"))
    assert report["format"] == "voc" and report["classes"] == ["raccoon"]
    assert {split: s["images"] for split, s in report["splits"].items()} == {
        "train": 160,
        "val": 40,
    }
    assert sum(s["per_class"]["raccoon"]["boxes"] for s in report["splits"].values()) == 217
    assert report["issue_counts"] == {} and report["skipped"] == []
    assert report["box_size"]["width"]["min"] > 0

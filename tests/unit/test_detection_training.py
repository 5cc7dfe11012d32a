"""Detection batches, the mapping back to original pixels and the training guards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deepimage.data.batches import EpochBatchSampler
from deepimage.data.detection import DetectionItem
from deepimage.data.detection_batches import (
    DetectionBatches,
    keep_sound_boxes,
    letterbox,
    to_original,
)
from deepimage.tasks.detection import DetectionTask


def item(path: Path, size: tuple[int, int], boxes: list[list[float]]) -> DetectionItem:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), np.uint8)).save(path)
    return DetectionItem(path, *size, np.array(boxes, np.float32), np.zeros(len(boxes), np.int64))


@pytest.mark.parametrize("size", [(640, 480), (300, 900), (100, 60)])
def test_letterbox_and_back_is_the_identity_on_boxes(size: tuple[int, int]) -> None:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    boxed, scale = letterbox(image, 320)
    assert boxed.shape == (320, 320, 3)
    box = np.array([[10.0, 20.0, size[0] - 5.0, size[1] - 1.0]])
    shrunk = box * np.array(scale * 2)
    assert np.allclose(to_original(shrunk, scale, size), box, atol=1e-6)


def test_to_original_clips_to_the_image() -> None:
    out = to_original(np.array([[-5.0, 0, 400, 300]]), (0.5, 0.5), (100, 80))
    assert out.tolist() == [[0.0, 0.0, 100.0, 80.0]]


def test_degenerate_and_non_finite_boxes_are_dropped() -> None:
    boxes = np.array([[0, 0, 5, 5], [3, 3, 4.5, 9], [1, 1, np.inf, 3], [2, 2, 2, 2]], np.float32)
    kept, labels = keep_sound_boxes(boxes, np.arange(4))
    assert labels.tolist() == [0] and kept.tolist() == [[0, 0, 5, 5]]


def test_batches_hold_square_images_and_1_based_labels(tmp_path: Path) -> None:
    items = [item(tmp_path / "a.png", (200, 100), [[10, 10, 110, 90]])]
    images, targets = DetectionBatches(items, 64)[[0]]
    assert images.shape == (1, 3, 64, 64) and images.dtype == torch.uint8
    assert targets[0]["labels"].tolist() == [1]
    assert np.allclose(targets[0]["boxes"], [[3.2, 3.2, 35.2, 28.8]])  # 0.32 per axis
    assert targets[0]["size"] == (200, 100)


def test_augmentation_is_seeded_per_epoch_and_keeps_boxes_inside(tmp_path: Path) -> None:
    items = [item(tmp_path / f"{i}.png", (120, 90), [[20, 15, 80, 70]]) for i in range(4)]
    batches = DetectionBatches(items, 96, augment="detect", seed=3)
    first, again, other = (
        batches[(0, [0, 1, 2, 3])],
        batches[(0, [0, 1, 2, 3])],
        batches[(1, [0, 1, 2, 3])],
    )
    assert torch.equal(first[0], again[0])
    assert not torch.equal(first[0], other[0])
    for target in first[1] + other[1]:
        boxes = target["boxes"]
        assert ((boxes >= 0) & (boxes <= 96)).all()
        assert ((boxes[:, 2:] - boxes[:, :2]) >= 2).all()


def test_sampler_drops_a_short_last_batch_and_tags_the_epoch() -> None:
    sampler = EpochBatchSampler(10, 4, shuffle=True, seed=0, drop_last=True, with_epoch=True)
    sampler.set_epoch(2)
    batches = list(sampler)
    assert len(sampler) == len(batches) == 2
    assert all(epoch == 2 and len(indices) == 4 for epoch, indices in batches)


def test_a_non_finite_loss_skips_the_step() -> None:
    class Diverged(torch.nn.Module):
        def forward(self, images: list, targets: list) -> dict[str, torch.Tensor]:
            return {"loss": torch.tensor(float("nan"))}

    task = DetectionTask("ssdlite320_mobilenet_v3_large", ["cat"])
    task.net = Diverged()
    targets = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    with pytest.warns(UserWarning, match="log"):
        assert (
            task.training_step((torch.zeros(1, 3, 32, 32, dtype=torch.uint8), targets), 0) is None
        )
    assert task.skipped_steps == 1


def test_thresholds_reach_every_model_family() -> None:
    for name in ("fasterrcnn_mobilenet_v3_large_320_fpn", "ssdlite320_mobilenet_v3_large"):
        task = DetectionTask(name, ["cat"], conf=0.3, iou=0.4)
        heads = task.ema.roi_heads if hasattr(task.ema, "roi_heads") else task.ema
        assert (heads.score_thresh, heads.nms_thresh) == (0.3, 0.4)

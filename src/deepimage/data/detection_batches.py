"""Detection batches for torchvision's detectors: square ``size`` x ``size`` uint8 images and
targets, with box-aware augmentation for training and the way back to original pixels.

Every image is first shrunk (area interpolation) so its longer side is ``size``. Training
then runs an augmentation pipeline ending in a letterbox to the square; evaluation and
prediction pad the shrunk image at the bottom and right, so a box maps back to the original
image by dividing by the scale. Boxes a transform leaves thinner than :data:`MIN_SIDE`
pixels are dropped (degenerate boxes are what turns a detector's loss into NaN).

Example:
    >>> import numpy as np
    >>> image, scale = letterbox(np.zeros((300, 400, 3), np.uint8), 320)
    >>> image.shape, scale
    ((320, 320, 3), (0.8, 0.8))
    >>> to_original(np.array([[8.0, 8, 80, 40]]), scale, (400, 300)).tolist()
    [[10.0, 10.0, 100.0, 50.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from deepimage.data.detection import DetectionItem
from deepimage.io import read_image
from deepimage.process import pad, resize
from deepimage.transforms.compose import Compose
from deepimage.transforms.geometric import Letterbox
from deepimage.transforms.pipeline import build_pipeline
from deepimage.transforms.sample import Sample

MIN_SIDE = 2.0
"""Boxes narrower or lower than this many pixels (after augmentation) are dropped."""
CACHE_BYTES = 2 << 30
"""Shrunk training images are kept in memory up to this many bytes."""
PAD_VALUE = 114


def shrink(image: np.ndarray, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """``image`` scaled so its longer side is ``size``, and the (x, y) scale applied."""
    height, width = image.shape[:2]
    if max(height, width) == size:
        return image, (1.0, 1.0)
    out = resize(
        image, max_side=size, interpolation="area" if max(height, width) > size else "linear"
    )
    return out, (out.shape[1] / width, out.shape[0] / height)


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Shrink to a longer side of ``size``, pad bottom and right to a square; the scale."""
    out, scale = shrink(image, size)
    return _pad_square(out, size), scale


def _pad_square(image: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    return pad(image, 0, size - height, 0, size - width, fill=PAD_VALUE)


def to_original(boxes: np.ndarray, scale: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """Boxes from :func:`letterbox` space back to the original ``size = (width, height)``."""
    out = np.asarray(boxes, np.float64) / np.array([scale[0], scale[1], scale[0], scale[1]])
    out[:, 0::2] = out[:, 0::2].clip(0, size[0])
    out[:, 1::2] = out[:, 1::2].clip(0, size[1])
    return out


def keep_sound_boxes(boxes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the finite boxes at least :data:`MIN_SIDE` pixels wide and high.

    Example:
        >>> boxes = np.array([[0, 0, 10, 10], [5, 5, 6, 20], [0, 0, np.nan, 4]], np.float32)
        >>> keep_sound_boxes(boxes, np.array([1, 2, 3]))[1].tolist()
        [1]
    """
    sides = boxes[:, 2:] - boxes[:, :2]
    keep = np.isfinite(boxes).all(axis=1) & (sides >= MIN_SIDE).all(axis=1)
    return boxes[keep], labels[keep]


class DetectionBatches(Dataset):
    """Items indexed a batch at a time: ``(images, targets)`` with images an
    N x 3 x size x size uint8 tensor and one target dict per image.

    A target has ``boxes`` (float32 xyxy in batch pixels) and ``labels`` (1-based, 0 is
    background), plus ``index``, ``scale`` and ``size`` (original width, height) to map
    predictions back, and ``truth``, the item's own boxes and 0-based labels. With ``augment`` (a preset name or a step list) each epoch draws new
    transforms from (seed, epoch, item); the epoch comes with the indices as
    ``(epoch, indices)`` (see ``EpochBatchSampler(with_epoch=True)``).
    """

    def __init__(
        self,
        items: Sequence[DetectionItem],
        size: int,
        augment: str | list[dict[str, Any]] | None = None,
        seed: int = 0,
    ) -> None:
        self.items, self.size, self.seed = list(items), size, seed
        self.pipeline: Compose | None = None
        if augment and augment != "none":
            steps = build_pipeline(augment, task="detect").steps
            self.pipeline = Compose([*steps, Letterbox(size, fill=PAD_VALUE)])
        self._cache: dict[int, tuple[np.ndarray, tuple[float, float]]] = {}
        self._cached_bytes = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(
        self, key: Sequence[int] | tuple[int, Sequence[int]]
    ) -> tuple[torch.Tensor, list[dict[str, Any]]]:
        epoch, indices = key if isinstance(key, tuple) else (0, key)
        pairs = [self._sample(int(index), epoch) for index in indices]
        images = np.stack([image for image, _ in pairs])
        return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), [t for _, t in pairs]

    def _shrunk(self, index: int) -> tuple[np.ndarray, tuple[float, float]]:
        if index in self._cache:
            return self._cache[index]
        shrunk = shrink(read_image(self.items[index].image, mode="rgb"), self.size)
        if self._cached_bytes + shrunk[0].nbytes <= CACHE_BYTES:
            self._cache[index] = shrunk
            self._cached_bytes += shrunk[0].nbytes
        return shrunk

    def _sample(self, index: int, epoch: int) -> tuple[np.ndarray, dict[str, Any]]:
        item = self.items[index]
        image, scale = self._shrunk(index)
        boxes = item.boxes.astype(np.float32) * np.array(scale * 2, np.float32)
        labels = item.labels + 1
        if self.pipeline is None:
            image = _pad_square(image, self.size)
        else:
            rng = np.random.default_rng([self.seed, epoch, index])
            sample = self.pipeline(Sample(image, boxes=boxes, labels=labels), rng)
            image, boxes, labels = sample.image, sample.boxes, sample.labels
        boxes, labels = keep_sound_boxes(boxes, labels)
        target = {
            "boxes": torch.from_numpy(np.ascontiguousarray(boxes, np.float32)).reshape(-1, 4),
            "labels": torch.from_numpy(np.asarray(labels, np.int64)),
            "index": index,
            "scale": scale,
            "size": (item.width, item.height),
            "truth": (item.boxes, item.labels),
        }
        return image, target

"""Segmentation batches: random square crops of images and their masks for training (the
augmentation moves the mask with the image), whole images for validation.

Masks are uint8 class indices with 255 for ignored pixels (see
:mod:`deepimage.data.segmentation`); crops of images smaller than the crop are padded
with ignored pixels. ``img_size`` resizes every image (area when shrinking) so its longer
side is that many pixels, and its mask with it (nearest), before anything else.

Example:
    >>> import numpy as np
    >>> image, mask = random_crop(np.zeros((20, 30), np.uint8), np.ones((20, 30), np.uint8),
    ...                           24, np.random.default_rng(0))
    >>> image.shape, int((mask == IGNORED).sum())
    ((24, 24), 96)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from deepimage.data.segmentation import IGNORED, SegmentationData, SegmentationItem
from deepimage.io import read_image
from deepimage.process import resize
from deepimage.transforms.compose import Compose
from deepimage.transforms.pipeline import build_pipeline
from deepimage.transforms.sample import Sample

CACHE_BYTES = 2 << 30
"""Decoded (and resized) images and masks are kept in memory up to this many bytes."""


def resized_pair(
    image: np.ndarray, mask: np.ndarray | None, img_size: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``image`` (and ``mask``, nearest) resized so the longer side is ``img_size``."""
    if img_size is None or max(image.shape[:2]) == img_size:
        return image, mask
    shrinking = max(image.shape[:2]) > img_size
    out = resize(image, max_side=img_size, interpolation="area" if shrinking else "linear")
    if mask is not None:
        mask = cv2.resize(mask, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_NEAREST)
    return out, mask


def read_input(path: Any, channels: int) -> np.ndarray:
    """An image file as the model takes it: uint8 HxW (grey) or HxWx3 (RGB)."""
    return read_image(path, mode="gray" if channels == 1 else "rgb")


def random_crop(
    image: np.ndarray, mask: np.ndarray, side: int | tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A random ``side`` x ``side`` (or ``(rows, columns)``) window of ``image`` and
    ``mask``; a smaller image is padded (black, mask :data:`IGNORED`) at a random offset."""
    rows, columns = (side, side) if isinstance(side, int) else side
    height, width = mask.shape
    pad_y, pad_x = max(0, rows - height), max(0, columns - width)
    if pad_y or pad_x:
        top, left = int(rng.integers(pad_y + 1)), int(rng.integers(pad_x + 1))
        spec = ((top, pad_y - top), (left, pad_x - left))
        image = np.pad(image, spec + ((0, 0),) * (image.ndim - 2))
        mask = np.pad(mask, spec, constant_values=IGNORED)
        height, width = mask.shape
    y = int(rng.integers(height - rows + 1))
    x = int(rng.integers(width - columns + 1))
    return image[y : y + rows, x : x + columns], mask[y : y + rows, x : x + columns]


class _Decoded:
    """Decoded, resized images and masks of ``items``, kept up to :data:`CACHE_BYTES`."""

    def __init__(
        self,
        items: Sequence[SegmentationItem],
        data: SegmentationData,
        channels: int,
        img_size: int | None,
    ) -> None:
        self.items, self.data = list(items), data
        self.channels, self.img_size = channels, img_size
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self.items)

    def pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index in self._cache:
            return self._cache[index]
        item = self.items[index]
        image = read_input(item.image, self.channels)
        image, mask = resized_pair(image, self.data.read_mask(item), self.img_size)
        assert mask is not None
        if self._bytes + image.nbytes + mask.nbytes <= CACHE_BYTES:
            self._cache[index] = image, mask
            self._bytes += image.nbytes + mask.nbytes
        return image, mask


class SegmentationCrops(Dataset):
    """Training batches, indexed ``(epoch, indices)``: N x C x side x side uint8 images and
    N x side x side uint8 masks; each epoch draws new crops and augmentation from
    (seed, epoch, position), so a resumed run repeats the uninterrupted one. An epoch
    holds ``length`` crops (default: one per item), cycling through the items, so that a
    small data set's epoch is long enough to be worth validating after."""

    def __init__(
        self,
        items: Sequence[SegmentationItem],
        data: SegmentationData,
        channels: int,
        side: int,
        img_size: int | None = None,
        augment: str | list[dict[str, Any]] | None = None,
        seed: int = 0,
        length: int | None = None,
    ) -> None:
        self.decoded = _Decoded(items, data, channels, img_size)
        self.side, self.seed = side, seed
        self.length = max(length or 0, len(self.decoded))
        self.pipeline: Compose | None = None
        if augment and augment != "none":
            self.pipeline = build_pipeline(augment, task="segment")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: tuple[int, Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, indices = key
        pairs = [self._sample(int(index), epoch) for index in indices]
        images = np.stack([image.reshape(self.side, self.side, -1) for image, _ in pairs])
        masks = np.stack([mask for _, mask in pairs])
        return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(masks)

    def _sample(self, position: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        image, mask = self.decoded.pair(position % len(self.decoded))
        rng = np.random.default_rng([self.seed, epoch, position])
        if self.pipeline is not None:
            # a window twice the crop first, so a large image is not warped whole
            window = (min(mask.shape[0], 2 * self.side), min(mask.shape[1], 2 * self.side))
            image, mask = random_crop(image, mask, window, rng)
            sample = self.pipeline(Sample(image, mask=mask), rng)
            image, mask = sample.image, sample.mask
        return random_crop(image, mask, self.side, rng)


class SegmentationImages(Dataset):
    """Validation batches: a list of ``(image, mask)`` uint8 arrays per batch, each at its
    original size (scored there, as ``evaluate`` scores them)."""

    def __init__(
        self, items: Sequence[SegmentationItem], data: SegmentationData, channels: int
    ) -> None:
        self.decoded = _Decoded(items, data, channels, None)

    def __len__(self) -> int:
        return len(self.decoded)

    def __getitem__(self, indices: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.decoded.pair(int(index)) for index in indices]

"""The one value every transform takes and returns: an image and what is drawn on it.

Coordinates are continuous pixel *edges*: pixel ``(row, col)`` covers ``[col, col + 1) x
[row, row + 1)``, so a box ``xyxy = (0, 0, W, H)`` is the whole image and the box of a mask
is ``(min col, min row, max col + 1, max row + 1)``.

Example:
    >>> import numpy as np
    >>> s = Sample(np.zeros((4, 6, 3), np.uint8), boxes=[[1, 1, 3, 4]], labels=[7])
    >>> s.size, s.boxes.dtype, s.labels.tolist()
    ((6, 4), dtype('float32'), [7])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError

MASK_DTYPES = (np.uint8, np.uint16, np.int16, np.int32)
"""Mask dtypes OpenCV resamples without a conversion."""


@dataclass
class Sample:
    """An image (uint8 HxW or HxWxC, RGB) with optional targets that move with it.

    ``boxes`` float32 Nx4 absolute ``xyxy`` with ``labels`` int64 N (zeros when left
    out); ``mask`` HxW (one of :data:`MASK_DTYPES`, same size as the image);
    ``keypoints`` float32 Kx2 ``xy``, kept in order even when they leave the image.
    """

    image: np.ndarray
    boxes: np.ndarray | None = None
    labels: np.ndarray | None = None
    mask: np.ndarray | None = None
    keypoints: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.image = _check_image(self.image)
        if self.boxes is not None:
            self.boxes = _points(self.boxes, 4, "boxes")
            count = len(self.boxes)
            labels = np.zeros(count) if self.labels is None else self.labels
            self.labels = np.asarray(labels, dtype=np.int64).reshape(-1)
            if len(self.labels) != count:
                raise DeepImageError(f"{count} boxes but {len(self.labels)} labels")
        elif self.labels is not None:
            raise DeepImageError("labels given without boxes")
        if self.mask is not None:
            self.mask = _check_mask(self.mask, self.image.shape[:2])
        if self.keypoints is not None:
            self.keypoints = _points(self.keypoints, 2, "keypoints")

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.image.shape[1], self.image.shape[0]

    def replace(self, **changes: Any) -> Sample:
        """A copy with some fields replaced (arrays are shared, not copied)."""
        return dataclasses.replace(self, **changes)


def _check_image(image: Any) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise DeepImageError(
            f"image must be uint8 HxW or HxWxC, not {image.dtype} with shape {image.shape}"
        )
    return image


def _check_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype == bool:
        mask = mask.view(np.uint8)
    if mask.dtype not in MASK_DTYPES or mask.shape != shape:
        raise DeepImageError(
            f"mask must be HxW {shape} of uint8, uint16, int16 or int32, not {mask.dtype} "
            f"{mask.shape}; cast it with mask.astype(np.int32)"
        )
    return mask


def _points(values: Any, width: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    if array.size == 0:
        return array.reshape(0, width)
    if array.ndim != 2 or array.shape[1] != width:
        raise DeepImageError(f"{name} must be an Nx{width} array, not shape {array.shape}")
    return array

"""Photometric transforms: they change pixel values only; boxes, masks and keypoints stay.

Example:
    >>> import numpy as np
    >>> s = Sample(np.full((8, 8, 3), 100, np.uint8), boxes=[[1, 1, 4, 4]], labels=[0])
    >>> out = ColorJitter(brightness=0.5)(s, np.random.default_rng(0))
    >>> out.boxes is s.boxes, out.image.dtype
    (True, dtype('uint8'))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from deepimage.transforms.base import Transform, pair
from deepimage.transforms.sample import Sample

_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])
_LEVELS = np.arange(256, dtype=np.float32)


@dataclass
class ColorJitter(Transform):
    """Random brightness, contrast, saturation (factors ``1 -/+ x``) and hue (``-/+ x`` turns).

    Each may also be a ``(low, high)`` range.

    Brightness and contrast are one lookup table; saturation and hue one HSV round trip.
    Grey images get brightness and contrast only.
    """

    brightness: float | Sequence[float] = 0.0
    contrast: float | Sequence[float] = 0.0
    saturation: float | Sequence[float] = 0.0
    hue: float | Sequence[float] = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.brightness = pair(self.brightness, "brightness", 1.0)
        self.contrast = pair(self.contrast, "contrast", 1.0)
        self.saturation = pair(self.saturation, "saturation", 1.0)
        self.hue = pair(self.hue, "hue")
        if min(self.brightness[0], self.contrast[0], self.saturation[0]) < 0:
            raise ValueError("brightness, contrast and saturation factors must be >= 0")

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        gain, contrast = rng.uniform(*self.brightness), rng.uniform(*self.contrast)
        saturation, hue = rng.uniform(*self.saturation), rng.uniform(*self.hue)
        image = _brightness_contrast(sample.image, gain, contrast)
        if image.ndim == 3 and image.shape[2] == 3 and (saturation != 1 or hue):
            image = _saturation_hue(image, saturation, hue)
        return sample.replace(image=image)


@dataclass
class GaussianBlur(Transform):
    """Blur with a Gaussian of standard deviation drawn from ``sigma`` (pixels)."""

    sigma: Sequence[float] = (0.1, 2.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.sigma = pair(self.sigma, "sigma")
        if self.sigma[0] <= 0:
            raise ValueError(f"sigma must be positive, not {self.sigma}")

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        sigma = rng.uniform(*self.sigma)
        side = 2 * math.ceil(3 * sigma) + 1
        return sample.replace(image=cv2.GaussianBlur(sample.image, (side, side), sigma))


@dataclass
class GaussianNoise(Transform):
    """Add Gaussian noise of standard deviation drawn from ``std`` (grey levels)."""

    std: Sequence[float] = (5.0, 20.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.std = pair(self.std, "std")

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        noise = rng.standard_normal(sample.image.shape, dtype=np.float32)
        noisy = cv2.scaleAdd(noise, rng.uniform(*self.std), sample.image.astype(np.float32))
        return sample.replace(image=np.clip(noisy, 0, 255).round().astype(np.uint8))


@dataclass
class RandomErasing(Transform):
    """Erase one rectangle of area fraction ``scale`` and aspect ``ratio`` (Cutout).

    ``value`` is a grey level, or None for random noise. torchvision's defaults.
    """

    p: float = field(default=0.5, kw_only=True)
    scale: Sequence[float] = (0.02, 0.33)
    ratio: Sequence[float] = (0.3, 3.3)
    value: int | None = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.scale, self.ratio = pair(self.scale, "scale"), pair(self.ratio, "ratio")

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        height, width = sample.image.shape[:2]
        area = height * width * rng.uniform(*self.scale)
        aspect = math.exp(rng.uniform(*np.log(self.ratio)))
        h = min(height, round(math.sqrt(area / aspect)))
        w = min(width, round(math.sqrt(area * aspect)))
        top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        image = sample.image.copy()
        patch = image[top : top + h, left : left + w]
        patch[...] = self.value if self.value is not None else rng.integers(0, 256, patch.shape)
        return sample.replace(image=image)


def _brightness_contrast(image: np.ndarray, gain: float, contrast: float) -> np.ndarray:
    """``contrast * (gain * x - mean) + mean`` through one lookup table (``mean``: grey mean)."""
    if gain == 1 and contrast == 1:
        return image
    channels = image.shape[2] if image.ndim == 3 else 1
    means = np.array(cv2.sumElems(image)[:channels]) / (image.shape[0] * image.shape[1])
    grey = float(np.dot(means, _GREY_WEIGHTS)) if len(means) == 3 else float(np.mean(means))
    table = contrast * gain * _LEVELS + (1 - contrast) * gain * grey
    return cv2.LUT(image, np.clip(table, 0, 255).round().astype(np.uint8))


def _saturation_hue(image: np.ndarray, saturation: float, hue: float) -> np.ndarray:
    """Scale HSV saturation and rotate hue (``hue`` in turns) with two lookup tables."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue_table = ((_LEVELS + hue * 180) % 180).astype(np.uint8)
    saturation_table = np.clip(_LEVELS * saturation, 0, 255).round().astype(np.uint8)
    identity = _LEVELS.astype(np.uint8)
    tables = np.stack([hue_table, saturation_table, identity], axis=1)[:, None, :]
    return cv2.cvtColor(cv2.LUT(hsv, tables), cv2.COLOR_HSV2RGB)

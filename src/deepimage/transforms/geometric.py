"""Geometric transforms: each draws one 3x3 matrix, and image, mask, boxes and keypoints follow.

A geometric transform only *plans* a :class:`~deepimage.transforms.warp.Warp`;
:class:`~deepimage.transforms.compose.Compose` multiplies the plans of consecutive
geometric steps and resamples once. Angles are degrees, counter-clockwise on screen;
sizes are ``(height, width)`` (an int means a square).

Example:
    >>> import numpy as np
    >>> s = Sample(np.zeros((10, 20, 3), np.uint8), boxes=[[2, 2, 6, 8]], labels=[1])
    >>> HorizontalFlip(p=1.0)(s, np.random.default_rng(0)).boxes.tolist()
    [[14.0, 2.0, 18.0, 8.0]]
    >>> Affine(degrees=30, scale=(0.8, 1.2))(s, np.random.default_rng(0)).image.shape
    (10, 20, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from deepimage.transforms.base import Transform, pair, size_wh
from deepimage.transforms.sample import Sample
from deepimage.transforms.warp import Warp, scaling, translation

Size = tuple[int, int]  # (width, height), as OpenCV and Sample.size


@dataclass(kw_only=True)
class Geometric(Transform):
    """A transform that moves pixels; ``fill`` / ``mask_fill`` paint uncovered canvas."""

    fill: int = 0
    mask_fill: int = 0

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        """The warp for an input of ``size = (w, h)``, drawing its random numbers."""
        raise NotImplementedError

    def draw(self, size: Size, rng: np.random.Generator) -> Warp | None:
        """:meth:`plan`, or None when this call does not fire (probability ``p``)."""
        return self.plan(size, rng) if self.fires(rng) else None

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        return self.plan(sample.size, rng).apply(sample)

    def _warp(self, matrix: np.ndarray, size: Size) -> Warp:
        return Warp(matrix, size, self.fill, self.mask_fill)


@dataclass
class HorizontalFlip(Geometric):
    """Mirror left-right (pixel exact)."""

    p: float = field(default=0.5, kw_only=True)

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        return self._warp(_mirror(size, x=True), size)


@dataclass
class VerticalFlip(Geometric):
    """Mirror top-bottom (pixel exact)."""

    p: float = field(default=0.5, kw_only=True)

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        return self._warp(_mirror(size, x=False), size)


@dataclass
class Affine(Geometric):
    """Rotate, scale, shear and translate about the image centre, in one matrix.

    ``degrees`` and ``shear`` (degrees, x then y) are ranges or ``x`` for ``(-x, x)``;
    ``translate`` is a fraction of width and height; ``scale`` a ``(low, high)`` zoom.
    """

    degrees: float | Sequence[float] = 0.0
    translate: float = 0.0
    scale: Sequence[float] = (1.0, 1.0)
    shear: float | Sequence[float] = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.degrees = pair(self.degrees, "degrees")
        self.scale = pair(self.scale, "scale")
        self.shear = pair(self.shear, "shear")
        if self.scale[0] <= 0 or not 0 <= self.translate <= 1:
            raise ValueError("scale must be positive and translate between 0 and 1")

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        angle = rng.uniform(*self.degrees)
        zoom = rng.uniform(*self.scale)
        shear = rng.uniform(*self.shear, size=2)
        shift = rng.uniform(-self.translate, self.translate, size=2) * size
        linear = _rotation(angle) @ _shear(*shear) * zoom
        return self._warp(_about_centre(linear, size, shift), size)


@dataclass
class Rotate(Geometric):
    """Rotate about the centre by an angle drawn from ``degrees`` (``x`` means ``(-x, x)``)."""

    degrees: float | Sequence[float] = 15.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.degrees = pair(self.degrees, "degrees")

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        return self._warp(_about_centre(_rotation(rng.uniform(*self.degrees)), size), size)


@dataclass
class Translate(Geometric):
    """Shift by up to ``fraction`` of the width and height in each direction."""

    fraction: float = 0.1

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        dx, dy = rng.uniform(-self.fraction, self.fraction, size=2) * size
        return self._warp(translation(dx, dy), size)


@dataclass
class Perspective(Geometric):
    """Move each corner inwards by up to ``distortion`` of half the width / height."""

    distortion: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.distortion < 1:
            raise ValueError(f"distortion must be in [0, 1), not {self.distortion}")

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        width, height = size
        src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        inward = rng.uniform(0, self.distortion, size=(4, 2)) * (width / 2, height / 2)
        dst = src + inward * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        return self._warp(cv2.getPerspectiveTransform(src, dst.astype(np.float32)), size)


@dataclass
class RandomResizedCrop(Geometric):
    """Crop a random area fraction ``scale`` with aspect ``ratio``, resized to ``size``.

    torchvision's algorithm (10 tries, then a centre crop); crops start on whole pixels.
    """

    size: int | Sequence[int] = 224
    scale: Sequence[float] = (0.08, 1.0)
    ratio: Sequence[float] = (3 / 4, 4 / 3)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.size = size_wh(self.size)
        self.scale, self.ratio = pair(self.scale, "scale"), pair(self.ratio, "ratio")

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        x, y, w, h = _crop_box(size, self.scale, self.ratio, rng)
        out_w, out_h = self.size
        return self._warp(scaling(out_w / w, out_h / h) @ translation(-x, -y), self.size)


@dataclass
class Resize(Geometric):
    """Resize to ``size = (height, width)`` exactly (aspect ratio not kept)."""

    size: int | Sequence[int] = 224

    def __post_init__(self) -> None:
        super().__post_init__()
        self.size = size_wh(self.size)

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        return self._warp(scaling(self.size[0] / size[0], self.size[1] / size[1]), self.size)


@dataclass
class Letterbox(Geometric):
    """Resize keeping the aspect ratio to fit ``size``, centred on a ``fill`` canvas."""

    size: int | Sequence[int] = 640
    fill: int = field(default=114, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.size = size_wh(self.size)

    def plan(self, size: Size, rng: np.random.Generator) -> Warp:
        zoom = min(self.size[0] / size[0], self.size[1] / size[1])
        dx, dy = ((out - zoom * side) // 2 for out, side in zip(self.size, size, strict=True))
        return self._warp(translation(dx, dy) @ scaling(zoom, zoom), self.size)


def _crop_box(
    size: Size, scale: tuple[float, float], ratio: tuple[float, float], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    width, height = size
    log_ratio = np.log(ratio)
    for _ in range(10):
        area = width * height * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    aspect = min(max(width / height, ratio[0]), ratio[1])
    w, h = min(width, round(height * aspect)), min(height, round(width / aspect))
    return (width - w) // 2, (height - h) // 2, w, h


def _mirror(size: Size, x: bool) -> np.ndarray:
    width, height = size
    return translation(width, 0) @ scaling(-1, 1) if x else translation(0, height) @ scaling(1, -1)


def _rotation(degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, s], [-s, c]])


def _shear(x_degrees: float, y_degrees: float) -> np.ndarray:
    return np.array(
        [[1.0, math.tan(math.radians(x_degrees))], [math.tan(math.radians(y_degrees)), 1.0]]
    )


def _about_centre(
    linear: np.ndarray, size: Size, shift: Sequence[float] = (0.0, 0.0)
) -> np.ndarray:
    """The 3x3 matrix applying a 2x2 ``linear`` map about the canvas centre, then ``shift``."""
    centre = np.asarray(size, dtype=np.float64) / 2
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre + np.asarray(shift) - linear @ centre
    return matrix

"""Checks and helpers shared by the classical operations (private)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process.dtypes import to_float32, to_uint8

Fill = float | tuple[float, ...]
Interpolation = Literal["nearest", "linear", "cubic", "area", "lanczos"]

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}

T = TypeVar("T")


def check_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Raise unless ``image`` is a non-empty uint8/float32 HxW or HxWx3 array."""
    if not isinstance(image, np.ndarray):
        raise DeepImageError(
            f"{name} must be a NumPy array, got {type(image).__name__}; "
            "convert it with numpy.asarray(...)"
        )
    if image.dtype not in (np.uint8, np.float32):
        raise DeepImageError(
            f"{name} has dtype {image.dtype}; pass uint8 (0-255) or float32 (0-1) pixels, "
            "e.g. with deepimage.process.to_uint8 or to_float32"
        )
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise DeepImageError(
            f"{name} has shape {image.shape}; pass a grayscale HxW or an RGB HxWx3 image"
        )
    if image.size == 0:
        raise DeepImageError(f"{name} is empty (shape {image.shape}); pass a non-empty image")
    return image


def check_color(image: np.ndarray, op: str) -> np.ndarray:
    """Raise unless ``image`` is a valid RGB HxWx3 image."""
    if check_image(image).ndim != 3:
        raise DeepImageError(f"{op} needs an RGB HxWx3 image; got grayscale {image.shape}")
    return image


def choose(value: str, options: Mapping[str, T], name: str) -> T:
    """Look ``value`` up in ``options`` or raise an error listing the choices."""
    if value not in options:
        raise DeepImageError(f"unknown {name} {value!r}; choose one of: {', '.join(options)}")
    return options[value]


def check_positive(value: float, name: str) -> float:
    """Raise unless ``value`` > 0."""
    if not value > 0:
        raise DeepImageError(f"{name} must be > 0, got {value}")
    return value


def check_odd(value: int, name: str, minimum: int = 1) -> int:
    """Raise unless ``value`` is an odd integer >= ``minimum``."""
    if int(value) != value or value < minimum or value % 2 == 0:
        raise DeepImageError(f"{name} must be an odd integer >= {minimum}, got {value}")
    return int(value)


def max_value(image: np.ndarray) -> float:
    """Full-scale value of the image's pixel type: 255 for uint8, 1.0 for float32."""
    return 255.0 if image.dtype == np.uint8 else 1.0


def cast_like(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Clip float ``values`` to the range of ``image``'s dtype and cast to it (rounding)."""
    clipped = np.clip(values, 0.0, max_value(image))
    if image.dtype == np.uint8:
        return np.rint(clipped).astype(np.uint8)
    return clipped.astype(np.float32)


def via_uint8(image: np.ndarray, func: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Run an 8-bit-only OpenCV ``func``; float32 goes through uint8 and comes back float32."""
    if image.dtype == np.uint8:
        return func(image)
    return to_float32(func(to_uint8(image)))


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB to grayscale with OpenCV (Rec. 601 luma); grayscale is returned as is."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def border_value(fill: Fill) -> tuple[float, float, float, float]:
    """OpenCV border scalar from one number or a per-channel (R, G, B) tuple."""
    values = [float(fill)] * 3 if np.isscalar(fill) else [float(v) for v in fill]
    if len(values) not in (1, 3):
        raise DeepImageError(f"fill must be one number or three (R, G, B), got {fill!r}")
    return (*values, *[values[-1]] * (4 - len(values)))


def as_matrix(
    values: Sequence[float] | np.ndarray, shape: tuple[int, int], name: str
) -> np.ndarray:
    """A float64 matrix of ``shape`` from nested or flat numbers."""
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.size != shape[0] * shape[1]:
        raise DeepImageError(
            f"{name} needs {shape[0]}x{shape[1]} numbers, got shape {matrix.shape}"
        )
    return matrix.reshape(shape)

"""Checks and helpers shared by the classical operations (private).

Work is bounded the way the decoder bounds pixels: kernels and windows have a largest
side, iterations a largest count, and no operation makes an image of more pixels than
:data:`~deepimage.io.images.DEFAULT_MAX_PIXELS` (what :func:`~deepimage.io.read_image`
would read back).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.io.images import DEFAULT_MAX_PIXELS
from deepimage.process.dtypes import to_float32, to_uint8

MAX_KERNEL = 1001
"""Largest side in pixels of a kernel whose cost grows with its side (Gaussian, box,
median, morphology, adaptive threshold): a 1001 Gaussian takes about 5 s per megapixel."""
MAX_SIGMA = (MAX_KERNEL - 1) / 8
"""Largest Gaussian sigma in pixels (OpenCV's kernel is 8 sigma + 1 wide for float images)."""
MAX_WINDOW = 101
"""Largest side of a window whose cost grows with its area (bilateral diameter, the
non-local means windows)."""
MAX_ITERATIONS = 100
"""Most repetitions of a morphology step."""
MAX_OUTPUT_PIXELS = DEFAULT_MAX_PIXELS
"""Most pixels an operation may produce: what the decoder would refuse to read back."""

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
F = TypeVar("F", bound=Callable[..., np.ndarray])


def option_check(checker: Callable[..., None]) -> Callable[[F], F]:
    """Attach ``checker`` to an operation as its ``check_options``: the checks of its
    options that need no image. The operation calls it first; the registry calls it when
    options are parsed, with every option by name (defaults filled in), so
    ``deepimage process`` refuses bad options before the first image.

    Example:
        >>> def _check(size, **_):
        ...     check_kernel(size, "size")
        >>> @option_check(_check)
        ... def smooth(image, size=3):
        ...     _check(size)
        ...     return image
        >>> smooth.check_options(size=4)
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: size must be an odd integer from 1 to 1001, got 4
    """

    def attach(func: F) -> F:
        func.check_options = checker  # type: ignore[attr-defined]
        return func

    return attach


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
    """Raise unless ``value`` is a finite number > 0."""
    if not (value > 0 and math.isfinite(value)):
        raise DeepImageError(f"{name} must be a finite number > 0, got {value}")
    return value


def check_range(value: float, name: str, low: float, high: float) -> float:
    """Raise unless ``low`` <= ``value`` <= ``high`` (so NaN is refused too).

    Example:
        >>> check_range(float("nan"), "sigma", 0, 125)
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: sigma must be between 0 and 125, got nan
    """
    if not low <= value <= high:
        raise DeepImageError(f"{name} must be between {low:g} and {high:g}, got {value}")
    return value


def check_count(value: float, name: str, low: int, high: int) -> int:
    """Raise unless ``value`` is an integer from ``low`` to ``high``."""
    if not (low <= value <= high and int(value) == value):
        raise DeepImageError(f"{name} must be an integer from {low} to {high}, got {value}")
    return int(value)


def check_odd(value: int, name: str, minimum: int = 1, maximum: int = MAX_KERNEL) -> int:
    """Raise unless ``value`` is an odd integer from ``minimum`` to ``maximum``."""
    if not (minimum <= value <= maximum and int(value) == value and value % 2 == 1):
        raise DeepImageError(
            f"{name} must be an odd integer from {minimum} to {maximum}, got {value}"
        )
    return int(value)


def check_kernel(value: int, name: str, maximum: int = MAX_KERNEL) -> int:
    """Raise unless ``value`` is an odd kernel side from 1 to ``maximum``."""
    return check_odd(value, name, 1, maximum)


def check_output_size(width: float, height: float, op: str) -> tuple[int, int]:
    """Raise unless a ``width`` x ``height`` result is at least 1x1 and at most
    :data:`MAX_OUTPUT_PIXELS` pixels; the size as integers.

    Example:
        >>> check_output_size(60000, 60000, "resize")
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: resize would make a 60000x60000 image (3,600,000,000 pixels), over the limit of 89,478,485 pixels; choose a smaller size
    """
    if not (width >= 1 and height >= 1):
        raise DeepImageError(f"{op} would make an empty {width}x{height} image")
    if width * height > MAX_OUTPUT_PIXELS:
        raise DeepImageError(
            f"{op} would make a {width:g}x{height:g} image ({width * height:,.0f} pixels), over "
            f"the limit of {MAX_OUTPUT_PIXELS:,} pixels; choose a smaller size"
        )
    return int(width), int(height)


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

"""Edge detection: Sobel, Scharr, Laplacian gradient magnitudes and Canny edges.

Colour images are converted to grayscale first (``cv2.COLOR_RGB2GRAY``). Gradients are
computed in float32 on the image's own scale; the default uint8 output is the magnitude
on the 0-255 scale, saturated (``cv2.convertScaleAbs``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import (
    check_image,
    check_odd,
    check_range,
    choose,
    option_check,
    to_gray,
    via_uint8,
)

__all__ = ["canny", "canny_thresholds", "laplacian", "scharr", "sobel"]

Direction = Literal["both", "x", "y"]
_AXES = {"both": ((1, 0), (0, 1)), "x": ((1, 0),), "y": ((0, 1),)}


def _magnitude_output(image: np.ndarray, magnitude: np.ndarray, as_float: bool) -> np.ndarray:
    if as_float:
        return magnitude
    return cv2.convertScaleAbs(magnitude, alpha=255.0 if image.dtype == np.float32 else 1.0)


def _gradient(
    image: np.ndarray,
    derivative: Callable[[np.ndarray, int, int], np.ndarray],
    direction: str,
    as_float: bool,
) -> np.ndarray:
    gray = to_gray(check_image(image))
    parts = [derivative(gray, dx, dy) for dx, dy in choose(direction, _AXES, "direction")]
    magnitude = cv2.magnitude(*parts) if len(parts) == 2 else np.abs(parts[0])
    return _magnitude_output(image, magnitude, as_float)


def _check_sobel(ksize: int, **_: Any) -> None:
    check_odd(ksize, "ksize", maximum=7)


@option_check(_check_sobel)
def sobel(
    image: np.ndarray, ksize: int = 3, direction: Direction = "both", as_float: bool = False
) -> np.ndarray:
    """Sobel gradient magnitude (``cv2.Sobel``), HxW.

    Args:
        image: uint8 or float32 HxW or HxWx3 image (colour is converted to gray).
        ksize: odd kernel size 1-7.
        direction: both (sqrt(gx^2 + gy^2)), x (|gx|) or y (|gy|).
        as_float: return float32 magnitude on the input's scale instead of saturated uint8.

    Example:
        >>> import numpy as np
        >>> sobel(np.array([[0, 0, 10, 10]] * 3, np.uint8))[1]
        array([ 0, 40, 40,  0], dtype=uint8)
    """
    _check_sobel(ksize)
    return _gradient(
        image,
        lambda gray, dx, dy: cv2.Sobel(gray, cv2.CV_32F, dx, dy, ksize=int(ksize)),
        direction,
        as_float,
    )


def scharr(image: np.ndarray, direction: Direction = "both", as_float: bool = False) -> np.ndarray:
    """Scharr gradient magnitude (``cv2.Scharr``, a more rotation-accurate 3x3 Sobel), HxW.

    Args:
        image: uint8 or float32 HxW or HxWx3 image (colour is converted to gray).
        direction: both (sqrt(gx^2 + gy^2)), x (|gx|) or y (|gy|).
        as_float: return float32 magnitude on the input's scale instead of saturated uint8.

    Example:
        >>> import numpy as np
        >>> scharr(np.array([[0, 0, 1, 1]] * 3, np.uint8))[1]
        array([ 0, 16, 16,  0], dtype=uint8)
    """
    return _gradient(
        image, lambda gray, dx, dy: cv2.Scharr(gray, cv2.CV_32F, dx, dy), direction, as_float
    )


def _check_laplacian(ksize: int, **_: Any) -> None:
    check_odd(ksize, "ksize", maximum=31)  # OpenCV's largest aperture


@option_check(_check_laplacian)
def laplacian(image: np.ndarray, ksize: int = 1, as_float: bool = False) -> np.ndarray:
    """Absolute Laplacian (``cv2.Laplacian``), HxW.

    Args:
        image: uint8 or float32 HxW or HxWx3 image (colour is converted to gray).
        ksize: odd aperture size up to 31; 1 uses the 3x3 four-neighbour kernel.
        as_float: return float32 |Laplacian| on the input's scale instead of saturated uint8.

    Example:
        >>> import numpy as np
        >>> laplacian(np.array([[0, 0, 0], [0, 10, 0], [0, 0, 0]], np.uint8))[1, 1]
        np.uint8(40)
    """
    _check_laplacian(ksize)
    gray = to_gray(check_image(image))
    magnitude = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=int(ksize)))
    return _magnitude_output(image, magnitude, as_float)


def canny_thresholds(gray: np.ndarray, sigma: float = 0.33) -> tuple[float, float]:
    """Automatic Canny thresholds ``(1 -/+ sigma) x median`` of a uint8 gray image.

    Args:
        gray: uint8 HxW image.
        sigma: relative spread around the median.

    Example:
        >>> import numpy as np
        >>> canny_thresholds(np.full((4, 4), 100, np.uint8))
        (67.0, 133.0)
    """
    median = float(np.median(gray))
    return float(int(max(0.0, (1 - sigma) * median))), float(int(min(255.0, (1 + sigma) * median)))


def _check_canny(
    low: float | None, high: float | None, sigma: float, aperture: int, **_: Any
) -> None:
    if (low is None) != (high is None):
        raise DeepImageError("canny: give both low and high thresholds, or neither for automatic")
    if aperture not in (3, 5, 7):
        raise DeepImageError(f"canny aperture must be 3, 5 or 7, got {aperture}")
    check_range(sigma, "sigma", 0, 1)


@option_check(_check_canny)
def canny(
    image: np.ndarray,
    low: float | None = None,
    high: float | None = None,
    sigma: float = 0.33,
    aperture: int = 3,
    l2_gradient: bool = False,
) -> np.ndarray:
    """Canny edges (``cv2.Canny``): HxW, 255 on edges (1.0 for float32 input), else 0.

    Without thresholds they come from the median (see :func:`canny_thresholds`). Runs in
    8 bits; thresholds are on the 0-255 scale.

    Args:
        image: uint8 or float32 HxW or HxWx3 image (colour is converted to gray).
        low: lower hysteresis threshold (0-255); give with high or leave both unset.
        high: upper hysteresis threshold (0-255).
        sigma: spread (0-1) of the automatic thresholds around the median.
        aperture: Sobel aperture size: 3, 5 or 7.
        l2_gradient: use the exact L2 gradient norm instead of |gx| + |gy|.

    Example:
        >>> import numpy as np
        >>> step = np.zeros((5, 6), np.uint8); step[:, 3:] = 200
        >>> canny(step, 50, 100)[2]
        array([  0,   0, 255,   0,   0,   0], dtype=uint8)
    """
    _check_canny(low, high, sigma, aperture)

    def run(gray: np.ndarray) -> np.ndarray:
        lo, hi = (low, high) if low is not None else canny_thresholds(gray, sigma)
        return cv2.Canny(gray, lo, hi, apertureSize=int(aperture), L2gradient=l2_gradient)

    return via_uint8(to_gray(check_image(image)), run)

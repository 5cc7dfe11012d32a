"""Smoothing and sharpening filters: Gaussian, median, bilateral, box, unsharp mask.

OpenCV filters treat channels alike, so RGB needs no BGR conversion. Borders follow
OpenCV's default (reflect without repeating the edge pixel).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import (
    MAX_KERNEL,
    MAX_SIGMA,
    MAX_WINDOW,
    cast_like,
    check_count,
    check_image,
    check_kernel,
    check_odd,
    check_positive,
    check_range,
    option_check,
    via_uint8,
)

__all__ = ["bilateral_filter", "box_blur", "gaussian_blur", "median_blur", "sharpen"]


def _check_gaussian(sigma: float, ksize: int, **_: Any) -> None:
    check_range(sigma, "sigma", 0, MAX_SIGMA)
    if ksize:
        check_kernel(ksize, "ksize")
    elif sigma == 0:
        raise DeepImageError(f"gaussian_blur needs sigma > 0 or an odd ksize, got {sigma}, {ksize}")


@option_check(_check_gaussian)
def gaussian_blur(image: np.ndarray, sigma: float = 1.0, ksize: int = 0) -> np.ndarray:
    """Gaussian blur (``cv2.GaussianBlur``) with ``sigma`` and/or kernel size ``ksize``.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        sigma: standard deviation in pixels; 0 derives it from ksize.
        ksize: odd kernel side; 0 derives it from sigma.

    Example:
        >>> import numpy as np
        >>> gaussian_blur(np.zeros((8, 8, 3), np.float32), sigma=2).dtype
        dtype('float32')
    """
    _check_gaussian(sigma, ksize)
    check_image(image)
    return cv2.GaussianBlur(image, (int(ksize), int(ksize)), sigmaX=sigma, sigmaY=sigma)


def _check_median(ksize: int, **_: Any) -> None:
    check_odd(ksize, "ksize", minimum=3)


@option_check(_check_median)
def median_blur(image: np.ndarray, ksize: int = 3) -> np.ndarray:
    """Median filter (``cv2.medianBlur``); removes salt-and-pepper noise.

    OpenCV supports float32 only for ksize 3 and 5; larger kernels run float32 images
    through uint8.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        ksize: odd window side, >= 3.

    Example:
        >>> import numpy as np
        >>> median_blur(np.array([[0, 0, 0], [0, 255, 0], [0, 0, 0]], np.uint8))[1, 1]
        np.uint8(0)
    """
    _check_median(ksize)
    if check_image(image).dtype == np.float32 and ksize <= 5:
        return cv2.medianBlur(image, int(ksize))
    return via_uint8(image, lambda img: cv2.medianBlur(img, int(ksize)))


def _check_bilateral(diameter: int, sigma_color: float, sigma_space: float, **_: Any) -> None:
    check_positive(sigma_color, "sigma_color")
    check_positive(sigma_space, "sigma_space")
    if diameter > 0:
        check_count(diameter, "diameter", 1, MAX_WINDOW)
    elif 2 * round(sigma_space * 1.5) + 1 > MAX_WINDOW:
        raise DeepImageError(
            f"bilateral_filter without a diameter takes it from sigma_space, and "
            f"sigma_space {sigma_space} makes it wider than {MAX_WINDOW}; give a diameter "
            f"or a sigma_space up to {(MAX_WINDOW - 1) // 3}"
        )


@option_check(_check_bilateral)
def bilateral_filter(
    image: np.ndarray, diameter: int = 9, sigma_color: float = 75.0, sigma_space: float = 75.0
) -> np.ndarray:
    """Edge-preserving bilateral filter (``cv2.bilateralFilter``).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        diameter: neighbourhood diameter in pixels; <= 0 derives it from sigma_space.
        sigma_color: how different colours may be and still mix, in pixel units
            (0-255 for uint8, 0-1 for float32).
        sigma_space: spatial standard deviation in pixels.

    Example:
        >>> import numpy as np
        >>> bilateral_filter(np.zeros((8, 8), np.uint8)).shape
        (8, 8)
    """
    _check_bilateral(diameter, sigma_color, sigma_space)
    check_image(image)
    return cv2.bilateralFilter(image, int(diameter), sigma_color, sigma_space)


def _check_box(ksize: int, **_: Any) -> None:
    check_range(ksize, "ksize", 1, MAX_KERNEL)


@option_check(_check_box)
def box_blur(image: np.ndarray, ksize: int = 3) -> np.ndarray:
    """Mean over a ``ksize`` x ``ksize`` window (``cv2.blur``).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        ksize: window side in pixels, >= 1.

    Example:
        >>> import numpy as np
        >>> box_blur(np.array([[0, 9, 0]], np.float32), 3)[0, 1]
        np.float32(3.0)
    """
    _check_box(ksize)
    check_image(image)
    return cv2.blur(image, (int(ksize), int(ksize)))


def _check_sharpen(sigma: float, **_: Any) -> None:
    check_positive(sigma, "sigma")
    check_range(sigma, "sigma", 0, MAX_SIGMA)


@option_check(_check_sharpen)
def sharpen(
    image: np.ndarray, amount: float = 1.0, sigma: float = 1.0, threshold: float = 0.0
) -> np.ndarray:
    """Unsharp mask: add ``amount`` x (image - Gaussian blur) where the detail is large enough.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        amount: strength; 0 returns the image, 1 doubles the detail.
        sigma: blur standard deviation in pixels, sets the size of the details sharpened.
        threshold: minimum detail (pixel units: 0-255 uint8, 0-1 float32) that is sharpened,
            so flat noisy areas stay flat.

    Example:
        >>> import numpy as np
        >>> sharpen(np.array([[0, 0, 100, 100]], np.uint8), amount=1, sigma=1)
        array([[  0,   0, 130, 112]], dtype=uint8)
    """
    _check_sharpen(sigma)
    check_image(image)
    pixels = image.astype(np.float32)
    detail = pixels - cv2.GaussianBlur(image, (0, 0), sigma).astype(np.float32)
    if threshold > 0:
        detail[np.abs(detail) < threshold] = 0
    return cast_like(pixels + amount * detail, image)

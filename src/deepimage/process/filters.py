"""Smoothing and sharpening filters: Gaussian, median, bilateral, box, unsharp mask.

OpenCV filters treat channels alike, so RGB needs no BGR conversion. Borders follow
OpenCV's default (reflect without repeating the edge pixel).
"""

from __future__ import annotations

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import cast_like, check_image, check_odd, check_positive, via_uint8

__all__ = ["bilateral_filter", "box_blur", "gaussian_blur", "median_blur", "sharpen"]


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
    check_image(image)
    if sigma < 0 or (sigma == 0 and ksize == 0):
        raise DeepImageError(f"gaussian_blur needs sigma > 0 or an odd ksize, got {sigma}, {ksize}")
    if ksize:
        check_odd(ksize, "ksize")
    return cv2.GaussianBlur(image, (int(ksize), int(ksize)), sigmaX=sigma, sigmaY=sigma)


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
    check_odd(ksize, "ksize", minimum=3)
    if check_image(image).dtype == np.float32 and ksize <= 5:
        return cv2.medianBlur(image, int(ksize))
    return via_uint8(image, lambda img: cv2.medianBlur(img, int(ksize)))


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
    check_image(image)
    check_positive(sigma_color, "sigma_color")
    check_positive(sigma_space, "sigma_space")
    return cv2.bilateralFilter(image, int(diameter), sigma_color, sigma_space)


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
    check_image(image)
    size = int(check_positive(ksize, "ksize"))
    return cv2.blur(image, (size, size))


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
    check_image(image)
    check_positive(sigma, "sigma")
    pixels = image.astype(np.float32)
    detail = pixels - cv2.GaussianBlur(image, (0, 0), sigma).astype(np.float32)
    if threshold > 0:
        detail[np.abs(detail) < threshold] = 0
    return cast_like(pixels + amount * detail, image)

"""Thresholds: global, Otsu and adaptive, giving HxW binary masks.

Colour images are converted to grayscale first (``cv2.COLOR_RGB2GRAY``). Masks keep the
input's dtype: 0/255 for uint8, 0/1 for float32.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from deepimage.process._common import (
    check_image,
    check_odd,
    choose,
    max_value,
    option_check,
    to_gray,
    via_uint8,
)

__all__ = ["adaptive_threshold", "otsu_threshold", "threshold"]

_ADAPTIVE = {"mean": cv2.ADAPTIVE_THRESH_MEAN_C, "gaussian": cv2.ADAPTIVE_THRESH_GAUSSIAN_C}


def _binary_type(invert: bool) -> int:
    return cv2.THRESH_BINARY_INV if invert else cv2.THRESH_BINARY


def threshold(image: np.ndarray, value: float = 127.0, invert: bool = False) -> np.ndarray:
    """Global threshold (``cv2.threshold``): foreground where pixel > value.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        value: threshold in pixel units (0-255 uint8, 0-1 float32).
        invert: mark pixels <= value instead.

    Example:
        >>> import numpy as np
        >>> threshold(np.array([[10, 200]], np.uint8), 127)
        array([[  0, 255]], dtype=uint8)
    """
    gray = to_gray(check_image(image))
    return cv2.threshold(gray, value, max_value(gray), _binary_type(invert))[1]


def otsu_threshold(image: np.ndarray, invert: bool = False) -> np.ndarray:
    """Global threshold chosen by Otsu's method (``cv2.THRESH_OTSU``, in 8 bits).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        invert: mark the dark side as foreground.

    Example:
        >>> import numpy as np
        >>> otsu_threshold(np.array([[10, 20, 200, 210]], np.uint8))
        array([[  0,   0, 255, 255]], dtype=uint8)
    """
    flags = _binary_type(invert) | cv2.THRESH_OTSU
    return via_uint8(to_gray(check_image(image)), lambda g: cv2.threshold(g, 0, 255, flags)[1])


def _check_adaptive(block_size: int, **_: Any) -> None:
    check_odd(block_size, "block_size", minimum=3)


@option_check(_check_adaptive)
def adaptive_threshold(
    image: np.ndarray,
    method: Literal["gaussian", "mean"] = "gaussian",
    block_size: int = 11,
    c: float = 2.0,
    invert: bool = False,
) -> np.ndarray:
    """Local threshold (``cv2.adaptiveThreshold``): pixel > local mean - c, in 8 bits.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        method: gaussian (Gaussian-weighted neighbourhood) or mean (plain mean).
        block_size: odd neighbourhood side in pixels, >= 3.
        c: constant subtracted from the local mean (0-255 scale).
        invert: mark pixels <= local threshold instead.

    Example:
        >>> import numpy as np
        >>> adaptive_threshold(np.zeros((5, 5), np.uint8), block_size=3).max()
        np.uint8(255)
    """
    flag = choose(method, _ADAPTIVE, "adaptive method")
    _check_adaptive(block_size)
    return via_uint8(
        to_gray(check_image(image)),
        lambda g: cv2.adaptiveThreshold(g, 255, flag, _binary_type(invert), int(block_size), c),
    )

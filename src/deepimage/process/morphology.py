"""Morphology: erode, dilate, opening, closing and gradient with a chosen kernel.

OpenCV applies the same kernel to every channel, so RGB needs no BGR conversion.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from deepimage.process._common import (
    MAX_ITERATIONS,
    MAX_KERNEL,
    check_count,
    check_image,
    choose,
    option_check,
)

__all__ = ["closing", "dilate", "erode", "morph_gradient", "opening", "structuring_element"]

KernelShape = Literal["rect", "ellipse", "cross"]
_SHAPES = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}


def structuring_element(shape: KernelShape = "rect", size: int = 3) -> np.ndarray:
    """A ``size`` x ``size`` uint8 kernel (``cv2.getStructuringElement``).

    Args:
        shape: rect, ellipse or cross.
        size: kernel side in pixels, 1-1001.

    Example:
        >>> structuring_element("cross", 3)
        array([[0, 1, 0],
               [1, 1, 1],
               [0, 1, 0]], dtype=uint8)
    """
    side = check_count(size, "size", 1, MAX_KERNEL)
    return cv2.getStructuringElement(choose(shape, _SHAPES, "kernel shape"), (side, side))


def _check_morph(size: int, iterations: int, **_: Any) -> None:
    check_count(size, "size", 1, MAX_KERNEL)
    check_count(iterations, "iterations", 1, MAX_ITERATIONS)


def _morph(image: np.ndarray, op: int, shape: str, size: int, iterations: int) -> np.ndarray:
    _check_morph(size, iterations)
    check_image(image)
    kernel = structuring_element(shape, size)
    return cv2.morphologyEx(image, op, kernel, iterations=int(iterations))


@option_check(_check_morph)
def erode(
    image: np.ndarray, shape: KernelShape = "rect", size: int = 3, iterations: int = 1
) -> np.ndarray:
    """Erosion (``cv2.erode``): local minimum, shrinks bright regions.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        shape: kernel shape: rect, ellipse or cross.
        size: kernel side in pixels.
        iterations: times the erosion is applied.

    Example:
        >>> import numpy as np
        >>> int(erode(np.pad(np.ones((3, 3), np.uint8), 1)).sum())
        1
    """
    return _morph(image, cv2.MORPH_ERODE, shape, size, iterations)


@option_check(_check_morph)
def dilate(
    image: np.ndarray, shape: KernelShape = "rect", size: int = 3, iterations: int = 1
) -> np.ndarray:
    """Dilation (``cv2.dilate``): local maximum, grows bright regions.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        shape: kernel shape: rect, ellipse or cross.
        size: kernel side in pixels.
        iterations: times the dilation is applied.

    Example:
        >>> import numpy as np
        >>> int(dilate(np.pad(np.ones((1, 1), np.uint8), 2)).sum())
        9
    """
    return _morph(image, cv2.MORPH_DILATE, shape, size, iterations)


@option_check(_check_morph)
def opening(
    image: np.ndarray, shape: KernelShape = "rect", size: int = 3, iterations: int = 1
) -> np.ndarray:
    """Opening (erode then dilate): removes bright specks smaller than the kernel.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        shape: kernel shape: rect, ellipse or cross.
        size: kernel side in pixels.
        iterations: times each step is applied.

    Example:
        >>> import numpy as np
        >>> int(opening(np.pad(np.ones((1, 1), np.uint8), 2)).sum())
        0
    """
    return _morph(image, cv2.MORPH_OPEN, shape, size, iterations)


@option_check(_check_morph)
def closing(
    image: np.ndarray, shape: KernelShape = "rect", size: int = 3, iterations: int = 1
) -> np.ndarray:
    """Closing (dilate then erode): fills dark holes smaller than the kernel.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        shape: kernel shape: rect, ellipse or cross.
        size: kernel side in pixels.
        iterations: times each step is applied.

    Example:
        >>> import numpy as np
        >>> ring = np.ones((5, 5), np.uint8); ring[2, 2] = 0
        >>> int(closing(ring)[2, 2])
        1
    """
    return _morph(image, cv2.MORPH_CLOSE, shape, size, iterations)


@option_check(_check_morph)
def morph_gradient(
    image: np.ndarray, shape: KernelShape = "rect", size: int = 3, iterations: int = 1
) -> np.ndarray:
    """Morphological gradient (dilation - erosion): outlines of regions.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        shape: kernel shape: rect, ellipse or cross.
        size: kernel side in pixels.
        iterations: times each step is applied.

    Example:
        >>> import numpy as np
        >>> int(morph_gradient(np.pad(np.ones((3, 3), np.uint8), 2)).sum())
        24
    """
    return _morph(image, cv2.MORPH_GRADIENT, shape, size, iterations)

"""Conversions between the two pixel types the operations accept: uint8 and float32.

uint8 images hold 0-255; float32 images hold 0-1.
"""

from __future__ import annotations

import numpy as np

from deepimage.errors import DeepImageError

__all__ = ["to_float32", "to_uint8"]


def _check_array(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise DeepImageError(f"expected a NumPy array, got {type(image).__name__}")
    if not (image.dtype == np.uint8 or image.dtype == bool or image.dtype.kind == "f"):
        raise DeepImageError(
            f"cannot convert dtype {image.dtype}: pass uint8 (0-255), float (0-1) or bool pixels"
        )
    return image


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as uint8 0-255 (float 0-1 is scaled, clipped and rounded).

    A uint8 image is returned as is; bool becomes 0/255.

    Args:
        image: uint8, bool or float (0-1) array of any shape.

    Example:
        >>> import numpy as np
        >>> to_uint8(np.array([0.0, 0.5, 1.0, 2.0], np.float32))
        array([  0, 128, 255, 255], dtype=uint8)
    """
    image = _check_array(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * np.uint8(255)
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_float32(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float32 0-1 (uint8 is divided by 255).

    A float32 image is returned as is; other floats are cast; bool becomes 0/1.

    Args:
        image: uint8, bool or float array of any shape.

    Example:
        >>> import numpy as np
        >>> to_float32(np.array([0, 51, 255], np.uint8))
        array([0. , 0.2, 1. ], dtype=float32)
    """
    image = _check_array(image)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / np.float32(255.0)
    return image.astype(np.float32, copy=False)

"""Image quality metrics: MSE, PSNR and SSIM between two images of equal shape and dtype.

``data_range`` defaults to the full scale of the dtype: 255 for uint8, 1.0 for float32.
"""

from __future__ import annotations

import math

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import check_image, max_value

__all__ = ["mse", "psnr", "ssim"]


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    check_image(a, "first image")
    check_image(b, "second image")
    if a.shape != b.shape or a.dtype != b.dtype:
        raise DeepImageError(
            f"images differ: {a.shape} {a.dtype} vs {b.shape} {b.dtype}; "
            "resize or convert one so shape and dtype match"
        )


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error, in squared pixel units.

    Args:
        a: uint8 or float32 HxW or HxWx3 image.
        b: image of the same shape and dtype.

    Example:
        >>> import numpy as np
        >>> mse(np.zeros((2, 2), np.uint8), np.full((2, 2), 3, np.uint8))
        9.0
    """
    _check_pair(a, b)
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def psnr(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images.

    Args:
        a: uint8 or float32 HxW or HxWx3 image.
        b: image of the same shape and dtype.
        data_range: peak value (default: 255 for uint8, 1.0 for float32).

    Example:
        >>> import numpy as np
        >>> round(psnr(np.zeros((2, 2), np.uint8), np.full((2, 2), 3, np.uint8)), 2)
        38.59
    """
    error = mse(a, b)
    peak = max_value(a) if data_range is None else data_range
    return math.inf if error == 0 else 10.0 * math.log10(peak**2 / error)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """Structural similarity (scikit-image, 7x7 window; colour averaged over channels).

    Args:
        a: uint8 or float32 HxW or HxWx3 image, at least 7x7.
        b: image of the same shape and dtype.
        data_range: peak-to-peak range (default: 255 for uint8, 1.0 for float32).

    Example:
        >>> import numpy as np
        >>> image = np.arange(64, dtype=np.uint8).reshape(8, 8)
        >>> ssim(image, image)
        1.0
    """
    _check_pair(a, b)
    if min(a.shape[:2]) < 7:
        raise DeepImageError(f"ssim needs images of at least 7x7 pixels, got {a.shape[:2]}")
    from skimage.metrics import structural_similarity  # scipy: 0.4 s to import, load late

    return float(
        structural_similarity(
            a,
            b,
            data_range=max_value(a) if data_range is None else data_range,
            channel_axis=-1 if a.ndim == 3 else None,
        )
    )

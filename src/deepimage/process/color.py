"""Colour: colour-space conversion, grayscale, tone curves, white balance, equalisation.

Images are RGB; the OpenCV ``COLOR_RGB2*`` codes are used directly, so no BGR step is
needed. Tone curves run through a 256-entry lookup table (``cv2.LUT``) for uint8 and
directly on float32 pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import (
    cast_like,
    check_color,
    check_count,
    check_image,
    check_positive,
    choose,
    max_value,
    option_check,
    to_gray,
    via_uint8,
)

__all__ = [
    "adjust_brightness_contrast",
    "adjust_gamma",
    "auto_contrast",
    "clahe",
    "convert_color",
    "equalize_hist",
    "grayscale",
    "white_balance",
]

ColorSpace = Literal["rgb", "bgr", "gray", "hsv", "hls", "lab", "luv", "ycrcb", "xyz", "yuv"]
_CV_NAMES = {
    "rgb": "RGB",
    "bgr": "BGR",
    "gray": "GRAY",
    "hsv": "HSV",
    "hls": "HLS",
    "lab": "Lab",
    "luv": "Luv",
    "ycrcb": "YCrCb",
    "xyz": "XYZ",
    "yuv": "YUV",
}


_MAX_TILES = 256  # OpenCV's CLAHE keeps a histogram per tile


def _convert(image: np.ndarray, source: str, target: str) -> np.ndarray:
    code = getattr(cv2, f"COLOR_{_CV_NAMES[source]}2{_CV_NAMES[target]}", None)
    if code is None:
        return _convert(_convert(image, source, "rgb"), "rgb", target)
    return cv2.cvtColor(image, code)


def convert_color(image: np.ndarray, to: ColorSpace, source: ColorSpace = "rgb") -> np.ndarray:
    """Convert between colour spaces with ``cv2.cvtColor``.

    Value ranges follow OpenCV: for uint8, HSV/HLS hue is 0-179 and Lab is scaled to 0-255;
    for float32, hue is 0-360 and L is 0-100. Pairs OpenCV lacks (e.g. hsv to lab) go
    through RGB.

    Args:
        image: uint8 or float32 image, HxW for gray, HxWx3 otherwise.
        to: target colour space: rgb, bgr, gray, hsv, hls, lab, luv, ycrcb, xyz or yuv.
        source: colour space of the input (default rgb).

    Example:
        >>> import numpy as np
        >>> convert_color(np.array([[[255, 0, 0]]], np.uint8), "bgr")
        array([[[  0,   0, 255]]], dtype=uint8)
    """
    check_image(image)
    for space in (to, source):
        choose(space, _CV_NAMES, "colour space")
    if (source == "gray") != (image.ndim == 2):
        raise DeepImageError(
            f"convert_color: source {source!r} does not match image shape {image.shape}; "
            "gray images are HxW, the other spaces HxWx3"
        )
    return image.copy() if to == source else _convert(image, source, to)


def grayscale(image: np.ndarray) -> np.ndarray:
    """Convert RGB to grayscale HxW (Rec. 601 luma); a gray image comes back as a copy.

    Args:
        image: uint8 or float32 HxW or HxWx3 RGB image.

    Example:
        >>> import numpy as np
        >>> grayscale(np.full((2, 2, 3), 200, np.uint8)).shape
        (2, 2)
    """
    return to_gray(check_image(image)).copy()


def _apply_curve(image: np.ndarray, curve: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Map pixels through ``curve`` defined on 0-1 values (a LUT for uint8)."""
    check_image(image)
    if image.dtype == np.uint8:
        lut = cast_like(curve(np.arange(256, dtype=np.float64) / 255.0) * 255.0, image)
        return cv2.LUT(image, lut)
    return cast_like(curve(image), image)


def adjust_brightness_contrast(
    image: np.ndarray, brightness: float = 0.0, contrast: float = 1.0
) -> np.ndarray:
    """Scale contrast about mid-grey, then add brightness: ``(x - 0.5) * contrast + 0.5 + b``.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        brightness: offset as a fraction of full scale, -1 to 1 (0.1 adds 25.5 to uint8).
        contrast: contrast factor; 1 keeps, above 1 increases, 0 gives flat grey.

    Example:
        >>> import numpy as np
        >>> adjust_brightness_contrast(np.array([[100]], np.uint8), brightness=0.2)
        array([[151]], dtype=uint8)
    """
    return _apply_curve(image, lambda x: (x - 0.5) * contrast + 0.5 + brightness)


def _check_gamma(gamma: float, **_: Any) -> None:
    check_positive(gamma, "gamma")


@option_check(_check_gamma)
def adjust_gamma(image: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """Apply the power law ``x ** gamma`` on 0-1 values (gamma < 1 brightens).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        gamma: exponent, > 0.

    Example:
        >>> import numpy as np
        >>> adjust_gamma(np.array([[64]], np.uint8), 0.5)
        array([[128]], dtype=uint8)
    """
    _check_gamma(gamma)
    return _apply_curve(image, lambda x: x**gamma)


def _check_auto_contrast(low: float, high: float, **_: Any) -> None:
    if not 0 <= low < high <= 100:
        raise DeepImageError(f"auto_contrast needs 0 <= low < high <= 100, got {low}, {high}")


@option_check(_check_auto_contrast)
def auto_contrast(image: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Stretch levels so the ``low``/``high`` percentiles become black/white.

    All channels share one stretch, so hues are kept.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        low: percentile (0-100) mapped to black; darker pixels are clipped.
        high: percentile (0-100) mapped to white; brighter pixels are clipped.

    Example:
        >>> import numpy as np
        >>> auto_contrast(np.array([[50, 100, 250]], np.uint8), 0, 100)
        array([[  0,  64, 255]], dtype=uint8)
    """
    _check_auto_contrast(low, high)
    lo, hi = np.percentile(check_image(image), (low, high)) / max_value(image)
    if hi <= lo:
        return image.copy()
    return _apply_curve(image, lambda x: (x - lo) / (hi - lo))


def white_balance(image: np.ndarray) -> np.ndarray:
    """Grey-world white balance: scale R, G, B so their means equal the overall mean.

    Args:
        image: uint8 or float32 RGB HxWx3 image.

    Example:
        >>> import numpy as np
        >>> white_balance(np.array([[[100, 50, 150]]], np.uint8))
        array([[[100, 100, 100]]], dtype=uint8)
    """
    means = check_color(image, "white_balance").reshape(-1, 3).mean(axis=0)
    gains = means.mean() / np.maximum(means, 1e-6)
    return cast_like(image.astype(np.float32) * gains.astype(np.float32), image)


def _on_channel(
    image: np.ndarray, space: str, func: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply ``func`` to uint8 gray, or to channel 0 of ``space`` for RGB."""
    if image.ndim == 2:
        return func(image)
    converted = _convert(image, "rgb", space)
    converted[..., 0] = func(converted[..., 0])
    return _convert(converted, space, "rgb")


def equalize_hist(image: np.ndarray) -> np.ndarray:
    """Histogram equalisation (``cv2.equalizeHist``); colour on Y of YCrCb.

    Runs in 8 bits; float32 goes through uint8 and comes back float32.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.

    Example:
        >>> import numpy as np
        >>> equalize_hist(np.array([[10, 20], [20, 30]], np.uint8))
        array([[  0, 170],
               [170, 255]], dtype=uint8)
    """
    check_image(image)
    return via_uint8(image, lambda img: _on_channel(img, "ycrcb", cv2.equalizeHist))


def _check_clahe(clip_limit: float, tile_grid: int, **_: Any) -> None:
    check_positive(clip_limit, "clip_limit")
    check_count(tile_grid, "tile_grid", 1, _MAX_TILES)


@option_check(_check_clahe)
def clahe(image: np.ndarray, clip_limit: float = 2.0, tile_grid: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation; colour on L of LAB.

    Runs in 8 bits; float32 goes through uint8 and comes back float32.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        clip_limit: contrast limit per tile (OpenCV's clipLimit), > 0.
        tile_grid: number of tiles along each side (tile_grid x tile_grid grid).

    Example:
        >>> import numpy as np
        >>> clahe(np.zeros((32, 32, 3), np.uint8)).shape
        (32, 32, 3)
    """
    _check_clahe(clip_limit, tile_grid)
    check_image(image)
    tiles = int(tile_grid)
    equalizer = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(tiles, tiles))
    return via_uint8(image, lambda img: _on_channel(img, "lab", equalizer.apply))

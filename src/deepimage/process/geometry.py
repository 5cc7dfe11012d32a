"""Geometry: resize, rotate, crop, translate, flip, pad, affine and perspective warps.

OpenCV's geometric functions treat every channel alike, so RGB images go in and come out
in RGB order with no BGR conversion. A ``fill`` colour is one number or (R, G, B) in the
image's own units (0-255 for uint8, 0-1 for float32).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import (
    INTERPOLATIONS,
    MAX_OUTPUT_PIXELS,
    Fill,
    Interpolation,
    as_matrix,
    border_value,
    check_count,
    check_image,
    check_output_size,
    choose,
    option_check,
)

__all__ = [
    "center_crop",
    "crop",
    "flip",
    "pad",
    "resize",
    "rotate",
    "translate",
    "warp_affine",
    "warp_perspective",
]

PadMode = Literal["constant", "reflect", "symmetric", "replicate"]
_PAD_MODES = {
    "constant": cv2.BORDER_CONSTANT,
    "reflect": cv2.BORDER_REFLECT_101,
    "symmetric": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
}
_FLIPS = {"horizontal": 1, "vertical": 0, "both": -1}


def _size(value: float) -> int:
    return max(1, round(value))


def _check_side(value: float | None, name: str) -> None:
    if value is not None:
        check_count(value, name, 1, MAX_OUTPUT_PIXELS)


def _check_fill(fill: Fill = 0, **_: Any) -> None:
    border_value(fill)


def _check_resize(
    width: int | None,
    height: int | None,
    max_side: int | None,
    letterbox: bool,
    fill: Fill = 0,
    **_: Any,
) -> None:
    _check_fill(fill)
    for value, name in ((width, "width"), (height, "height"), (max_side, "max_side")):
        _check_side(value, name)
    if max_side is not None:
        if width is not None or height is not None or letterbox:
            raise DeepImageError("resize: give max_side alone, without width, height or letterbox")
    elif width is None and height is None:
        raise DeepImageError("resize needs width, height or max_side; pass at least one")
    elif letterbox and (width is None or height is None):
        raise DeepImageError("resize: letterbox needs both width and height")
    elif width is not None and height is not None:
        check_output_size(width, height, "resize")


@option_check(_check_resize)
def resize(
    image: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    *,
    max_side: int | None = None,
    letterbox: bool = False,
    interpolation: Interpolation = "linear",
    fill: Fill = 0,
) -> np.ndarray:
    """Resize to an exact size, keep the aspect ratio, or letterbox into a size.

    Give ``width`` and ``height`` for an exact size (stretching), only one of them to keep
    the aspect ratio, or ``max_side`` to scale the longer side to it.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        width: output width in pixels.
        height: output height in pixels.
        max_side: scale so the longer side has this many pixels (aspect ratio kept).
        letterbox: with width and height, fit inside them keeping the aspect ratio and pad
            the rest with fill, centred.
        interpolation: nearest, linear, cubic, area (best for shrinking) or lanczos.
        fill: letterbox padding colour, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> resize(np.zeros((100, 200, 3), np.uint8), width=50).shape
        (25, 50, 3)
        >>> resize(np.zeros((100, 200), np.uint8), 64, 64, letterbox=True).shape
        (64, 64)
    """
    _check_resize(width, height, max_side, letterbox, fill)
    h, w = check_image(image).shape[:2]
    flag = choose(interpolation, INTERPOLATIONS, "interpolation")
    if max_side is not None:
        scale = max_side / max(h, w)
        size = check_output_size(_size(w * scale), _size(h * scale), "resize")
        return cv2.resize(image, size, interpolation=flag)
    if letterbox:
        return _letterbox(image, width, height, flag, fill)
    size = check_output_size(
        width if width is not None else _size(w * height / h),
        height if height is not None else _size(h * width / w),
        "resize",
    )
    return cv2.resize(image, size, interpolation=flag)


def _letterbox(image: np.ndarray, width: int, height: int, flag: int, fill: Fill) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = _size(w * scale), _size(h * scale)
    resized = cv2.resize(image, (new_w, new_h), interpolation=flag)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    return pad(resized, top, height - new_h - top, left, width - new_w - left, fill=fill)


@option_check(_check_fill)
def rotate(
    image: np.ndarray,
    angle: float,
    expand: bool = False,
    interpolation: Interpolation = "linear",
    fill: Fill = 0,
) -> np.ndarray:
    """Rotate counter-clockwise by ``angle`` degrees about the image centre.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        angle: rotation in degrees, counter-clockwise (negative turns clockwise).
        expand: grow the canvas so the whole rotated image fits; otherwise keep the size
            and cut the corners.
        interpolation: nearest, linear, cubic, area or lanczos.
        fill: colour of the uncovered area, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> rotate(np.zeros((100, 200), np.uint8), 90, expand=True).shape
        (200, 100)
    """
    h, w = check_image(image).shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), float(angle), 1.0)
    if not expand:
        return warp_affine(image, matrix, interpolation=interpolation, fill=fill)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w = math.ceil(round(h * sin + w * cos, 6))
    new_h = math.ceil(round(h * cos + w * sin, 6))
    check_output_size(new_w, new_h, "rotate")
    matrix[:, 2] += ((new_w - w) / 2, (new_h - h) / 2)
    return warp_affine(image, matrix, new_w, new_h, interpolation=interpolation, fill=fill)


def _check_crop(box: Sequence[int], **_: Any) -> None:
    if len(box) != 4:
        raise DeepImageError(f"crop box must be x1,y1,x2,y2, got {box!r}")
    x1, y1, x2, y2 = box
    if not (0 <= x1 < x2 and 0 <= y1 < y2):
        raise DeepImageError(f"crop box {box!r} is empty; use 0 <= x1 < x2 and 0 <= y1 < y2")


@option_check(_check_crop)
def crop(image: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """Cut out the box ``(x1, y1, x2, y2)`` (pixels, x2/y2 exclusive) as a new array.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        box: x1,y1,x2,y2 inside the image, with x1 < x2 and y1 < y2.

    Example:
        >>> import numpy as np
        >>> crop(np.zeros((100, 200, 3), np.uint8), (10, 20, 60, 40)).shape
        (20, 50, 3)
    """
    _check_crop(box)
    h, w = check_image(image).shape[:2]
    x1, y1, x2, y2 = (int(v) for v in box)
    if not (x2 <= w and y2 <= h):
        raise DeepImageError(
            f"crop box {box!r} is outside the {w}x{h} image; "
            f"use 0 <= x1 < x2 <= {w} and 0 <= y1 < y2 <= {h}"
        )
    return image[y1:y2, x1:x2].copy()


def _check_center_crop(width: int, height: int, **_: Any) -> None:
    _check_side(width, "width")
    _check_side(height, "height")


@option_check(_check_center_crop)
def center_crop(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Cut a ``width`` x ``height`` box out of the middle of the image.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        width: crop width, at most the image width.
        height: crop height, at most the image height.

    Example:
        >>> import numpy as np
        >>> center_crop(np.zeros((100, 200), np.uint8), 50, 50).shape
        (50, 50)
    """
    _check_center_crop(width, height)
    h, w = check_image(image).shape[:2]
    if width > w or height > h:
        raise DeepImageError(
            f"center_crop of {width}x{height} does not fit the {w}x{h} image; "
            f"choose at most {w}x{h}"
        )
    left, top = (w - int(width)) // 2, (h - int(height)) // 2
    return crop(image, (left, top, left + int(width), top + int(height)))


@option_check(_check_fill)
def translate(
    image: np.ndarray,
    dx: float,
    dy: float,
    interpolation: Interpolation = "linear",
    fill: Fill = 0,
) -> np.ndarray:
    """Shift the image by ``dx`` pixels right and ``dy`` pixels down, keeping its size.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        dx: shift to the right in pixels (negative: left).
        dy: shift down in pixels (negative: up).
        interpolation: nearest, linear, cubic, area or lanczos (matters for fractional shifts).
        fill: colour of the uncovered area, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> translate(np.full((2, 3), 9, np.uint8), 1, 0)
        array([[0, 9, 9],
               [0, 9, 9]], dtype=uint8)
    """
    matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    return warp_affine(image, matrix, interpolation=interpolation, fill=fill)


def flip(
    image: np.ndarray, direction: Literal["horizontal", "vertical", "both"] = "horizontal"
) -> np.ndarray:
    """Mirror the image left-right (horizontal), top-bottom (vertical) or both.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        direction: horizontal, vertical or both.

    Example:
        >>> import numpy as np
        >>> flip(np.array([[1, 2, 3]], np.uint8))
        array([[3, 2, 1]], dtype=uint8)
    """
    return cv2.flip(check_image(image), choose(direction, _FLIPS, "flip direction"))


def _check_pad(top: int, bottom: int, left: int, right: int, fill: Fill = 0, **_: Any) -> None:
    _check_fill(fill)
    sizes = (top, bottom, left, right)
    if any(not (0 <= v <= MAX_OUTPUT_PIXELS and int(v) == v) for v in sizes):
        raise DeepImageError(f"pad sizes must be integers >= 0, got {sizes}")
    check_output_size(1 + left + right, 1 + top + bottom, "pad")  # even a 1x1 image


@option_check(_check_pad)
def pad(
    image: np.ndarray,
    top: int = 0,
    bottom: int = 0,
    left: int = 0,
    right: int = 0,
    mode: PadMode = "constant",
    fill: Fill = 0,
) -> np.ndarray:
    """Add borders of the given widths.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        top: pixels added above.
        bottom: pixels added below.
        left: pixels added on the left.
        right: pixels added on the right.
        mode: constant (fill), reflect (mirror without repeating the edge, like NumPy's
            reflect), symmetric (mirror repeating the edge) or replicate (repeat the edge).
        fill: colour for mode constant, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> pad(np.array([[1, 2]], np.uint8), left=2, mode="reflect")
        array([[1, 2, 1, 2]], dtype=uint8)
    """
    _check_pad(top, bottom, left, right, fill)
    h, w = check_image(image).shape[:2]
    check_output_size(w + left + right, h + top + bottom, "pad")
    border = choose(mode, _PAD_MODES, "pad mode")
    sizes = (int(top), int(bottom), int(left), int(right))
    return cv2.copyMakeBorder(image, *sizes, border, value=border_value(fill))


def _check_warp_size(width: int | None, height: int | None, fill: Fill = 0, **_: Any) -> None:
    _check_fill(fill)
    _check_side(width, "width")
    _check_side(height, "height")
    if width is not None and height is not None:
        check_output_size(width, height, "warp")


def _check_warp_affine(matrix: Sequence[float] | np.ndarray, **options: Any) -> None:
    as_matrix(matrix, (2, 3), "affine matrix")
    _check_warp_size(**options)


@option_check(_check_warp_affine)
def warp_affine(
    image: np.ndarray,
    matrix: Sequence[float] | np.ndarray,
    width: int | None = None,
    height: int | None = None,
    interpolation: Interpolation = "linear",
    fill: Fill = 0,
) -> np.ndarray:
    """Apply a 2x3 affine matrix that maps input (x, y) to output (x, y).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        matrix: 2x3 affine matrix (six numbers, row by row).
        width: output width (default: input width).
        height: output height (default: input height).
        interpolation: nearest, linear, cubic, area or lanczos.
        fill: colour of the uncovered area, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> warp_affine(np.zeros((10, 20), np.uint8), [[0.5, 0, 0], [0, 0.5, 0]], 10, 5).shape
        (5, 10)
    """
    _check_warp_affine(matrix, width=width, height=height, fill=fill)
    h, w = check_image(image).shape[:2]
    return cv2.warpAffine(
        image,
        as_matrix(matrix, (2, 3), "affine matrix"),
        check_output_size(width or w, height or h, "warp_affine"),
        flags=choose(interpolation, INTERPOLATIONS, "interpolation"),
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value(fill),
    )


def _check_warp_perspective(
    matrix: Sequence[float] | np.ndarray | None,
    src_points: Sequence[float] | np.ndarray | None,
    dst_points: Sequence[float] | np.ndarray | None,
    **options: Any,
) -> None:
    if (matrix is None) == (src_points is None and dst_points is None):
        raise DeepImageError(
            "warp_perspective needs either matrix or both src_points and dst_points"
        )
    if matrix is None:
        as_matrix(src_points, (4, 2), "src_points")
        as_matrix(dst_points, (4, 2), "dst_points")
    else:
        as_matrix(matrix, (3, 3), "perspective matrix")
    _check_warp_size(**options)


@option_check(_check_warp_perspective)
def warp_perspective(
    image: np.ndarray,
    matrix: Sequence[float] | np.ndarray | None = None,
    *,
    src_points: Sequence[float] | np.ndarray | None = None,
    dst_points: Sequence[float] | np.ndarray | None = None,
    width: int | None = None,
    height: int | None = None,
    interpolation: Interpolation = "linear",
    fill: Fill = 0,
) -> np.ndarray:
    """Apply a 3x3 homography, given directly or as four source/destination point pairs.

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        matrix: 3x3 perspective matrix (nine numbers, row by row).
        src_points: four x,y points in the input (instead of matrix).
        dst_points: where those four points go in the output.
        width: output width (default: input width).
        height: output height (default: input height).
        interpolation: nearest, linear, cubic, area or lanczos.
        fill: colour of the uncovered area, one number or R,G,B.

    Example:
        >>> import numpy as np
        >>> square = [(0, 0), (9, 0), (9, 9), (0, 9)]
        >>> ones = np.ones((10, 10), np.uint8)
        >>> same = warp_perspective(ones, src_points=square, dst_points=square)
        >>> int(same.sum())
        100
    """
    _check_warp_perspective(matrix, src_points, dst_points, width=width, height=height, fill=fill)
    h, w = check_image(image).shape[:2]
    if matrix is None:
        src = as_matrix(src_points, (4, 2), "src_points").astype(np.float32)
        dst = as_matrix(dst_points, (4, 2), "dst_points").astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        image,
        as_matrix(matrix, (3, 3), "perspective matrix"),
        check_output_size(width or w, height or h, "warp_perspective"),
        flags=choose(interpolation, INTERPOLATIONS, "interpolation"),
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value(fill),
    )

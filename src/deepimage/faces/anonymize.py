"""Hiding faces: a heavy Gaussian blur or coarse pixels over each face box (OpenCV).

Only the boxes, widened by ``margin`` (a share of the box size on every side, to take
in hair and chin), change; every other pixel stays as it was.

Example:
    >>> import numpy as np
    >>> image = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    >>> hidden = anonymize(image, [[10, 10, 20, 20]], "pixelate", margin=0.0)
    >>> changed = (hidden != image).any(axis=2)
    >>> bool(changed[10:20, 10:20].any()), bool(changed[:10].any() or changed[20:].any())
    (True, False)
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.align import Boxes, as_boxes

Method = Literal["blur", "pixelate"]
METHODS: tuple[Method, ...] = ("blur", "pixelate")


def face_regions(
    boxes: Boxes, shape: tuple[int, ...], margin: float = 0.2
) -> list[tuple[slice, slice]]:
    """(rows, columns) slices of each pixel-edge ``xyxy`` box widened by ``margin``, inside
    ``shape``; a fractional edge takes in the pixel it cuts.

    Example:
        >>> face_regions([[10, 10, 20, 20]], (100, 100), margin=0.5)
        [(slice(5, 25, None), slice(5, 25, None))]
    """
    if margin < 0:
        raise DeepImageError(f"margin must be 0 or more, not {margin}")
    height, width = shape[:2]
    regions = []
    for x1, y1, x2, y2 in as_boxes(boxes).tolist():
        pad_x, pad_y = round((x2 - x1) * margin), round((y2 - y1) * margin)
        rows = slice(max(math.floor(y1) - pad_y, 0), min(math.ceil(y2) + pad_y, height))
        cols = slice(max(math.floor(x1) - pad_x, 0), min(math.ceil(x2) + pad_x, width))
        if rows.stop > rows.start and cols.stop > cols.start:
            regions.append((rows, cols))
    return regions


def anonymize(
    image: np.ndarray,
    boxes: Boxes,
    method: Method = "blur",
    margin: float = 0.2,
    blocks: int = 8,
) -> np.ndarray:
    """A copy of a uint8 image with every face box blurred or pixelated beyond recognition.

    ``blur`` uses a Gaussian with sigma a sixth of the region's larger side;
    ``pixelate`` shows the region as ``blocks`` cells across its width (each cell the
    mean of its pixels).
    """
    if method not in METHODS:
        raise DeepImageError(
            f"unknown anonymize method {method!r}; use one of {', '.join(METHODS)}"
        )
    if blocks < 1:
        raise DeepImageError(f"blocks must be 1 or more, not {blocks}")
    out = np.array(image, copy=True)
    for rows, cols in face_regions(boxes, out.shape, margin):
        region = out[rows, cols]
        out[rows, cols] = _blur(region) if method == "blur" else _pixelate(region, blocks)
    return out


def _blur(region: np.ndarray) -> np.ndarray:
    sigma = max(region.shape[:2]) / 6
    return cv2.GaussianBlur(region, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)


def _pixelate(region: np.ndarray, blocks: int) -> np.ndarray:
    height, width = region.shape[:2]
    cell = max(1, math.ceil(width / blocks))
    small = cv2.resize(
        region,
        (max(1, math.ceil(width / cell)), max(1, math.ceil(height / cell))),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).reshape(region.shape)

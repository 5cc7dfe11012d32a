"""Regions of a binary mask: connected components with statistics, and contours.

Any nonzero pixel of the mask counts as foreground.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import Fill, border_value, check_image, choose

__all__ = ["connected_components", "draw_contours", "find_contours"]

_MODES = {
    "external": cv2.RETR_EXTERNAL,
    "list": cv2.RETR_LIST,
    "ccomp": cv2.RETR_CCOMP,
    "tree": cv2.RETR_TREE,
}
_APPROX = {"simple": cv2.CHAIN_APPROX_SIMPLE, "none": cv2.CHAIN_APPROX_NONE}


def _binary(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.size == 0:
        raise DeepImageError(f"mask must be a non-empty HxW array, got shape {mask.shape}")
    return (mask != 0).astype(np.uint8)


def connected_components(
    mask: np.ndarray, connectivity: Literal[4, 8] = 8
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Label connected foreground regions (``cv2.connectedComponentsWithStats``).

    Args:
        mask: HxW array; nonzero is foreground.
        connectivity: 4 (edge neighbours) or 8 (edge and corner neighbours).

    Returns:
        int32 HxW labels (0 background, 1..N regions) and one dict per region with
        ``label``, ``area`` (pixels), ``bbox`` (x1, y1, x2, y2; x2/y2 exclusive) and
        ``centroid`` (x, y).

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 1:3] = 1; mask[0, 5] = 1
        >>> labels, regions = connected_components(mask)
        >>> regions[0]
        {'label': 1, 'area': 4, 'bbox': (1, 1, 3, 3), 'centroid': (1.5, 1.5)}
    """
    if connectivity not in (4, 8):
        raise DeepImageError(f"connectivity must be 4 or 8, got {connectivity}")
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        _binary(mask), connectivity=connectivity, ltype=cv2.CV_32S
    )
    regions = [
        {
            "label": i,
            "area": int(stats[i, cv2.CC_STAT_AREA]),
            "bbox": (int(x), int(y), int(x + w), int(y + h)),
            "centroid": (float(centroids[i, 0]), float(centroids[i, 1])),
        }
        for i in range(1, count)
        for x, y, w, h in [stats[i, :4]]
    ]
    return labels, regions


def find_contours(
    mask: np.ndarray,
    mode: Literal["external", "list", "ccomp", "tree"] = "external",
    approx: Literal["simple", "none"] = "simple",
) -> list[np.ndarray]:
    """Outlines of foreground regions (``cv2.findContours``) as int32 N x 2 (x, y) arrays.

    Args:
        mask: HxW array; nonzero is foreground.
        mode: external (outer outlines only), list, ccomp or tree (also holes).
        approx: simple (keep only corner points of straight runs) or none (every pixel).

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((5, 5), np.uint8); mask[1:4, 1:4] = 1
        >>> find_contours(mask)[0].tolist()
        [[1, 1], [1, 3], [3, 3], [3, 1]]
    """
    contours, _ = cv2.findContours(
        _binary(mask), choose(mode, _MODES, "contour mode"), choose(approx, _APPROX, "approx")
    )
    return [contour.reshape(-1, 2) for contour in contours]


def draw_contours(
    image: np.ndarray,
    contours: Sequence[np.ndarray],
    color: Fill = (255, 0, 0),
    thickness: int = 1,
) -> np.ndarray:
    """Draw contours on a copy of the image (``cv2.drawContours``).

    Args:
        image: uint8 or float32 HxW or HxWx3 RGB image.
        contours: N x 2 (x, y) point arrays, as from :func:`find_contours`.
        color: line colour, one number or R,G,B in pixel units.
        thickness: line width in pixels; -1 fills the contours.

    Example:
        >>> import numpy as np
        >>> square = np.array([[1, 1], [1, 3], [3, 3], [3, 1]])
        >>> int(draw_contours(np.zeros((5, 5), np.uint8), [square], 255).sum() // 255)
        8
    """
    out = check_image(image).copy()
    points = [np.asarray(c, dtype=np.int32).reshape(-1, 1, 2) for c in contours]
    cv2.drawContours(out, points, -1, border_value(color), int(thickness))
    return out

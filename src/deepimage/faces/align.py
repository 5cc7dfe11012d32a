"""Face landmarks (dlib's 5- or 68-point shape predictors) and aligned face chips.

Example:
    >>> import numpy as np
    >>> image = np.full((100, 100, 3), 128, np.uint8)
    >>> landmarks(image, [[20, 20, 80, 80]], points=5).shape
    (1, 5, 2)
    >>> align(image, [[20, 20, 80, 80]], size=64).shape
    (1, 64, 64, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import dlib
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.detect import as_rgb, dlib_rectangle
from deepimage.faces.models import shape_predictor

Boxes = np.ndarray | Sequence[Sequence[float]]
"""Face boxes: rows of float pixel-edge ``x1, y1, x2, y2`` (``x2 - x1`` is the width)."""


def as_boxes(boxes: Boxes) -> np.ndarray:
    """``boxes`` as an (N, 4) float64 array of pixel-edge ``xyxy`` rows.

    Example:
        >>> as_boxes([(1, 2, 3, 4)]).tolist(), as_boxes([]).shape
        ([[1.0, 2.0, 3.0, 4.0]], (0, 4))
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 4), np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise DeepImageError(f"boxes must be rows of x1, y1, x2, y2, not shape {array.shape}")
    return array


def face_shapes(rgb: np.ndarray, boxes: Boxes, points: Literal[5, 68]) -> Any:
    """dlib's ``full_object_detections`` for ``boxes`` in an RGB image (see :func:`as_rgb`),
    each box given to dlib as its inclusive rectangle (:func:`dlib_rectangle`)."""
    predictor = shape_predictor(points)
    return dlib.full_object_detections(
        [predictor(rgb, dlib_rectangle(box)) for box in as_boxes(boxes)]
    )


def landmarks(image: np.ndarray, boxes: Boxes, points: Literal[5, 68] = 68) -> np.ndarray:
    """(N, points, 2) int64 ``x, y`` landmarks (pixel indices, as dlib gives them) of each
    pixel-edge face box in a uint8 grey or RGB image.

    The 68 points follow the iBUG 300-W order (jaw 0-16, eyebrows 17-26, nose 27-35,
    eyes 36-47, mouth 48-67); the 5 points are the outer and inner corners of each eye
    and the bottom of the nose.
    """
    shapes = face_shapes(as_rgb(image), boxes, points)
    return np.array([[(p.x, p.y) for p in shape.parts()] for shape in shapes], np.int64).reshape(
        -1, points, 2
    )


def align(image: np.ndarray, boxes: Boxes, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """(N, size, size, 3) uint8 RGB face chips: each face rotated upright and scaled.

    The alignment (from the 5-point landmarks) is the one the embedding network sees at
    ``size=150, padding=0.25``.
    """
    rgb = as_rgb(image)
    shapes = face_shapes(rgb, boxes, 5)
    if len(shapes) == 0:
        return np.zeros((0, size, size, 3), np.uint8)
    return np.stack(dlib.get_face_chips(rgb, shapes, size=size, padding=padding))

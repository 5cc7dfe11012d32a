"""One geometric resampling: a 3x3 matrix applied to image, mask, boxes and keypoints together.

Matrices act on continuous pixel-edge coordinates (see :mod:`deepimage.transforms.sample`);
OpenCV's pixel-centre convention is half a pixel away and is converted here, once. The
image is resampled bilinearly, the mask by nearest neighbour, so a mask pixel is set when
its centre maps back inside the source shape: the same rule that makes a transformed box
and its transformed mask agree. Exact flips skip resampling (``cv2.flip``).

Example:
    >>> import numpy as np
    >>> s = Sample(np.zeros((10, 20, 3), np.uint8), boxes=[[2, 2, 6, 8]], labels=[1])
    >>> shift = np.array([[1.0, 0, 5], [0, 1, 0], [0, 0, 1]])
    >>> Warp(shift, (20, 10)).apply(s).boxes.tolist()
    [[7.0, 2.0, 11.0, 8.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from deepimage.transforms.sample import Sample

MIN_BOX_SIZE = 1.0
"""Boxes narrower or lower than this (pixels) after clipping are dropped with their labels."""

_EPS = 1e-4
_TO_CENTRES = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
_TO_EDGES = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Warp:
    """``matrix`` maps input to output edge coordinates; the output is ``size = (w, h)``.

    ``fill`` and ``mask_fill`` are the values of canvas the input does not cover.
    """

    matrix: np.ndarray
    size: tuple[int, int]
    fill: int = 0
    mask_fill: int = 0

    def then(self, other: Warp | None) -> Warp:
        """This warp followed by ``other``, as one warp (``other``'s size and fills)."""
        if other is None:
            return self
        return Warp(other.matrix @ self.matrix, other.size, other.fill, other.mask_fill)

    def apply(self, sample: Sample) -> Sample:
        """``sample`` with every target resampled or moved by this warp."""
        boxes, labels = sample.boxes, sample.labels
        if boxes is not None:
            boxes, keep = transform_boxes(boxes, self.matrix, self.size)
            boxes, labels = boxes[keep], labels[keep]
        return Sample(
            image=self._resample(sample.image, cv2.INTER_LINEAR, self.fill),
            boxes=boxes,
            labels=labels,
            mask=None
            if sample.mask is None
            else self._resample(sample.mask, cv2.INTER_NEAREST, self.mask_fill),
            keypoints=None
            if sample.keypoints is None
            else transform_points(sample.keypoints, self.matrix),
        )

    def _resample(self, array: np.ndarray, interpolation: int, fill: int) -> np.ndarray:
        flip_code = self._flip_code(array.shape)
        if flip_code is not None:
            return array if flip_code == 2 else cv2.flip(array, flip_code).reshape(array.shape)
        matrix = _TO_CENTRES @ self.matrix @ _TO_EDGES
        options = {"flags": interpolation, "borderValue": (fill,) * 4}
        if matrix[2, 0] == matrix[2, 1] == 0:
            out = cv2.warpAffine(array, matrix[:2], self.size, **options)
        else:
            out = cv2.warpPerspective(array, matrix, self.size, **options)
        return out.reshape(*out.shape[:2], *array.shape[2:])

    def _flip_code(self, shape: tuple[int, ...]) -> int | None:
        """cv2.flip's code (2: identity) when the warp only mirrors, else None."""
        height, width = shape[:2]
        m = self.matrix
        if self.size != (width, height) or m[0, 1] or m[1, 0] or tuple(m[2]) != (0, 0, 1):
            return None
        x_flip = (m[0, 0], m[0, 2]) == (-1, width)
        y_flip = (m[1, 1], m[1, 2]) == (-1, height)
        if not (x_flip or (m[0, 0], m[0, 2]) == (1, 0)):
            return None
        if not (y_flip or (m[1, 1], m[1, 2]) == (1, 0)):
            return None
        return {(True, True): -1, (True, False): 1, (False, True): 0, (False, False): 2}[
            (x_flip, y_flip)
        ]


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Nx2 points mapped by a 3x3 matrix (with the perspective division).

    Example:
        >>> transform_points(np.array([[1.0, 2.0]]), np.diag([2.0, 3.0, 1.0])).tolist()
        [[2.0, 6.0]]
    """
    mapped = points.astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]
    return (mapped[:, :2] / mapped[:, 2:]).astype(np.float32)


def transform_boxes(
    boxes: np.ndarray, matrix: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes mapped by ``matrix``: the boxes of what the mapped boxes cover of the canvas.

    Each box's four corners are mapped to a convex quadrilateral. When the matrix keeps
    right angles (flips, shifts, scales, rotations, and their products: the quadrilateral is
    a rectangle), it is clipped to the pixel centres of the ``size = (w, h)`` canvas,
    ``[0.5, w - 0.5] x [0.5, h - 0.5]`` (a side cut there moves out to the canvas edge).
    So a box keeps what covers pixel centres, as its mask does: a rotated box cut by the
    border loses the slivers no pixel shows. ``keep`` says whether the box is at least
    :data:`MIN_BOX_SIZE` wide and high.

    Shear and perspective make acute corners, which can hold no pixel centre for more than
    a pixel; there each box is the box of the canvas pixels whose centres map back inside
    it, the rule by which the nearest-neighbour mask is resampled, so it is the box of its
    transformed mask. ``keep`` says whether it covers a pixel centre at all.

    Example:
        >>> quarter = np.vstack([cv2.getRotationMatrix2D((0, 0), 45, 1.0), [0, 0, 1]])
        >>> boxes, keep = transform_boxes(np.array([[0.0, 0, 10, 10]]), quarter, (20, 20))
        >>> [round(float(v), 2) for v in boxes[0]], keep.tolist()
        ([0.0, 0.0, 13.64, 7.07], [True])
        >>> shear = np.array([[1.0, 1, 0], [0, 1, 0], [0, 0, 1]])  # corners reach x = 6
        >>> boxes, keep = transform_boxes(np.array([[0.0, 0, 4, 2]]), shear, (20, 20))
        >>> boxes.tolist(), keep.tolist()
        ([[0.0, 0.0, 5.0, 2.0]], [True])
    """
    if not _keeps_right_angles(matrix):
        return _rasterised_boxes(boxes, matrix, size)
    x0, y0, x1, y1 = boxes.astype(np.float64).T
    corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 2)
    quads = transform_points(corners, matrix).astype(np.float64).reshape(-1, 4, 2)
    low, high = np.array([0.5, 0.5]), np.asarray(size, np.float64) - 0.5
    out = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)
    cut = ~_inside(quads, low, high).all(axis=1)
    if cut.any():
        out[cut] = _clipped_boxes(quads[cut], low, high)
    keep = (out[:, 2:] - out[:, :2] >= MIN_BOX_SIZE).all(axis=1)
    return out.astype(np.float32), keep


def _keeps_right_angles(matrix: np.ndarray) -> bool:
    """Whether ``matrix`` is affine and maps axis-aligned rectangles to rectangles.

    True for similarities (scaled rotations and reflections) and axis-aligned scaling, and
    any product of a scaling followed by a similarity; false under shear or perspective.
    """
    (a, b), (c, d) = matrix[:2, :2]
    if matrix[2, 0] != 0 or matrix[2, 1] != 0 or matrix[2, 2] != 1:
        return False
    return abs(a * b + c * d) <= 1e-9 * (a * a + b * b + c * c + d * d)


def _rasterised_boxes(
    boxes: np.ndarray, matrix: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Per box, the box of the canvas pixels whose centres map back into it, and whether any does.

    A pixel counts when its centre maps back to ``x0 <= x < x1, y0 <= y < y1``: the source
    pixel nearest neighbour resampling reads lies in the box. Only pixels around the mapped
    box are tested (the whole canvas when the box crosses the perspective horizon).
    """
    last_pixel = np.array(size) - 1
    inverse = np.linalg.inv(matrix.astype(np.float64))
    out = np.zeros((len(boxes), 4))
    keep = np.zeros(len(boxes), bool)
    for row, (x0, y0, x1, y1) in enumerate(boxes.astype(np.float64)):
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]]) @ matrix.T
        first, last = np.zeros(2, int), last_pixel
        if (corners[:, 2] > 0).all() or (corners[:, 2] < 0).all():  # a bounded quadrilateral
            points = corners[:, :2] / corners[:, 2:]
            first = np.clip(np.floor(points.min(axis=0)) - 1, 0, last_pixel + 1).astype(int)
            last = np.clip(np.ceil(points.max(axis=0)) + 1, -1, last_pixel).astype(int)
        if (last < first).any():
            continue
        xs = np.arange(first[0], last[0] + 1) + 0.5
        ys = np.arange(first[1], last[1] + 1)[:, None] + 0.5
        w = inverse[2, 0] * xs + inverse[2, 1] * ys + inverse[2, 2]
        x = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]) / w
        y = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]) / w
        covered = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
        cols, rows = np.flatnonzero(covered.any(axis=0)), np.flatnonzero(covered.any(axis=1))
        if len(cols):
            out[row] = np.tile(first, 2) + np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
            keep[row] = True
    return out.astype(np.float32), keep


def _clipped_boxes(quads: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Boxes of quads clipped to ``[low, high]``, sides cut there moved out by half a pixel.

    A quad that misses the rectangle gets an empty box.
    """
    out = np.zeros((len(quads), 4))
    for row, quad in enumerate(quads):
        polygon = np.array(_clip_polygon(quad.tolist(), low.tolist(), high.tolist())).reshape(-1, 2)
        if len(polygon):
            first, last = polygon.min(axis=0), polygon.max(axis=0)
            first[(first <= low + _EPS) & (quad.min(axis=0) < low)] -= 0.5
            last[(last >= high - _EPS) & (quad.max(axis=0) > high)] += 0.5
            out[row] = *first, *last
    return out


def _clip_polygon(
    points: list[list[float]], low: list[float], high: list[float]
) -> list[list[float]]:
    """Sutherland-Hodgman: the convex polygon ``points`` clipped to the rectangle."""
    for axis, bound, side in ((0, low[0], 1), (0, high[0], -1), (1, low[1], 1), (1, high[1], -1)):
        kept = []
        for start, end in zip(points[-1:] + points[:-1], points, strict=True):
            start_in, end_in = (side * (p[axis] - bound) >= 0 for p in (start, end))
            if start_in != end_in:
                t = (bound - start[axis]) / (end[axis] - start[axis])
                kept.append([a + t * (b - a) for a, b in zip(start, end, strict=True)])
            if end_in:
                kept.append(end)
        points = kept
    return points


def _inside(points: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return ((points >= low - _EPS) & (points <= high + _EPS)).all(axis=-1)


def translation(dx: float, dy: float) -> np.ndarray:
    """The 3x3 matrix that shifts by ``(dx, dy)``."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def scaling(sx: float, sy: float) -> np.ndarray:
    """The 3x3 matrix that scales x by ``sx`` and y by ``sy`` (about the origin)."""
    return np.diag([sx, sy, 1.0])

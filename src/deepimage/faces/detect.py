"""Finding faces: dlib's HOG and CNN (MMOD) detectors and OpenCV's Haar cascade.

Boxes are float pixel-edge ``[x1, y1, x2, y2]`` (``x2 - x1`` is the width; a box over a
whole W x H image is ``[0, 0, W, H]``), the convention of every public boundary of
deepimage. dlib's rectangles are inclusive (``right`` and ``bottom`` are the last pixel
inside the face), so they are converted here, and back by :func:`dlib_rectangle` for the
landmark and embedding calls, exactly. dlib's rectangles are clipped first the way
face_recognition's ``face_locations`` clips them, so HOG boxes are its boxes (converted)
and the embeddings its embeddings; that clipping keeps a right or bottom at the image's
width or height, so a face cut by the right or bottom edge ends one pixel past it
(``x2 = W + 1``).

Example:
    >>> import numpy as np
    >>> found = detect(np.zeros((60, 80, 3), np.uint8))
    >>> found.boxes.shape, found.scores.shape
    ((0, 4), (0,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import cv2
import dlib
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.models import cnn_detector, haar_detector, hog_detector

Method = Literal["hog", "cnn", "haar"]
METHODS: tuple[Method, ...] = ("hog", "cnn", "haar")


class Detections(NamedTuple):
    """Faces found in one image: ``boxes`` (N, 4) float64 pixel-edge ``xyxy`` and
    ``scores`` (N,)."""

    boxes: np.ndarray
    scores: np.ndarray


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A C-contiguous uint8 HxWx3 RGB copy-or-view of a grey or RGB(A) uint8 image.

    Example:
        >>> as_rgb(np.zeros((2, 3), np.uint8)).shape
        (2, 3, 3)
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise DeepImageError(f"face functions take uint8 images, not {image.dtype}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[..., :3])
    raise DeepImageError(f"face functions take HxW or HxWx3 images, not shape {image.shape}")


def detect(image: np.ndarray, method: Method = "hog", upsample: int = 1) -> Detections:
    """Find the faces in a uint8 grey or RGB image.

    ``method``: ``"hog"`` (dlib's HOG detector: the default, fast on a CPU), ``"cnn"``
    (dlib's MMOD CNN: finds more faces at more angles, about 20x slower on a CPU) or
    ``"haar"`` (OpenCV's Haar cascade: fastest, most false positives). ``upsample``
    doubles the image that many times first, which finds smaller faces (HOG's smallest
    face is about 80 px, 40 px after one upsampling) and costs 4x per step. Scores are
    the detector's own (SVM margin, CNN confidence, cascade weight): higher is surer.

    Example:
        >>> image = np.full((120, 160), 128, np.uint8)
        >>> [detect(image, method).boxes.tolist() for method in METHODS]
        [[], [], []]
    """
    if upsample < 0:
        raise DeepImageError(f"upsample must be 0 or more, not {upsample}")
    rgb = as_rgb(image)
    if method == "hog":
        rects, scores, _ = hog_detector().run(rgb, upsample, 0.0)
        return _trimmed(rgb.shape, rects, scores)
    if method == "cnn":
        found = cnn_detector()(rgb, upsample)
        return _trimmed(rgb.shape, [f.rect for f in found], [f.confidence for f in found])
    if method == "haar":
        return _haar(rgb, upsample)
    raise DeepImageError(f"unknown face detector {method!r}; use one of {', '.join(METHODS)}")


def box_of_rectangle(rect: Any, shape: tuple[int, ...]) -> list[float]:
    """The pixel-edge box of a dlib rectangle, clipped like face_recognition's
    ``_trim_css_to_bounds`` (right and bottom to the image's width and height) and then
    converted (``x2 = right + 1``).

    Example:
        >>> box_of_rectangle(dlib.rectangle(-5, 10, 79, 20), (60, 80))
        [0.0, 10.0, 80.0, 21.0]
    """
    height, width = shape[:2]
    left, top = max(rect.left(), 0), max(rect.top(), 0)
    right, bottom = min(rect.right(), width), min(rect.bottom(), height)
    return [float(left), float(top), float(right + 1), float(bottom + 1)]


def dlib_rectangle(box: Sequence[float]) -> Any:
    """The dlib rectangle of a pixel-edge box, the inverse of :func:`box_of_rectangle`
    (``right = x2 - 1``; fractional edges are rounded to the nearest pixel edge).

    Example:
        >>> dlib_rectangle([0.0, 10.0, 80.0, 21.0])
        rectangle(0,10,79,20)
    """
    x1, y1, x2, y2 = (round(float(value)) for value in box)
    return dlib.rectangle(x1, y1, x2 - 1, y2 - 1)


def _trimmed(shape: tuple[int, ...], rects: Any, scores: Any) -> Detections:
    """dlib rectangles as clipped pixel-edge boxes (:func:`box_of_rectangle`)."""
    boxes = [box_of_rectangle(rect, shape) for rect in rects]
    return Detections(
        np.array(boxes, np.float64).reshape(-1, 4), np.array(scores, np.float64).reshape(-1)
    )


def _haar(rgb: np.ndarray, upsample: int) -> Detections:
    scale = 2**upsample
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale > 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    objects, _, weights = haar_detector().detectMultiScale3(
        gray, scaleFactor=1.1, minNeighbors=5, outputRejectLevels=True
    )
    xywh = np.array(objects, np.float64).reshape(-1, 4) / scale
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    return Detections(boxes, np.array(weights, np.float64).reshape(-1))

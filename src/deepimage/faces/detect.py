"""Finding faces: dlib's HOG and CNN (MMOD) detectors and OpenCV's Haar cascade.

Boxes are absolute pixel ``xyxy`` = (left, top, right, bottom) as dlib reports them
(``right`` and ``bottom`` are the last pixel inside the face), clipped to the image the way
face_recognition's ``face_locations`` does, so HOG boxes equal its boxes exactly.

Example:
    >>> import numpy as np
    >>> found = detect(np.zeros((60, 80, 3), np.uint8))
    >>> found.boxes.shape, found.scores.shape
    ((0, 4), (0,))
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.models import cnn_detector, haar_detector, hog_detector

Method = Literal["hog", "cnn", "haar"]
METHODS: tuple[Method, ...] = ("hog", "cnn", "haar")


class Detections(NamedTuple):
    """Faces found in one image: ``boxes`` (N, 4) int64 ``xyxy`` and ``scores`` (N,)."""

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


def _trimmed(shape: tuple[int, ...], rects: Any, scores: Any) -> Detections:
    """dlib rectangles clipped like face_recognition's ``_trim_css_to_bounds``."""
    height, width = shape[:2]
    boxes = [
        [max(r.left(), 0), max(r.top(), 0), min(r.right(), width), min(r.bottom(), height)]
        for r in rects
    ]
    return Detections(
        np.array(boxes, np.int64).reshape(-1, 4), np.array(scores, np.float64).reshape(-1)
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
    boxes = np.rint(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:] - 1], axis=1))
    return Detections(boxes.astype(np.int64), np.array(weights, np.float64).reshape(-1))

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

:func:`find_faces` falls back when the detector finds nothing (pre-cropped faces, where
HOG often misses): the same detector upsampled once more, then the CNN detector, then,
for a tight crop (:func:`is_tight_crop`) or when asked, the whole image as the face box;
it says which step found the faces.

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
from deepimage.faces.models import haar_detector, hog_detector, run_cnn

Method = Literal["hog", "cnn", "haar"]
METHODS: tuple[Method, ...] = ("hog", "cnn", "haar")
WHOLE_IMAGE = "whole-image"
"""The detector name of a face box that is the whole image (:func:`find_faces`)."""
FALLBACK_PIXELS = 2048 * 2048
"""The most pixels a fallback step may search (after its upsampling): larger images skip it."""
TIGHT_CROP_SIDE = 512
"""The longest side of an image that can be a tight crop of one face, in pixels."""
TIGHT_CROP_ASPECT = (1.1, 1.5)
"""Height / width of a tight crop: portrait, as ORL's 92x112 (1.22) and passport photos (1.29)."""
TIGHT_CROP_CONTRAST = 8.0
"""The least standard deviation of a tight crop's pixel values: a flat image is no face."""


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
        found = run_cnn(rgb, upsample)
        return _trimmed(rgb.shape, [f.rect for f in found], [f.confidence for f in found])
    if method == "haar":
        return _haar(rgb, upsample)
    raise DeepImageError(f"unknown face detector {method!r}; use one of {', '.join(METHODS)}")


def is_tight_crop(image: np.ndarray) -> bool:
    """Whether ``image`` looks like one face cropped tightly (ORL's portraits, passport
    photos): at most :data:`TIGHT_CROP_SIDE` pixels on its longer side, portrait-shaped
    (height / width within :data:`TIGHT_CROP_ASPECT`) and not flat (pixel values vary by
    :data:`TIGHT_CROP_CONTRAST` or more).

    Example:
        >>> noise = np.random.default_rng(0).integers(0, 256, (112, 92), dtype=np.uint8)
        >>> is_tight_crop(noise), is_tight_crop(noise[:92]), is_tight_crop(np.zeros((112, 92)))
        (True, False, False)
    """
    height, width = image.shape[:2]
    low, high = TIGHT_CROP_ASPECT
    return (
        max(height, width) <= TIGHT_CROP_SIDE
        and low <= height / width <= high
        and float(np.std(image)) >= TIGHT_CROP_CONTRAST
    )


def find_faces(
    image: np.ndarray,
    method: Method = "hog",
    upsample: int = 1,
    *,
    fallback: bool = True,
    assume_face: bool = False,
) -> tuple[Detections, str | None]:
    """The faces of ``image`` and the name of the detector that found them (None if none).

    ``method`` at ``upsample`` first (named ``method``). When it finds nothing and
    ``fallback`` is on: ``method`` upsampled once more (``"hog-upsampled"``), then the CNN
    detector at ``upsample`` (``"cnn"``), each skipped when its upsampled image would
    exceed :data:`FALLBACK_PIXELS`; then, for a tight crop (:func:`is_tight_crop`) or with
    ``assume_face`` (even without ``fallback``), the whole image ``[0, 0, W, H]`` with score
    0 (``"whole-image"``).

    Example:
        >>> noise = np.random.default_rng(0).integers(0, 256, (112, 92), dtype=np.uint8)
        >>> found, detector = find_faces(noise)
        >>> found.boxes.tolist(), detector
        ([[0.0, 0.0, 92.0, 112.0]], 'whole-image')
        >>> find_faces(noise, fallback=False)[1] is None
        True
    """
    rgb = as_rgb(image)
    steps: list[tuple[Method, int, str]] = [(method, upsample, method)]
    if fallback:
        steps.append((method, upsample + 1, f"{method}-upsampled"))
        if method != "cnn":
            steps.append(("cnn", upsample, "cnn"))
    pixels = rgb.shape[0] * rgb.shape[1]
    found = Detections(np.zeros((0, 4)), np.zeros(0))
    for number, (step_method, step_upsample, name) in enumerate(steps):
        if number and pixels * 4**step_upsample > FALLBACK_PIXELS:
            continue
        found = detect(rgb, step_method, step_upsample)
        if len(found.boxes):
            return found, name
    if assume_face or (fallback and is_tight_crop(rgb)):
        height, width = rgb.shape[:2]
        return Detections(np.array([[0.0, 0.0, width, height]]), np.zeros(1)), WHOLE_IMAGE
    return found, None


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

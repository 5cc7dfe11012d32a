"""One image file through the face pipeline: read it, find its faces, and on request their
landmarks and embeddings.

Plain data in and out, so that it runs alike in this process and in worker processes
(:mod:`deepimage.api.face_scan` runs it over folders). This module imports little, so that
worker processes start fast.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.writing import write_image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grey.png"
    >>> write_image(path, np.full((64, 64), 128, np.uint8))
    >>> analyse_image(path, FaceOptions(embed=True))["faces"]
    []
    >>> analyse_image(path.with_name("missing.png"), FaceOptions())["reason"]
    'file not found'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import BadImageError, DeepImageError
from deepimage.faces.align import landmarks as face_landmarks
from deepimage.faces.detect import METHODS, Method, as_rgb, find_faces
from deepimage.faces.embed import embed
from deepimage.faces.models import cnn_detector, face_encoder, haar_detector, shape_predictor
from deepimage.io.images import read_image
from deepimage.io.paths import shown_path


@dataclass(frozen=True)
class FaceOptions:
    """What each image goes through (plain data, so it pickles to worker processes).

    ``landmarks`` is 5 or 68 to add landmarks, ``embed`` adds embeddings; ``fallback``
    and ``assume_face`` are :func:`~deepimage.faces.detect.find_faces`'s.
    """

    method: Method = "hog"
    upsample: int = 1
    landmarks: int | None = None
    embed: bool = False
    jitters: int = 1
    fallback: bool = True
    assume_face: bool = False

    def check(self) -> FaceOptions:
        """Self, after refusing impossible values with a clear error."""
        if self.method not in METHODS:
            raise DeepImageError(f"unknown face detector {self.method!r}; use {', '.join(METHODS)}")
        if self.upsample < 0 or self.jitters < 1 or self.landmarks not in (None, 5, 68):
            raise DeepImageError(
                "upsample must be 0 or more, jitters 1 or more, and landmarks 5 or 68"
            )
        return self


def load_models(options: FaceOptions) -> None:
    """Load the models ``options`` need (each is read once per process)."""
    if options.method == "cnn":
        cnn_detector()
    elif options.method == "haar":
        haar_detector()
    if options.landmarks:
        shape_predictor(options.landmarks)
    if options.embed:
        shape_predictor(5)
        face_encoder()


def analyse_image(path: Path, options: FaceOptions) -> dict[str, Any]:
    """``{path, faces: [{box, score, detector, landmarks?, embedding?}]}`` (``path``
    absolute, ``box`` pixel-edge ``xyxy``, ``detector`` the step of
    :func:`~deepimage.faces.detect.find_faces` that found it), or ``{path, error, reason}``
    for a file that cannot be read."""
    try:
        image = as_rgb(read_image(path))  # once, not in each of detect, landmarks and embed
    except DeepImageError as error:
        reason = error.reason if isinstance(error, BadImageError) else str(error)
        return {"path": shown_path(path), "error": str(error), "reason": reason}
    return {"path": shown_path(path), "faces": analyse_array(image, options)}


def analyse_array(image: np.ndarray, options: FaceOptions) -> list[dict[str, Any]]:
    """``[{box, score, detector, landmarks?, embedding?}]``: the faces of an RGB image (a
    file's, or a video frame)."""
    found, detector = find_faces(
        image,
        options.method,
        options.upsample,
        fallback=options.fallback,
        assume_face=options.assume_face,
    )
    faces: list[dict[str, Any]] = [
        {"box": box, "score": score, "detector": detector}
        for box, score in zip(found.boxes.tolist(), found.scores.tolist(), strict=True)
    ]
    if options.landmarks:
        points = face_landmarks(image, found.boxes, options.landmarks)
        for face, face_points in zip(faces, points.tolist(), strict=True):
            face["landmarks"] = face_points
    if options.embed:
        vectors = embed(image, found.boxes, options.jitters)
        for face, vector in zip(faces, vectors.tolist(), strict=True):
            face["embedding"] = vector
    return faces

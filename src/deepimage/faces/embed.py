"""Face embeddings: dlib's ResNet maps each aligned face to a 128-d vector.

Faces of one person lie close together: Euclidean distance under 0.6 means "same person"
for this model (see :mod:`deepimage.faces.match`). The computation is face_recognition's
``face_encodings`` (5-point alignment), so the vectors equal its vectors.

Example:
    >>> import numpy as np
    >>> image = np.full((100, 100, 3), 128, np.uint8)
    >>> embed(image, [[20, 20, 80, 80]]).shape, embed(image, []).shape
    ((1, 128), (0, 128))
"""

from __future__ import annotations

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.align import Boxes, face_shapes
from deepimage.faces.detect import as_rgb
from deepimage.faces.models import face_encoder

EMBEDDING_SIZE = 128


def embed(image: np.ndarray, boxes: Boxes, jitters: int = 1) -> np.ndarray:
    """(N, 128) float64 embeddings of the faces at pixel-edge ``xyxy`` ``boxes`` in a uint8
    image.

    ``jitters`` > 1 averages the embeddings of that many randomly shifted, zoomed and
    flipped copies of each face (dlib's fixed-seed jitter, so repeatable): a little more
    accurate, ``jitters`` times slower.
    """
    if jitters < 1:
        raise DeepImageError(f"jitters must be 1 or more, not {jitters}")
    rgb = as_rgb(image)
    shapes = face_shapes(rgb, boxes, 5)
    if len(shapes) == 0:
        return np.zeros((0, EMBEDDING_SIZE), np.float64)
    return np.array(face_encoder().compute_face_descriptor(rgb, shapes, jitters), np.float64)

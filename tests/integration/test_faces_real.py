"""deepimage.faces on real photographs: equal to face_recognition, and accurate on Yale.

``tests/data/faces_fr_reference.json`` holds face_recognition 1.3.0's own answers on the
faces-fr photos (made by ``tests/tools/record_faces_reference.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from deepimage.api.faces import FaceRecognizer
from deepimage.faces import detect, embed, landmarks
from deepimage.io import read_image
from deepimage.io.paths import find_images

pytestmark = pytest.mark.integration

RequireData = Callable[[str], Path]
REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "faces_fr_reference.json").read_text())
YALE_ENROLL = ("normal", "glasses", "happy")  # conditions enrolled; the other eight identified


def _pixel_edges(recorded: list[list[int]]) -> list[list[float]]:
    """face_recognition's boxes as recorded, its (top, right, bottom, left) reordered to
    (left, top, right, bottom) with dlib's inclusive right and bottom, as deepimage's
    pixel-edge ``[x1, y1, x2, y2]``: x2 = right + 1, y2 = bottom + 1."""
    return [[left, top, right + 1, bottom + 1] for left, top, right, bottom in recorded]


def _reference_image(folder: Path, relative: str) -> np.ndarray:
    path = folder / relative
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == REFERENCE["images"][relative]["sha256"], f"{path} is not the recorded file"
    return read_image(path)


def test_hog_boxes_embeddings_and_landmarks_equal_face_recognitions(
    require_data: RequireData,
) -> None:
    folder = require_data("faces-fr")
    faces = 0
    for relative, expected in REFERENCE["images"].items():
        image = _reference_image(folder, relative)
        boxes = detect(image).boxes  # hog, upsampled once: face_locations' defaults
        assert boxes.tolist() == _pixel_edges(expected["boxes"]), relative
        vectors = embed(image, boxes)
        assert vectors.shape == (len(boxes), 128)
        if len(boxes):
            np.testing.assert_allclose(vectors, expected["encodings"], rtol=0, atol=1e-6)
        assert landmarks(image, boxes, 68).tolist() == expected["landmarks68"], relative
        faces += len(boxes)
    assert len(REFERENCE["images"]) == 26 and faces == 30


def test_cnn_boxes_equal_face_recognitions(require_data: RequireData) -> None:
    folder = require_data("faces-fr")
    for relative, expected in REFERENCE["cnn"].items():
        found = detect(read_image(folder / relative), "cnn")
        assert found.boxes.tolist() == _pixel_edges(expected) and (found.scores > 0.5).all()


def test_haar_finds_the_faces_hog_finds(require_data: RequireData) -> None:
    image = read_image(require_data("faces-fr") / "examples" / "obama.jpg")
    hog, haar = detect(image).boxes, detect(image, "haar").boxes
    assert len(hog) == 1 and len(haar) >= 1
    x1, y1 = np.maximum(hog[0, :2], haar[:, :2]).T
    x2, y2 = np.minimum(hog[0, 2:], haar[:, 2:]).T
    overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    assert (overlap / np.prod(hog[0, 2:] - hog[0, :2])).max() > 0.5


def _yale_split(folder: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """(person -> images to enroll, images to identify); byte-identical files share a side."""
    _, files = find_images(folder, by_content=True)
    digest = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    enrolled = {digest[p] for p in files if p.name.split(".")[1] in YALE_ENROLL}
    people: dict[str, list[Path]] = {}
    for path in files:
        if digest[path] in enrolled:
            people.setdefault(path.name.split(".")[0], []).append(path)
    return people, [p for p in files if digest[p] not in enrolled]


def test_yale_identification_top1(require_data: RequireData, tmp_path: Path) -> None:
    """Measured: 53 enrolled images (44 distinct + 9 byte-identical copies), 111 identified; HOG
    finds no face in 3 (rightlight of subjects 01, 05, 11); the fallback finds them (HOG
    upsampled twice 2, the CNN 1), and all 111 are named right: top-1 1.000."""
    people, queries = _yale_split(require_data("faces-ids") / "yalefaces")
    folder = tmp_path / "enroll"
    for person, paths in people.items():
        (folder / person).mkdir(parents=True)
        for path in paths:
            (folder / person / path.name).symlink_to(path)
    recognizer = FaceRecognizer(tmp_path / "faces.db", workers=2)
    report = recognizer.enroll([folder])
    assert len(report["enrolled"]) == 15 and report["skipped"] == []
    assert sum(p["images"] for p in report["enrolled"]) == 53
    assert sum(p["added"] for p in report["enrolled"]) == 44  # copies are stored once
    rows = recognizer.identify(queries)["results"]
    found = {Path(row["path"]).name: row["name"] for row in rows}
    assert len(rows) == len(found)  # one face per image
    correct = sum(name == file.split(".")[0] for file, name in found.items())
    assert len(queries) == 111 and len(found) == 111
    assert Counter(row["detector"] for row in rows) == {"hog": 108, "hog-upsampled": 2, "cnn": 1}
    assert correct == 111

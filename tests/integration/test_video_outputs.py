"""Videos through the commands that take them: face anonymize writes a video with the same
frame count and one JSON row per frame; a file that is not a readable video says so."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from tests.conftest import run_deepimage

from deepimage.io.images import read_image
from deepimage.io.video_stream import VideoOut, video_frames, video_info

pytestmark = pytest.mark.integration


def _video_of(photos: list[Path], path: Path, size: tuple[int, int] = (320, 240)) -> Path:
    with VideoOut(path, fps=5, size=size) as out:
        for photo in photos:
            out.write(cv2.resize(read_image(photo), size))
    return path


def test_face_anonymize_writes_every_frame_of_a_video(require_data, tmp_path: Path) -> None:
    photos = sorted(require_data("faces-fr").rglob("*.jpg"))[:10]
    video = _video_of(photos, tmp_path / "faces.mp4")
    done = run_deepimage("face", "anonymize", str(video), "-o", str(tmp_path / "hidden"), "--json")
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == list(range(10))  # one row per frame
    assert sum(row["faces"] for row in rows) >= 5
    out = tmp_path / "hidden" / "faces.mp4"
    assert video_info(out).frames == 10 and len(list(video_frames(out))) == 10
    strided = run_deepimage(
        "face", "anonymize", str(video), "-o", str(tmp_path / "every3"), "--vid-stride", "3",
        "--json",
    )  # fmt: skip
    assert [row["frame"] for row in strided.json()["results"]] == [0, 3, 6, 9]


def test_a_file_that_is_not_a_video_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video\n")
    done = run_deepimage("face", "anonymize", str(fake), "-o", str(tmp_path / "out"))
    assert done.code == 2 and "Traceback" not in done.stderr
    assert "notes.mp4" in done.stdout + done.stderr and "video" in done.stdout + done.stderr

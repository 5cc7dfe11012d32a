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


def test_classify_predict_gives_a_row_per_frame(tmp_path: Path) -> None:
    import numpy as np

    trained = run_deepimage(
        "classify", "train", "--data", "digits", "--epochs", "1", "--runs", str(tmp_path),
        "--quiet", "--json",
    )  # fmt: skip
    assert trained.code == 0, trained.stderr
    video = tmp_path / "digits.avi"
    with VideoOut(video, fps=4, size=(32, 32)) as out:
        for i in range(6):
            out.write(np.full((32, 32, 3), 40 * i, np.uint8))
    done = run_deepimage(
        "classify", "predict", "--model", trained.json()["out_dir"], str(video), "--json"
    )
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == list(range(6)) and all("label" in r for r in rows)


def test_face_identify_names_the_faces_of_every_frame(require_data, tmp_path: Path) -> None:
    examples = require_data("faces-fr") / "examples"
    gallery = tmp_path / "gallery.db"
    enrolled = run_deepimage(
        "face", "enroll", str(examples / "obama.jpg"), "--name", "obama", "--gallery", str(gallery)
    )
    assert enrolled.code == 0, enrolled.stderr
    pair = [examples / "obama2.jpg", examples / "biden.jpg"]
    video = _video_of(pair * 2, tmp_path / "tv.avi", size=(480, 720))
    done = run_deepimage(
        "face", "identify", str(video), "--gallery", str(gallery), "-o", str(tmp_path / "named"),
        "--json",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == [0, 1, 2, 3]
    names = [[face["name"] for face in row["faces"]] for row in rows]
    assert names == [["obama"], ["unknown"], ["obama"], ["unknown"]]
    assert video_info(tmp_path / "named" / "tv.avi").frames == 4


def test_a_stream_url_is_read_to_its_end_and_a_missing_camera_is_named(
    require_data, tmp_path: Path
) -> None:
    import functools
    import http.server
    import threading

    photos = sorted(require_data("faces-fr").rglob("*.jpg"))[:6]
    _video_of(photos, tmp_path / "served" / "live.avi")  # MJPG: readable as it streams
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "served")
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/live.avi"
        done = run_deepimage("face", "anonymize", url, "-o", str(tmp_path / "out"), "--json")
    finally:
        server.shutdown()
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == list(range(6)) and rows[0]["path"] == url
    assert video_info(tmp_path / "out" / "live.mp4").frames == 6
    camera = run_deepimage("face", "anonymize", "9", "-o", str(tmp_path / "cam"))
    assert camera.code == 2 and "Traceback" not in camera.stderr
    assert "camera:9" in camera.stdout + camera.stderr

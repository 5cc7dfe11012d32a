"""Videos one frame at a time: every ``stride``-th frame of a file as RGB arrays (never the
whole video in memory, unlike :func:`~deepimage.io.video.read_clip`), and an annotated
copy written through OpenCV's ``VideoWriter`` into a temporary file renamed into place, so
an interrupted run leaves no half video.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.avi"
    >>> with VideoOut(path, fps=10, size=(32, 24)) as out:
    ...     for i in range(6):
    ...         out.write(np.full((24, 32, 3), 40 * i, np.uint8))
    >>> video_info(path).frames, [i for i, _ in video_frames(path, stride=2)]
    (6, [0, 2, 4])
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from deepimage.errors import BadImageError
from deepimage.io.files import write_failure
from deepimage.io.headers import open_file
from deepimage.io.video import VIDEO_EXTENSIONS, open_video

FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".webm": "VP80"}


class VideoInfo(NamedTuple):
    fps: float
    width: int
    height: int
    frames: int  # as the container states it (0 when it does not)


def is_video(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a video file by its extension (:data:`VIDEO_EXTENSIONS`)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS and Path(path).is_file()


def video_info(path: str | os.PathLike[str]) -> VideoInfo:
    """Frame rate, size and stated frame count; a file that is not a readable video is a
    :class:`~deepimage.errors.BadImageError` naming it."""
    path = Path(path)
    with open_file(path):  # missing, unreadable or empty: named as images are
        pass
    capture = open_video(path)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        return VideoInfo(float(fps), width, height, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()


def video_frames(path: str | os.PathLike[str], stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, H x W x 3 RGB uint8) of every ``stride``-th frame, decoded as read;
    a video with no decodable frame is a :class:`~deepimage.errors.BadImageError`."""
    path = Path(path)
    video_info(path)
    capture = open_video(path)
    index = 0
    try:
        while True:
            ok = capture.grab()
            if not ok:
                break
            if index % stride == 0:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    break
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise BadImageError(
            path,
            "no frame can be decoded: the video is corrupt, cut short or in a codec this OpenCV lacks",
        )


class VideoOut:
    """A video file written frame by frame (RGB arrays of ``size`` = (width, height)),
    complete at ``path`` only when the ``with`` block ends without an error."""

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path, self.fps, self.size = Path(path), fps, size
        self.frames = 0

    def __enter__(self) -> VideoOut:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        suffix = self.path.suffix.lower()
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=suffix
        )
        os.close(fd)
        self.tmp = Path(tmp)
        fourcc = cv2.VideoWriter_fourcc(*FOURCC.get(suffix, "mp4v"))
        self.writer = cv2.VideoWriter(str(self.tmp), fourcc, self.fps, self.size)
        if not self.writer.isOpened():
            self.tmp.unlink(missing_ok=True)
            raise write_failure(self.path, OSError(f"OpenCV cannot write {suffix} videos here"))
        return self

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self.writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.writer.release()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)

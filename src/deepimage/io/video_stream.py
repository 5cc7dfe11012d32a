"""Videos one frame at a time: every ``stride``-th frame of a file, a camera or a stream as
RGB arrays (never the whole video in memory, unlike :func:`~deepimage.io.video.read_clip`),
and an annotated copy written through OpenCV's ``VideoWriter`` into a temporary file
renamed into place, so an interrupted run leaves no half video.

A *source* is a video file (:data:`~deepimage.io.video.VIDEO_EXTENSIONS`), a camera index
(``"0"``, as a string, when no file of that name exists) or a stream URL (:data:`SCHEMES`).
A camera or stream is read until it ends or Ctrl-C, which ends the reading (not the run):
what was read is kept and written.

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
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.files import write_failure
from deepimage.io.headers import open_file
from deepimage.io.outputs import OutputExistsError
from deepimage.io.video import VIDEO_EXTENSIONS, open_video

SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
"""URL prefixes read as streams (through FFmpeg)."""
STREAM_FPS = 25.0
"""Frame rate written for a camera or stream that does not state one."""
Source = str | os.PathLike[str]

FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".webm": "VP80"}


class VideoInfo(NamedTuple):
    fps: float
    width: int
    height: int
    frames: int  # as the container states it (0 when it does not)


def is_stream(source: Source) -> bool:
    """Whether ``source`` is a camera index or a stream URL rather than a file.

    Example:
        >>> is_stream("0"), is_stream("rtsp://10.0.0.2/live"), is_stream("clip.mp4")
        (True, True, False)
    """
    if not isinstance(source, str):
        return False
    text = source.strip()
    return text.lower().startswith(SCHEMES) or (text.isdigit() and not Path(text).exists())


def is_video(source: Source) -> bool:
    """Whether ``source`` is a video file by its extension (:data:`VIDEO_EXTENSIONS`), a
    camera or a stream."""
    if is_stream(source):
        return True
    return Path(source).suffix.lower() in VIDEO_EXTENSIONS and Path(source).is_file()


def source_name(source: Source) -> str:
    """How rows name ``source``: a file's absolute path, ``camera:N``, or the URL."""
    if not is_stream(source):
        return os.path.abspath(source)
    text = str(source).strip()
    return f"camera:{text}" if text.isdigit() else text


def _open(source: Source) -> cv2.VideoCapture:
    if not is_stream(source):
        with open_file(Path(source)):  # missing, unreadable or empty: named as images are
            pass
        return open_video(Path(source))
    text, capture = str(source).strip(), None
    if text.isdigit():
        capture = cv2.VideoCapture(int(text))
    else:
        with suppress(BadImageError):
            capture = open_video(text)  # FFmpeg, its messages silenced
    if capture is None or not capture.isOpened():
        what = "camera" if text.isdigit() else "stream"
        raise DeepImageError(
            f"{source_name(source)}: cannot be opened as a {what}: check that it is connected "
            "(or the URL) and that no other program holds it"
        )
    return capture


def video_info(source: Source) -> VideoInfo:
    """Frame rate, size and stated frame count (0 for a camera or stream); a source that
    is not a readable video is a :class:`~deepimage.errors.BadImageError` naming it."""
    capture = _open(source)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or STREAM_FPS
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        frames = 0 if is_stream(source) else int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return VideoInfo(float(fps), width, height, max(frames, 0))
    finally:
        capture.release()


def video_frames(source: Source, stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, H x W x 3 RGB uint8) of every ``stride``-th frame, decoded as read;
    a video with no decodable frame is a :class:`~deepimage.errors.BadImageError`. A
    camera or stream ends at its end or at Ctrl-C."""
    video_info(source)
    capture = _open(source)
    index = 0
    stop = threading.Event()
    restore = _stop_on_interrupt(stop) if is_stream(source) else None
    try:
        while not stop.is_set():
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
        if restore is not None:
            signal.signal(signal.SIGINT, restore)
    if index == 0:
        raise BadImageError(
            Path(source_name(source)),
            "no frame can be decoded: the video is corrupt, cut short or in a codec this OpenCV lacks",
        )


def _stop_on_interrupt(stop: threading.Event) -> Any:
    """Make Ctrl-C set ``stop`` (in the main thread only); returns the handler to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, lambda *_: stop.set())


def video_target(source: Source, out: str | os.PathLike[str], overwrite: bool) -> Path:
    """``out/<video's name>`` (``camera0.mp4``, ``<stream's last part>.mp4``), refused
    when it is the input or (unless ``overwrite``) already exists."""
    if is_stream(source):
        text = str(source).strip()
        stem = f"camera{text}" if text.isdigit() else Path(text.split("?")[0]).stem or "stream"
        return _free(Path(out) / f"{stem}.mp4", Path(source_name(source)), overwrite)
    video = Path(source)
    target = Path(out) / video.name
    if target.resolve() == video.resolve():
        raise DeepImageError(
            f"{target} would replace the input video; choose another -o/--out folder"
        )
    return _free(target, video, overwrite)


def _free(target: Path, source: Path, overwrite: bool) -> Path:
    if target.exists() and not overwrite:
        raise OutputExistsError(target, source, 0)
    return target


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

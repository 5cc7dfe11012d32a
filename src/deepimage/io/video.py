"""Clips read safely: the one place video files and frame folders are decoded (no torch).

A clip is a video file (:data:`VIDEO_EXTENSIONS`, decoded by OpenCV's FFmpeg backend,
``cv2.VideoCapture``, its messages silenced) or a folder of frame images, taken in the
natural order of their names (``frame2`` before ``frame10``; :func:`natural_key`) and
each read by :func:`~deepimage.io.images.read_image`. A decoded clip is a T x H x W x C
uint8 array, RGB, or grey (C = 1) when every frame's channels are equal. Every failure is
a :class:`~deepimage.errors.BadImageError` naming the clip (and the frame).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> clip = pathlib.Path(tempfile.mkdtemp()) / "wave"
    >>> clip.mkdir()
    >>> for i in (1, 2, 10):
    ...     write_image(clip / f"frame{i}.png", np.full((4, 6), i, np.uint8))
    >>> [int(frame[0, 0, 0]) for frame in read_clip(clip)], read_clip(clip).shape
    ([1, 2, 10], (3, 4, 6, 1))
"""

from __future__ import annotations

import glob
import os
import re
import threading
from pathlib import Path

import cv2
import numpy as np

from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.headers import IMAGE_EXTENSIONS, open_file
from deepimage.io.images import DEFAULT_MAX_PIXELS, read_image
from deepimage.io.paths import find_images

VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mov", ".mkv", ".webm"})
"""File name extensions (lower case) of video files."""
_EXACT_COUNTS = frozenset({".avi", ".mp4", ".mov"})  # containers that state their frame count
_CAPTURE_LOCK = threading.Lock()  # OpenCV's log level is global: set and reset it alone


def natural_key(name: str) -> tuple[list[str | int], str]:
    """Sort key of a name with its numbers compared as numbers.

    Example:
        >>> sorted(["frame10.png", "frame2.png", "Frame1.png"], key=natural_key)
        ['Frame1.png', 'frame2.png', 'frame10.png']
    """
    parts = re.split(r"(\d+)", name.lower())
    return [int(part) if i % 2 else part for i, part in enumerate(parts)], name


def frame_files(folder: Path) -> list[Path]:
    """The frame images directly in ``folder``, hidden ones left out, in natural order."""
    return sorted(
        (
            path
            for path in folder.iterdir()
            if path.suffix.lower() in IMAGE_EXTENSIONS
            and not path.name.startswith(".")
            and path.is_file()
        ),
        key=lambda path: natural_key(path.name),
    )


def find_clips(item: str | os.PathLike[str]) -> list[Path]:
    """The clips a user names: a file (a video), a frame folder (one clip), a folder of
    clips (every video file and every folder holding frames, at any depth), or a glob
    pattern matching any of these. An empty folder is one (bad) clip.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "b").mkdir(); (root / "b" / "1.png").touch(); (root / "a.avi").touch()
        >>> [path.name for path in find_clips(root)], [p.name for p in find_clips(root / "b")]
        (['a.avi', 'b'], ['b'])
    """
    path = Path(item)
    if path.is_file():
        return [path]
    if path.is_dir():
        _, files = find_images(path, extensions=IMAGE_EXTENSIONS | VIDEO_EXTENSIONS)
        videos = {file for file in files if file.suffix.lower() in VIDEO_EXTENSIONS}
        frame_folders = {file.parent for file in files if file not in videos}
        clips = sorted(videos | frame_folders, key=lambda clip: natural_key(str(clip)))
        return clips or [path]
    matches = sorted(glob.glob(str(item), recursive=True)) if glob.has_magic(str(item)) else []
    if not matches:
        raise DeepImageError(f"{item}: no such file or folder, and nothing matches it as a pattern")
    return [clip for match in matches for clip in find_clips(match)]


def read_clip(
    path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS, stop: int | None = None
) -> np.ndarray:
    """Decode a clip (a video file or a frame folder) into T x H x W x C uint8 (RGB, or
    C = 1 when every frame is grey); ``stop`` decodes only the first ``stop`` frames;
    ``max_pixels`` bounds all the frames together.

    Raises:
        BadImageError: naming the clip (and the frame): a missing, empty, corrupt or
            truncated video, an empty frame folder, a frame that cannot be read or whose
            size differs from the first's, too many pixels.
    """
    path = Path(path)
    if path.is_dir():
        frames = _folder_frames(path, max_pixels, stop)
    elif path.suffix.lower() in VIDEO_EXTENSIONS or not path.exists():
        frames = _video_frames(path, max_pixels, stop)
    else:
        raise BadImageError(
            path,
            f"not a clip: give a video file ({', '.join(sorted(VIDEO_EXTENSIONS))}) or a "
            "folder of frame images",
        )
    clip = np.stack(frames)
    grey = all(
        (frame[..., 0] == frame[..., 1]).all() and (frame[..., 1] == frame[..., 2]).all()
        for frame in frames
    )
    return clip[..., :1] if grey else clip


def _folder_frames(folder: Path, max_pixels: int, stop: int | None) -> list[np.ndarray]:
    files = frame_files(folder)[:stop]
    if not files:
        raise BadImageError(
            folder, f"an empty frame folder (no {', '.join(sorted(IMAGE_EXTENSIONS))} files)"
        )
    frames: list[np.ndarray] = []
    for file in files:
        try:
            frame = read_image(file, "rgb", max_pixels)
        except BadImageError as error:
            raise BadImageError(folder, f"its frame {file.name}: {error.reason}") from None
        if frames and frame.shape != frames[0].shape:
            raise BadImageError(
                folder,
                f"its frame {file.name} is {frame.shape[1]}x{frame.shape[0]}, its first "
                f"is {frames[0].shape[1]}x{frames[0].shape[0]}; a clip's frames share one size",
            )
        frames.append(frame)
        _check_pixels(folder, frames, max_pixels)
    return frames


def _video_frames(path: Path, max_pixels: int, stop: int | None) -> list[np.ndarray]:
    with open_file(path):  # a missing, unreadable or empty file, named as images are
        pass
    capture = open_video(path)
    frames: list[np.ndarray] = []
    try:
        stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        side = (
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        if side[0] * side[1] > max_pixels:  # from the header, before a frame is decoded
            raise BadImageError(
                path, f"its frames are {side[0]}x{side[1]}, over {max_pixels:,} pixels (max_pixels)"
            )
        while stop is None or len(frames) < stop:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            if frames and frame.shape[:2] != frames[0].shape[:2]:
                raise BadImageError(path, f"frame {len(frames) + 1} changes the frame size")
            frames.append(
                cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                if frame.ndim == 3
                else np.dstack([frame] * 3)
            )
            _check_pixels(path, frames, max_pixels)
    finally:
        capture.release()
    if not frames:
        raise BadImageError(
            path,
            "no frame can be decoded: the video is corrupt, cut short or in a codec this OpenCV lacks",
        )
    short = stop is None and path.suffix.lower() in _EXACT_COUNTS and stated > len(frames) + 1
    if short:
        raise BadImageError(
            path,
            f"frame {len(frames) + 1} of {stated} cannot be decoded: the video is corrupt or cut short",
        )
    return frames


def open_video(path: Path | str) -> cv2.VideoCapture:
    """``cv2.VideoCapture`` on FFmpeg with OpenCV's and FFmpeg's messages silenced (a
    bad file is reported once, as a BadImageError)."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read when FFmpeg opens a file
    logging = cv2.utils.logging
    with _CAPTURE_LOCK:
        level = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
        try:
            capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        finally:
            logging.setLogLevel(level)
    if not capture.isOpened():
        raise BadImageError(
            path,
            "cannot be opened as a video: it is corrupt, cut short or in a format this OpenCV lacks",
        )
    return capture


def _check_pixels(path: Path, frames: list[np.ndarray], max_pixels: int) -> None:
    pixels = len(frames) * frames[0].shape[0] * frames[0].shape[1]
    if pixels > max_pixels:
        raise BadImageError(
            path,
            f"more than {max_pixels:,} pixels in its first {len(frames)} frames (max_pixels); "
            "cut it into shorter clips or make its frames smaller",
        )

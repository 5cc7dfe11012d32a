"""Synthetic clips for tests: a bright square moving up, down, left or right (the class)
over dark noisy frames, written as frame folders (PNG) or MJPG AVI files.

Example:
    >>> import tempfile, pathlib
    >>> root = write_clip_set(pathlib.Path(tempfile.mkdtemp()), {"train": 2, "test": 1})
    >>> sorted(p.name for p in (root / "train" / "up").iterdir())
    ['clip0', 'clip1.avi']
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DIRECTIONS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


def moving_square(
    direction: str, rng: np.random.Generator, size: int = 32, frames: int = 16
) -> np.ndarray:
    """frames x size x size uint8: a size/4 square moving 1 px a frame in ``direction``."""
    side = size // 4
    dx, dy = DIRECTIONS[direction]
    span = frames - 1
    x = int(rng.integers(span if dx < 0 else 0, size - side - (span if dx > 0 else 0) + 1))
    y = int(rng.integers(span if dy < 0 else 0, size - side - (span if dy > 0 else 0) + 1))
    clip = rng.integers(0, 40, (frames, size, size), dtype=np.uint8)
    for t in range(frames):
        top, left = y + dy * t, x + dx * t
        clip[t, top : top + side, left : left + side] = 230
    return clip


def write_clip(frames: np.ndarray, target: Path, as_avi: bool) -> Path:
    """Write T x H x W [x 3 RGB] frames as ``target.avi`` (MJPG) or the folder ``target``
    of ``frame0.png`` ... (natural order matters: frame10 after frame9); returns the path."""
    if as_avi:
        path = target.with_suffix(".avi")
        colour = frames.ndim == 4
        writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, frames.shape[2:0:-1], isColor=colour
        )
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if colour else frame)
        writer.release()
        return path
    target.mkdir(parents=True)
    for t, frame in enumerate(frames):
        image = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if frame.ndim == 3 else frame
        cv2.imwrite(str(target / f"frame{t}.png"), image)
    return target


def write_clip_set(
    root: Path, per_class: dict[str, int], size: int = 32, frames: int = 16, seed: int = 0
) -> Path:
    """``root/<split>/<direction>/clip<i>``: ``per_class[split]`` clips a direction,
    frame folders and AVI files in turn; returns ``root``."""
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for direction in DIRECTIONS:
            folder = root / split / direction
            folder.mkdir(parents=True)
            for i in range(count):
                write_clip(moving_square(direction, rng, size, frames), folder / f"clip{i}", i % 2)
    return root

"""Clip data sets (no torch): a folder ``root/<split>/<class>/<clip>`` (splits
``train``, ``val``, ``test``; without ``val``, a seeded ``val_fraction`` of train is held
out) or ``root/<class>/<clip>`` split by class, a clip being a video file or a folder of
frame images (:mod:`deepimage.io.video`). It is read by the classification reader
(:func:`~deepimage.data.classification.load_classification_data` with a clip
:class:`~deepimage.data.classification.FileReader`), so splits, ``skip_bad`` and
``skipped`` are classification's.

Memory: every clip is decoded once while loading, which finds the bad ones. The decoded
uint8 clips are kept (``ClipInfo.pixels``) for as long as all those kept fit in
``memory_limit`` bytes (:data:`MEMORY_LIMIT`, 2 GiB: 30,000 grey clips of 16 frames of
64 x 64); a clip beyond it is decoded again each time a batch needs it
(``data/video_batches.py``), in DataLoader workers with ``--workers``.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "wave").mkdir(); (root / "wave" / "c.avi").touch(); (root / "wave" / "notes.txt").touch()
    >>> (root / "wave" / "c10").mkdir(); (root / "wave" / "c9").mkdir()
    >>> [path.name for path in clip_items(root / "wave")]
    ['c9', 'c10', 'c.avi']
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepimage.data.classification import ClassificationData, FileReader, load_classification_data
from deepimage.errors import DataNotFoundError
from deepimage.io.images import DEFAULT_MAX_PIXELS
from deepimage.io.video import VIDEO_EXTENSIONS, natural_key, read_clip

MEMORY_LIMIT = 2 * 2**30
"""Bytes of decoded clips a data set keeps in memory (see the module doc)."""


@dataclass(frozen=True)
class ClipInfo:
    """What decoding a clip found: its frame count, frame size and channels (1: grey, 3:
    RGB), and the decoded T x H x W x C uint8 ``pixels`` when they were kept."""

    path: Path
    frames: int
    height: int
    width: int
    channels: int
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)


def clip_items(class_folder: Path) -> list[Path]:
    """The clips of a class folder: its video files and its sub-folders (frame folders),
    hidden ones left out, in natural order; other files are not clips."""
    return sorted(
        (
            path
            for path in class_folder.iterdir()
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in VIDEO_EXTENSIONS)
        ),
        key=lambda path: natural_key(path.name),
    )


class ClipProbe:
    """A clip reader's ``probe``: decodes the clip (which finds a bad one) and describes
    it, keeping its pixels while all those kept fit in ``memory_limit`` bytes
    (thread-safe: loading decodes in threads)."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT) -> None:
        self.memory_limit, self.kept = memory_limit, 0
        self._lock = threading.Lock()

    def __call__(self, path: Path, max_pixels: int) -> ClipInfo:
        pixels = read_clip(path, max_pixels)
        with self._lock:
            keep = self.kept + pixels.nbytes <= self.memory_limit
            self.kept += pixels.nbytes if keep else 0
        frames, height, width, channels = pixels.shape
        return ClipInfo(Path(path), frames, height, width, channels, pixels if keep else None)


def load_video_data(
    spec: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    seed: int = 0,
    val_fraction: float | None = None,
    workers: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    memory_limit: int = MEMORY_LIMIT,
) -> ClassificationData:
    """A clip data set from a folder (see the module doc): class names, splits of clip
    paths with a :class:`ClipInfo` each (``Split.infos``), ``channels`` and
    ``image_size`` as the clips have them, bad clips raised or, with ``skip_bad``,
    listed in ``skipped``. ``workers`` threads decode (0 picks a number).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for cls, i in [(c, i) for c in ("left", "right") for i in range(5)]:
        ...     (root / cls / f"c{i}").mkdir(parents=True)
        ...     write_image(root / cls / f"c{i}" / "0.png", np.zeros((8, 8), np.uint8))
        >>> data = load_video_data(root, val_fraction=0.2)
        >>> data.classes, {name: len(split) for name, split in data.splits.items()}
        (['left', 'right'], {'train': 6, 'val': 2, 'test': 2})
        >>> data.channels, data.image_size, data.splits["train"].infos[0].frames
        (1, (8, 8), 1)
    """
    if not Path(spec).is_dir():
        raise DataNotFoundError(
            f"{spec}: not a folder of clips; give root/train/<class>/<clip> (with optional "
            "val/ and test/) or root/<class>/<clip>, a clip being a video file or a folder "
            "of frame images"
        )
    reader = FileReader(
        clip_items,
        ClipProbe(memory_limit),
        "clips",
        f"video files ({', '.join(sorted(VIDEO_EXTENSIONS))}) and frame folders",
    )
    return load_classification_data(
        spec,
        skip_bad=skip_bad,
        seed=seed,
        val_fraction=val_fraction,
        max_pixels=max_pixels,
        workers=workers,
        reader=reader,
    )

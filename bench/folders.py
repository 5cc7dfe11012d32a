"""What the folder benchmarks share: the data folder and a folder of test JPEGs built
from real photographs (in a temporary directory, never in the repository)."""

from __future__ import annotations

import os
from itertools import cycle
from pathlib import Path

from deepimage.io.images import read_image
from deepimage.io.writing import write_image
from deepimage.process import resize

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """``$DEEPIMAGE_DATA``, or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("DEEPIMAGE_DATA") or REPO.parent / "shared" / "data")


def build_folder(target: Path, count: int, source: Path, sides: tuple[int, ...]) -> int:
    """Write ``count`` JPEGs (quality 90) made from the photographs in ``source``, their
    long side cycling through ``sides``; return their total bytes."""
    photos = sorted(p for p in source.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not photos:
        raise SystemExit(f"no photographs in {source}")
    sizes = [(photo, side) for side in sides for photo in photos]
    for index, (photo, side) in zip(range(count), cycle(sizes)):
        image = resize(read_image(photo), max_side=side, interpolation="area")
        write_image(target / f"{index:04d}_{photo.stem}.jpg", image, quality=90)
    return sum(path.stat().st_size for path in target.iterdir())

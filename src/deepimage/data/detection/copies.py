"""The output folder of a detection writer and the copies of its images.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> items = [DetectionItem(root / name, 8, 8, np.zeros((0, 4)), np.zeros(0))
    ...          for name in ("a/x.png", "b/x.jpg", "b/y.png")]
    >>> data = DetectionData("toy", [], {"train": items[:2], "val": items[2:]}, [], "", "voc")
    >>> out, names = new_output(data, root / "out")
    >>> list(names.values())
    ['x.png', 'x-1.jpg', 'y.png']
"""

from __future__ import annotations

import os
from pathlib import Path

from deepimage.data.detection.items import DetectionData, DetectionItem
from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder, copy_file
from deepimage.io.outputs import output_paths


def new_output(
    data: DetectionData, out_dir: str | os.PathLike[str]
) -> tuple[Path, dict[Path, str]]:
    """A new or empty output folder, and for every image of ``data`` a file name of its own.

    Names are the images' own, numbered (``x-1.jpg``) when another image has the same stem:
    annotation and label files are named by stem.
    """
    out = output_folder(out_dir)
    images = [item.image for items in data.splits.values() for item in items]
    plan = output_paths(((image.parent, image) for image in images), out, unique_stems=True)
    return out, {image: path.name for image, path in plan.items()}


def output_folder(out_dir: str | os.PathLike[str]) -> Path:
    """``out_dir``, created: a new or empty folder that files can be written in (a clear
    error otherwise; nothing is overwritten)."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DeepImageError(
            f"{out}: already exists and is not empty; choose a new output folder "
            "(nothing is overwritten)"
        )
    return check_writable_folder(out)


def place_images(items: list[DetectionItem], folder: Path, names: dict[Path, str]) -> None:
    """Copy each image into ``folder``. Not hard links: an output edited in place would
    change the input through a shared inode."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        copy_file(item.image, folder / names[item.image])

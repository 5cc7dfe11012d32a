"""Converting detection data between COCO, Pascal VOC and YOLO.

Example:
    >>> convert("no-such-data", "out", "coco")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    deepimage.errors.DataNotFoundError: no detection data found for 'no-such-data'...
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepimage.data.detection.coco import write_coco
from deepimage.data.detection.copies import output_folder
from deepimage.data.detection.items import FORMATS, DetectionData, Format
from deepimage.data.detection.load import load_detection_data
from deepimage.data.detection.voc import write_voc
from deepimage.data.detection.yolo import write_yolo
from deepimage.errors import DeepImageError

_WRITERS: dict[Format, Callable[[DetectionData, str | os.PathLike[str]], Path]] = {
    "coco": write_coco,
    "voc": write_voc,
    "yolo": write_yolo,
}


def convert(
    spec: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    to: Format,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    skip_bad: bool = False,
) -> dict[str, Any]:
    """Load ``spec`` (any format) and write it as ``to`` into the new folder ``out_dir``.

    Image files are copied under their own names, numbered (``x-1.jpg``) where two share
    a stem. Returns a JSON-ready summary: formats, output folder, images per split, boxes,
    classes, the issues met and the inputs skipped (see :func:`load_detection_data`).
    """
    if to not in _WRITERS:
        raise DeepImageError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    created = not os.path.exists(out_dir)
    output_folder(out_dir)  # refused before the data is read
    try:
        data = load_detection_data(spec, skip_bad=skip_bad, val_fraction=val_fraction, seed=seed)
    except BaseException:
        if created:
            os.rmdir(out_dir)  # still empty: leave nothing behind
        raise
    out = _WRITERS[to](data, out_dir)
    items = [item for split in data.splits.values() for item in split]
    return {
        "from": data.format,
        "to": to,
        "source": data.source,
        "out_dir": os.path.abspath(out),
        "splits": {split: len(split_items) for split, split_items in data.splits.items()},
        "boxes": sum(len(item.boxes) for item in items),
        "classes": data.classes,
        "issues": data.issues,
        "skipped": data.skipped,
    }

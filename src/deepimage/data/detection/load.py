"""Loading detection data of any format: find, read, split and check.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(5):
    ...     write_image(root / "images" / f"{i}.png", np.zeros((8, 8), np.uint8))
    >>> _ = (root / "labels").mkdir()
    >>> _ = (root / "labels" / "0.txt").write_text("0 0.5 0.5 0.5 0.25\\n")
    >>> _ = (root / "classes.txt").write_text("dot\\n")
    >>> data = load_detection_data(root, val_fraction=0.4, seed=0)
    >>> {name: [item.image.stem for item in items] for name, items in data.splits.items()}
    {'train': ['0', '1', '3'], 'val': ['2', '4']}
    >>> data.splits["train"][0].boxes.tolist(), data.splits["train"][1].boxes.shape
    ([[2.0, 3.0, 6.0, 5.0]], (0, 4))
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from deepimage.data.detection.checks import checked_items
from deepimage.data.detection.coco import read_coco
from deepimage.data.detection.items import UNSPLIT, DetectionData, Format, Found, Issues, RawItem
from deepimage.data.detection.layout import locate, own_format, split_dirs
from deepimage.data.detection.voc import read_voc
from deepimage.data.detection.yolo import read_yolo
from deepimage.errors import DataNotFoundError, DeepImageError

_READERS: dict[Format, Callable[[Path, Issues], Found]] = {
    "coco": read_coco,
    "voc": read_voc,
    "yolo": read_yolo,
}


def load_detection_data(
    spec: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    val_fraction: float = 0.2,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    check_images: bool = True,
) -> DetectionData:
    """Load a COCO, VOC or YOLO data set from a folder, a COCO JSON file or a data set name.

    A name resolves through :func:`~deepimage.data.names.find_data`
    (``$DEEPIMAGE_DATA/<name>`` first). Data without a split of its own gets a seeded
    ``val_fraction`` fraction as "val". ``classes`` fixes the class list (else the format's
    own, or for VOC the sorted names found). Boxes sticking out of the image are clipped,
    zero-area boxes dropped and images without boxes kept, each reported in ``issues``.
    Malformed annotations, missing or undecodable images (fully decoded when
    ``check_images``; sizes missing from the annotation are always probed) and unknown
    classes raise a :class:`~deepimage.errors.DeepImageError` naming the file, or with
    ``skip_bad`` drop the item and are listed in ``issues`` and ``skipped``.
    """
    if not 0 <= val_fraction < 1:
        raise DeepImageError(f"val_fraction must be in [0, 1), not {val_fraction}")
    root, fmt = locate(spec)
    issues = Issues(skip_bad)
    found = _read(root, fmt, issues)
    names = list(classes) if classes is not None else found.classes or _names_in(found)
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        given = "--classes" if classes is not None else f"the class list of {root}"
        raise DeepImageError(
            f"{given} names {', '.join(twice)} more than once; each class needs one name "
            "of its own (boxes would go to either)"
        )
    raw_splits = _assign_splits(found.splits, val_fraction, seed)
    splits = {
        split: checked_items(raws, names, issues, check_images)
        for split, raws in raw_splits.items()
    }
    splits = {split: items for split, items in splits.items() if items}
    if not splits:
        raise DataNotFoundError(f"{root}: no usable annotated images ({len(issues.items)} issues)")
    return DetectionData(root.stem, names, splits, issues.items, str(root), fmt, issues.skipped)


def _read(root: Path, fmt: Format, issues: Issues) -> Found:
    """Read ``root``, or its split subfolders of format ``fmt``, into raw annotations."""
    reader = _READERS[fmt]
    if own_format(root) == fmt:
        return reader(root, issues)
    parts = {f.name: reader(f, issues) for f in split_dirs(root) if own_format(f) == fmt}
    return Found(
        next((part.classes for part in parts.values() if part.classes), None),
        {
            split: [raw for raws in part.splits.values() for raw in raws]
            for split, part in parts.items()
        },
    )


def _names_in(found: Found) -> list[str]:
    return sorted({name for raws in found.splits.values() for raw in raws for name in raw.names})


def _assign_splits(
    splits: dict[str, list[RawItem]], val_fraction: float, seed: int
) -> dict[str, list[RawItem]]:
    """Named splits as they are; unsplit items go to a seeded train/val split."""
    named = {s: sorted(raws, key=lambda r: str(r.image)) for s, raws in splits.items() if s}
    rest = sorted(splits.get(UNSPLIT, []), key=lambda r: str(r.image))
    if not rest:
        return named
    if named:
        return {**named, "train": named.get("train", []) + rest}
    count = min(int(len(rest) * val_fraction + 0.5), len(rest) - 1)
    chosen = set(np.random.default_rng(seed).permutation(len(rest))[:count].tolist())
    return {
        "train": [raw for i, raw in enumerate(rest) if i not in chosen],
        "val": [raw for i, raw in enumerate(rest) if i in chosen],
    }

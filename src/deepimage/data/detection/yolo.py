"""YOLO: ``images/`` + ``labels/*.txt`` (normalised ``class cx cy w h`` lines), read and written.

Read: ``images/`` + ``labels/`` (optionally ``images/<split>/`` + ``labels/<split>/``),
class names from ``classes.txt`` or ``data.yaml``. Written: ``images/<split>/``,
``labels/<split>/``, ``classes.txt`` and ``data.yaml``.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "a.png", np.zeros((10, 20, 3), np.uint8))
    >>> item = DetectionItem(root / "a.png", 20, 10, np.array([[0, 2, 5, 8]], np.float32),
    ...                      np.array([1]))
    >>> data = DetectionData("toy", ["cat", "dog"], {"train": [item]}, [], str(root), "voc")
    >>> out = write_yolo(data, root / "yolo")
    >>> (out / "labels/train/a.txt").read_text(), (out / "classes.txt").read_text()
    ('1 0.125 0.5 0.25 0.6\\n', 'cat\\ndog\\n')
    >>> found = read_yolo(out, Issues(skip_bad=False))
    >>> found.classes, found.splits["train"][0].names
    (['cat', 'dog'], ['dog'])
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepimage.data.detection.copies import new_output, place_images
from deepimage.data.detection.items import (
    SPLITS,
    UNSPLIT,
    DetectionData,
    DetectionItem,
    Found,
    Issues,
    Malformed,
    RawItem,
)
from deepimage.data.detection.layout import image_files, listed_classes
from deepimage.errors import DataNotFoundError
from deepimage.io.files import write_text, write_yaml


def read_yolo(root: Path, issues: Issues) -> Found:
    """The raw items of the YOLO folder ``root``; bad label files go to ``issues``."""
    classes = listed_classes(root)
    if classes is None:
        raise DataNotFoundError(
            f"{root}: YOLO data needs its class names in classes.txt or data.yaml"
        )
    images, labels = root / "images", root / "labels"
    groups = {s: (images / s, labels / s) for s in SPLITS if (images / s).is_dir()}
    groups = groups or {UNSPLIT: (images, labels)}
    return Found(
        classes,
        {s: _folder(img, lbl, classes, issues) for s, (img, lbl) in groups.items()},
    )


def _folder(images: Path, labels: Path, classes: list[str], issues: Issues) -> list[RawItem]:
    by_stem = {p.stem: p for p in image_files(images)}
    raws = []
    for stem, image in sorted(by_stem.items()):
        txt = labels / f"{stem}.txt"
        try:
            raws.append(_parse(txt, image, classes) if txt.is_file() else RawItem.negative(image))
        except Malformed as error:
            issues.fail(txt, "malformed_annotation", f"not a readable YOLO label file: {error}")
    for txt in sorted(labels.glob("*.txt")):
        if txt.stem not in by_stem:
            issues.fail(txt, "missing_image", f"no image named {txt.stem}.* in {images}")
    return raws


def _parse(txt: Path, image: Path, classes: list[str]) -> RawItem:
    boxes, names = [], []
    try:
        text = txt.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Malformed(f"cannot read it as text ({error})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            index, *values = line.split()
            box = [float(v) for v in values]
            label = int(index)
        except ValueError:
            box = []
        if len(box) != 4 or label < 0:
            raise Malformed(f"line {number}: expected 'class cx cy w h', got {line.strip()!r}")
        boxes.append(box)
        names.append(classes[label] if label < len(classes) else f"class index {label}")
    return RawItem(
        txt, image, None, np.array(boxes, np.float64).reshape(-1, 4), names, normalised=True
    )


def write_yolo(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as YOLO: ``images/<split>/``, ``labels/<split>/``, classes and data.yaml.

    Each label line is ``class cx cy w h``, normalised by the image size (9 digits).
    """
    out, names = new_output(data, out_dir)
    for split, items in data.splits.items():
        place_images(items, out / "images" / split, names)
        for item in items:
            label_file = out / "labels" / split / f"{Path(names[item.image]).stem}.txt"
            write_text(label_file, _lines(item))
    write_text(out / "classes.txt", "".join(f"{name}\n" for name in data.classes))
    splits = {split: f"images/{split}" for split in data.splits}
    write_yaml(out / "data.yaml", {**splits, "names": dict(enumerate(data.classes))})
    return out


def _lines(item: DetectionItem) -> str:
    boxes = item.boxes.astype(np.float64)
    centres, sizes = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
    scale = np.array([item.width, item.height] * 2, np.float64)
    normalised = np.concatenate([centres, sizes], axis=1) / scale
    return "".join(
        f"{label} " + " ".join(f"{v:.9g}" for v in row) + "\n"
        for label, row in zip(item.labels, normalised, strict=True)
    )

"""``detect predict -o --save-txt / --save-crops``: YOLO label files and cropped detections.

``--save-txt`` writes ``out/labels/<image stem>.txt``, a line ``class cx cy w h score`` per
detection (Ultralytics' ``save_conf`` format: the class's index in the model's class order,
the box's centre and size divided by the image's width and height, then the score), and
the class names, one a line, as ``out/labels/classes.txt``. ``--save-crops`` writes each
detection scoring at least ``--draw-conf``, cut from the original image, as
``out/crops/<class>/<image stem>_<n>.jpg``, ``n`` its place in the row's detections. Stems
are numbered when two images share one (:func:`~deepimage.io.outputs.output_paths`), and
files already there are refused before any image is predicted, unless ``--overwrite``.

Example:
    >>> found = [{"box": [10.0, 20.0, 50.0, 60.0], "label": "dog", "score": 0.9}]
    >>> print(yolo_lines(found, ["cat", "dog"], 100, 200), end="")
    1 0.300000 0.200000 0.400000 0.200000 0.900000
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.io.files import write_text
from deepimage.io.outputs import OutputExistsError, output_paths
from deepimage.io.paths import shown_path
from deepimage.io.writing import JPEG_QUALITY, write_image
from deepimage.tasks.classes import class_folder
from deepimage.tasks.detection_spec import DetectPredict

LABELS = "labels"
CROPS = "crops"
CLASSES_FILE = "classes.txt"
"""The class names beside the label files, one a line, in the model's order."""
_CROP_NAME = re.compile(r"(.+)_\d+\.jpg", re.IGNORECASE)


def check_saved(files: list[Path], settings: DetectPredict) -> None:
    """Refuse, before any image is predicted, what :func:`save_detections` would refuse:
    a label file, ``classes.txt`` or crop of one of ``files`` already there (unless
    ``settings.overwrite``), an image whose label file would be ``classes.txt``."""
    if not (settings.save_txt or settings.save_crops):
        return
    plan = saved_names(files, settings)
    out = Path(str(settings.out))
    for file, target in plan.items():
        if settings.save_txt and target.name.lower() == CLASSES_FILE:
            raise DeepImageError(
                f"{file}: its label file would be {target}, which holds the class names; "
                "rename the image"
            )
    if settings.overwrite:
        return
    if settings.save_txt and (out / LABELS / CLASSES_FILE).exists():
        raise DeepImageError(
            f"{out / LABELS / CLASSES_FILE} already exists; pass --overwrite to replace "
            "existing outputs, or choose another -o/--out folder"
        )
    if settings.save_crops:
        _refuse_existing_crops(plan, out / CROPS)


def saved_names(files: list[Path], settings: DetectPredict) -> dict[Path, Path]:
    """``{image: out/labels/<stem>.txt}``; the label file's stem also names the crops.
    Existing label files are refused unless ``settings.overwrite`` (or no ``--save-txt``);
    empty without ``--save-txt`` and ``--save-crops``."""
    if not (settings.save_txt or settings.save_crops):
        return {}
    keep = settings.overwrite or not settings.save_txt
    return output_paths(
        [(path.parent, path) for path in files],
        Path(str(settings.out)) / LABELS,
        suffix=".txt",
        unique_stems=True,
        existing="overwrite" if keep else "refuse",
    )


def save_detections(
    classes: list[str], image: np.ndarray, row: dict[str, Any], label: Path, settings: DetectPredict
) -> None:
    """Write ``row``'s label file at ``label`` (``--save-txt``, the row gains
    ``label_file``) and its crops (``--save-crops``, each cropped detection gains
    ``crop_file``), ``image`` being the original it was predicted on (RGB)."""
    height, width = image.shape[:2]
    if settings.save_txt:
        write_text(label, yolo_lines(row["detections"], classes, width, height))
        row["label_file"] = shown_path(label)
    if settings.save_crops:
        crops = Path(str(settings.out)) / CROPS
        for n, found in enumerate(row["detections"]):
            if found["score"] >= settings.draw_conf:
                target = crops / class_folder(found["label"]) / f"{label.stem}_{n}.jpg"
                left, top, right, bottom = crop_box(found["box"], width, height)
                write_image(target, image[top:bottom, left:right], quality=JPEG_QUALITY)
                found["crop_file"] = shown_path(target)


def write_classes(classes: list[str], settings: DetectPredict) -> None:
    """``out/labels/classes.txt`` with ``--save-txt``: the class names, one a line."""
    if settings.save_txt:
        write_text(
            Path(str(settings.out)) / LABELS / CLASSES_FILE, "".join(f"{c}\n" for c in classes)
        )


def yolo_lines(
    detections: list[dict[str, Any]], classes: list[str], width: int, height: int
) -> str:
    """The YOLO label lines of ``detections`` (boxes in pixels of a ``width`` x ``height``
    image): ``class cx cy w h score``, the box normalised, the class its index in
    ``classes``."""
    lines = []
    for found in detections:
        x1, y1, x2, y2 = found["box"]
        box = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)
        numbers = " ".join(f"{value:.6f}" for value in (*box, found["score"]))
        lines.append(f"{classes.index(found['label'])} {numbers}\n")
    return "".join(lines)


def crop_box(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels holding ``box`` (x1, y1, x2, y2), inside the
    image and at least one pixel wide and high.

    Example:
        >>> crop_box([10.4, 5.0, 20.2, 5.0], 15, 100)
        (10, 5, 15, 6)
    """
    left = min(max(math.floor(box[0]), 0), width - 1)
    top = min(max(math.floor(box[1]), 0), height - 1)
    right = min(max(math.ceil(box[2]), left + 1), width)
    bottom = min(max(math.ceil(box[3]), top + 1), height)
    return left, top, right, bottom


def _refuse_existing_crops(plan: dict[Path, Path], crops: Path) -> None:
    """Refuse when a crop of an image of ``plan`` (``<stem>_<n>.jpg`` in any class folder
    of ``crops``) is already there."""
    found: dict[str, Path] = {}
    if crops.is_dir():
        for folder in sorted(p for p in crops.iterdir() if p.is_dir()):
            for name in sorted(os.listdir(folder)):
                if match := _CROP_NAME.fullmatch(name):
                    found.setdefault(match.group(1).lower(), folder / name)
    taken = [
        (file, found[target.stem.lower()])
        for file, target in plan.items()
        if target.stem.lower() in found
    ]
    if taken:
        file, crop = taken[0]
        raise OutputExistsError(crop, file, len(taken) - 1)

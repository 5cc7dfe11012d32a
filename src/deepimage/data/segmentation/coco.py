"""COCO segmentation: polygons and RLEs of a COCO JSON file painted into class masks.

Classes are "background" and the category names in id order; a pixel is the index of the
object covering it. Objects are painted largest first, so that small objects stay on top;
crowd regions (``iscrowd``) are 255, ignored, where no object lies. Files are read as
:mod:`deepimage.data.detection.coco` reads them: one JSON file, or ``annotations/*.json``
(``instances_train.json`` ... give the splits), images in ``images/``,
``images/<split>/``, ``<split>/`` or beside the JSON; a ``file_name`` outside the data set
folder is an error (``outside_data``).

Example:
    >>> polygon = [[1, 1, 5, 1, 5, 3, 1, 3]]  # x, y corners of a 4x2 rectangle
    >>> crowd = {"size": [4, 6], "counts": [4, 8, 12]}  # columns 1 and 2, column by column
    >>> shapes = shapes_of([(1, polygon, 0), (2, crowd, 1)], 4, 6)
    >>> for row in paint(shapes, 4, 6).tolist():
    ...     print(row)
    [0, 255, 255, 0, 0, 0]
    [0, 1, 1, 1, 1, 0]
    [0, 1, 1, 1, 1, 0]
    [0, 255, 255, 0, 0, 0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from deepimage.data.detection.coco import (
    json_field,
    json_list,
    read_categories,
    read_document,
    split_named,
)
from deepimage.data.detection.items import Malformed
from deepimage.data.detection.layout import inside
from deepimage.data.segmentation.items import IGNORED, CocoShape, Issues
from deepimage.data.segmentation.layout import COCO_DIRS, coco_files
from deepimage.errors import DeepImageError

Annotation = tuple[int, Any, int]
"""(class index, the JSON ``segmentation``, iscrowd)."""


@dataclass
class CocoImage:
    """One image record of a COCO file with its annotations, before its image is read."""

    file: Path  # the JSON file, which issues about this image name
    image: Path
    size: tuple[int, int] | None  # (width, height) from the record
    where: str  # "image NAME (id N): "
    annotations: list[Annotation] = field(default_factory=list)


def read_coco(
    root: Path, issues: Issues, names: Sequence[str] | None = None
) -> tuple[list[str], dict[str, list[CocoImage]]]:
    """The classes and the images of each split of COCO data at ``root`` (a folder or a
    JSON file). ``names`` (a class list given) replaces the classes; every category name
    must then be in it. Unreadable files fail through ``issues``."""
    classes: list[str] | None = list(names) if names is not None else None
    splits: dict[str, list[CocoImage]] = {}
    base = root if root.is_dir() else _data_root(root)
    for file in coco_files(root):
        try:
            doc = read_document(file)
            categories = _categories(doc)
            classes = classes or ["background", *(categories[key] for key in sorted(categories))]
            index = _class_index(categories, classes, file, names is not None)
            images = _images(file, doc, base, issues)
            for i, ann in enumerate(json_list(doc, "annotations")):
                where = f"annotations[{i}]"
                image_id = json_field(ann, "image_id", int, where)
                category = json_field(ann, "category_id", int, where)
                if image_id not in images:
                    raise Malformed(f'{where}: image_id {image_id} is not in "images"')
                if category not in index:
                    raise Malformed(f"{where}: category_id {category} is not in the categories")
                if "segmentation" not in ann:
                    raise Malformed(
                        f'{where} has no "segmentation": this COCO file holds boxes only '
                        "(read it as detection data)"
                    )
                record = images[image_id]
                if record is not None:
                    crowd = 1 if ann.get("iscrowd") else 0
                    record.annotations.append((index[category], ann["segmentation"], crowd))
        except Malformed as error:
            issues.fail(file, "malformed_annotation", f"not a readable COCO file: {error}")
            continue
        split = split_named(file.stem)
        splits.setdefault(split, []).extend(r for r in images.values() if r is not None)
    return classes or ["background"], splits


def shapes_of(annotations: Sequence[Annotation], height: int, width: int) -> tuple[CocoShape, ...]:
    """The annotations of one ``height`` x ``width`` image as compressed RLEs, largest first
    (crowd regions included); raises :class:`Malformed` for a segmentation that is neither
    polygons nor an RLE of the image's size."""
    shapes = []
    for i, (index, segmentation, crowd) in enumerate(annotations):
        rle = _rle(segmentation, height, width, i)
        if rle is None:
            continue
        area = float(coco_mask.area(rle))
        counts = rle["counts"]
        shapes.append((area, (index, (height, width, bytes(counts)), crowd)))
    shapes.sort(key=lambda shape: -shape[0])
    return tuple(shape for _, shape in shapes)


def paint(shapes: Sequence[CocoShape], height: int, width: int) -> np.ndarray:
    """The HxW uint8 class mask of ``shapes`` (:func:`shapes_of`): crowd regions 255, then
    objects in order (largest first), each over what lies below it."""
    mask = np.zeros((height, width), np.uint8)
    for index, (h, w, counts), crowd in sorted(shapes, key=lambda shape: -shape[2]):
        if (h, w) != (height, width):
            raise DeepImageError(
                f"a COCO shape of {w}x{h} pixels does not fit its {width}x{height} image"
            )
        pixels = coco_mask.decode({"size": [h, w], "counts": counts}).astype(bool)
        mask[pixels] = IGNORED if crowd else index
    return mask


def _rle(segmentation: Any, height: int, width: int, i: int) -> dict[str, Any] | None:
    where = f"annotation {i + 1} of the image"
    if isinstance(segmentation, list):
        polygons = [_polygon(p, where) for p in segmentation]
        polygons = [p for p in polygons if len(p) >= 6]  # fewer points have no area
        if not polygons:
            return None
        return coco_mask.merge(coco_mask.frPyObjects(polygons, height, width))
    if not (isinstance(segmentation, dict) and {"size", "counts"} <= set(segmentation)):
        raise Malformed(f'{where}: "segmentation" must be polygons or an RLE {{size, counts}}')
    size = segmentation["size"]
    if size != [height, width]:
        raise Malformed(f"{where}: its RLE size {size!r} is not the image's [{height}, {width}]")
    counts = segmentation["counts"]
    try:
        if isinstance(counts, list) and all(_is_count(c) for c in counts):
            rle = coco_mask.frPyObjects(segmentation, height, width)
        elif isinstance(counts, str):
            rle = {"size": [height, width], "counts": counts.encode("ascii")}
        else:
            raise Malformed(f"{where}: RLE counts must be a string or a list of counts")
        coco_mask.area(rle)
    except (ValueError, UnicodeEncodeError) as error:
        raise Malformed(f"{where}: not a valid RLE ({error})") from None
    if isinstance(counts, list) and sum(counts) != height * width:
        raise Malformed(f"{where}: its RLE counts {sum(counts)} pixels, not {height * width}")
    return rle


def _polygon(points: Any, where: str) -> list[float]:
    if not isinstance(points, list) or len(points) % 2 or not all(map(_is_number, points)):
        raise Malformed(f"{where}: a polygon must be a flat list of x, y numbers")
    return [float(v) for v in points]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _categories(doc: dict[str, Any]) -> dict[int, str]:
    categories = read_categories(doc)
    names = list(categories.values())
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise Malformed(f"category name(s) {', '.join(twice)} are used by more than one id")
    return categories


def _class_index(
    categories: dict[int, str], classes: list[str], file: Path, given: bool
) -> dict[int, int]:
    """Category id -> class index, by name."""
    position = {name: i for i, name in enumerate(classes)}
    unknown = sorted(name for name in categories.values() if position.get(name, 0) == 0)
    if unknown:
        whose = "the class list given" if given else "the first COCO file's categories"
        raise Malformed(
            f"categories {', '.join(unknown)} are not among the classes of {whose} "
            f"(class 0, {classes[0]}, is the background)"
        )
    return {key: position[name] for key, name in categories.items()}


def _images(file: Path, doc: dict[str, Any], root: Path, issues: Issues) -> dict[int, Any]:
    """The image records by id (None for an id used twice or a file outside the data)."""
    folders = _image_dirs(root, split_named(file.stem))
    images: dict[int, CocoImage | None] = {}
    for i, record in enumerate(json_list(doc, "images")):
        image_id = json_field(record, "id", int, f"images[{i}]")
        name = json_field(record, "file_name", str, f"images[{i}]")
        where = f"image {name} (id {image_id}): "
        if image_id in images:
            raise Malformed(f"images[{i}]: image id {image_id} is used by more than one image")
        if not inside(root, name):
            issues.fail(
                file,
                "outside_data",
                f"{where}file_name is outside the data set folder {root}; name the image by "
                "its path inside it",
            )
            images[image_id] = None
            continue
        size = (record.get("width"), record.get("height"))
        known = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
        images[image_id] = CocoImage(
            file, _image_path(name, folders), size if known else None, where
        )  # type: ignore[arg-type]
    return images


def _image_path(name: str, folders: list[Path]) -> Path:
    relative = Path(name)
    candidates = [folder / relative for folder in folders if ".." not in relative.parts]
    candidates += [folder / relative.name for folder in folders]
    return next((p for p in candidates if p.is_file()), candidates[0])


def _image_dirs(root: Path, split: str) -> list[Path]:
    images = root / "images"
    return [images / split, images, root / split, root] if split else [images, root]


def _data_root(file: Path) -> Path:
    """The data set folder of a lone COCO file: its folder, or above ``annotations/``."""
    return file.parent.parent if file.parent.name in COCO_DIRS else file.parent

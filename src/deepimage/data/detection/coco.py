"""COCO: JSON annotation files (``xywh`` boxes), read and written.

Read: one ``*.json`` file, or ``annotations/*.json`` (``instances_train.json``,
``instances_val.json``, ... give the splits); images in ``images/``, ``images/<split>/``,
``<split>/`` or beside the JSON. Crowd annotations are skipped. A ``file_name`` outside
the data set folder (absolute, or climbing out with ``..``) and an image id used twice
are errors (``outside_data``, ``duplicate_id``; with ``skip_bad`` the images are left
out). Written:
``images/`` + ``annotations/instances_<split>.json``, category ids 1-based in class order.

Example:
    >>> import json, tempfile, pathlib, numpy as np
    >>> from deepimage.data.detection import DetectionItem
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "a.png", np.zeros((10, 20, 3), np.uint8))
    >>> item = DetectionItem(root / "a.png", 20, 10, np.array([[1, 2, 5.5, 8]], np.float32),
    ...                      np.array([0]))
    >>> data = DetectionData("toy", ["cat"], {"train": [item]}, [], str(root), "voc")
    >>> out = write_coco(data, root / "coco")
    >>> json.loads((out / "annotations/instances_train.json").read_text())["annotations"]
    [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1.0, 2.0, 4.5, 6.0], 'area': 27.0, 'iscrowd': 0}]
    >>> found = read_coco(out, Issues(skip_bad=False))
    >>> found.classes, found.splits["train"][0].boxes.tolist()
    (['cat'], [[1.0, 2.0, 5.5, 8.0]])
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.data.detection.copies import new_output, place_images
from deepimage.data.detection.items import (
    SPLITS,
    UNSPLIT,
    DetectionData,
    Found,
    Issues,
    Malformed,
    RawItem,
)
from deepimage.data.detection.layout import ANNOTATION_DIRS, inside, subdir
from deepimage.io.files import write_json


def read_coco(root: Path, issues: Issues) -> Found:
    """The raw items of a COCO folder or JSON file; unreadable files go to ``issues``."""
    found = Found(None)
    for file in _files(root):
        try:
            categories, raws = _parse(file, root if root.is_dir() else _data_root(root), issues)
        except Malformed as error:
            issues.fail(
                file, "malformed_annotation", f"not a readable COCO annotation file: {error}"
            )
            continue
        found.classes = found.classes or categories
        found.splits.setdefault(split_named(file.stem), []).extend(raws)
    return found


def _data_root(file: Path) -> Path:
    """The data set folder of a lone COCO file: its folder, or above ``annotations/``."""
    return file.parent.parent if file.parent.name in ANNOTATION_DIRS else file.parent


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    annotations = subdir(root, ANNOTATION_DIRS)
    files = sorted(annotations.glob("*.json")) if annotations else []
    files = files or sorted(root.glob("*.json"))
    return [f for f in files if f.stem.startswith("instances")] or files


def split_named(stem: str) -> str:
    """The split a COCO file's name says (``instances_train2017`` -> train), or none."""
    return next((split for split in SPLITS if split in stem.lower()), UNSPLIT)


def _parse(file: Path, root: Path, issues: Issues) -> tuple[list[str], list[RawItem]]:
    doc = read_document(file)
    categories = read_categories(doc)
    images = _images(file, json_list(doc, "images"), issues)
    boxes: dict[int, list[list[float]]] = defaultdict(list)
    names: dict[int, list[str]] = defaultdict(list)
    for i, ann in enumerate(json_list(doc, "annotations")):
        if isinstance(ann, dict) and ann.get("iscrowd"):
            continue
        image_id, bbox, category = _box(ann, f"annotations[{i}]", images)
        boxes[image_id].append(bbox)
        names[image_id].append(categories.get(category, f"category id {category}"))
    folders = _image_dirs(root, split_named(file.stem))
    raws = []
    for image_id, image in images.items():
        if image is None:  # its id was used twice: refused by _images
            continue
        name = json_field(image, "file_name", str, f"image id {image_id}")
        if inside(root, name):
            raws.append(_raw(file, image, name, folders, boxes[image_id], names[image_id]))
        else:
            issues.fail(
                file,
                "outside_data",
                f"image {name} (id {image_id}): file_name is outside the data set folder "
                f"{root}; name the image by its path inside it",
            )
    return [categories[key] for key in sorted(categories)], raws


def _images(file: Path, records: list[Any], issues: Issues) -> dict[int, dict[str, Any] | None]:
    """The image records by id; an id used twice (its boxes could belong to either) is an
    issue, kept as None so that its annotations still find it and are dropped with it."""
    images: dict[int, dict[str, Any] | None] = {}
    for i, image in enumerate(records):
        image_id = json_field(image, "id", int, f"images[{i}]")
        if image_id in images and images[image_id] is not None:
            issues.fail(
                file,
                "duplicate_id",
                f"image id {image_id} is used by more than one image (images[{i}]), so its "
                "boxes cannot be told apart; give every image its own id",
            )
            images[image_id] = None
        images.setdefault(image_id, image)
    return images


def read_document(file: Path) -> dict[str, Any]:
    """A COCO file's JSON object; :class:`Malformed` says why it cannot be one."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"invalid JSON ({error})") from None
    except RecursionError:
        raise Malformed("invalid JSON (nested too deeply)") from None
    except OSError as error:
        raise Malformed(f"cannot read it ({error.strerror or error})") from None
    if not isinstance(doc, dict):
        raise Malformed("the top level must be an object")
    return doc


def read_categories(doc: dict[str, Any]) -> dict[int, str]:
    """``{category id: name}``; an id used twice is :class:`Malformed`."""
    categories: dict[int, str] = {}
    for i, category in enumerate(json_list(doc, "categories")):
        key = json_field(category, "id", int, f"categories[{i}]")
        if key in categories:
            raise Malformed(f"categories[{i}]: category id {key} is used twice")
        categories[key] = json_field(category, "name", str, f"categories[{i}]")
    return categories


def json_list(doc: dict[str, Any], key: str) -> list[Any]:
    """``doc[key]``, which must be a JSON list."""
    value = doc.get(key)
    if not isinstance(value, list):
        raise Malformed(f'"{key}" must be a list, not {type(value).__name__}')
    return value


def json_field(record: Any, key: str, kind: type, where: str) -> Any:
    """``record[key]``, which must be a ``kind`` (a JSON value of that type)."""
    value = record.get(key) if isinstance(record, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Malformed(f'{where}: "{key}" is {value!r}, expected {kind.__name__}')
    return value


def _image_dirs(root: Path, split: str) -> list[Path]:
    images = root / "images"
    return [images / split, images, root / split, root] if split else [images, root]


def _raw(
    file: Path,
    image: dict[str, Any],
    name: str,
    folders: list[Path],
    xywh: list[list[float]],
    names: list[str],
) -> RawItem:
    """One COCO image record (its ``file_name`` ``name`` inside the data set) with its
    ``xywh`` boxes as a pixel ``xyxy`` raw annotation."""
    relative = Path(name)
    candidates = [folder / relative for folder in folders if ".." not in relative.parts]
    candidates += [folder / relative.name for folder in folders]
    path = next((p for p in candidates if p.is_file()), candidates[0])
    size = (image.get("width"), image.get("height"))
    known = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    array = np.array(xywh, np.float64).reshape(-1, 4)
    pixels = np.concatenate([array[:, :2], array[:, :2] + array[:, 2:]], axis=1)
    where = f"image {name} (id {image['id']}): "
    return RawItem(file, path, size if known else None, pixels, names, where=where)


def _box(ann: Any, where: str, images: dict[int, Any]) -> tuple[int, list[float], int]:
    """(image id, [x, y, width, height], category id) of one annotation, checked."""
    image_id = json_field(ann, "image_id", int, where)
    if image_id not in images:
        raise Malformed(f'{where}: image_id {image_id} is not in "images"')
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(map(_is_number, bbox))):
        raise Malformed(f'{where}: "bbox" must be 4 numbers [x, y, width, height], not {bbox!r}')
    return image_id, [float(v) for v in bbox], json_field(ann, "category_id", int, where)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def write_coco(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as COCO: ``images/`` + ``annotations/instances_<split>.json``.

    Boxes become ``[x, y, width, height]`` floats; category ids are 1-based in class order.
    """
    out, names = new_output(data, out_dir)
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(data.classes)]
    for split, items in data.splits.items():
        place_images(items, out / "images", names)
        document = {
            "images": [
                {
                    "id": i,
                    "file_name": names[item.image],
                    "width": item.width,
                    "height": item.height,
                }
                for i, item in enumerate(items, 1)
            ],
            "annotations": coco_annotations(
                [(i, item.boxes, item.labels + 1) for i, item in enumerate(items, 1)]
            ),
            "categories": categories,
        }
        write_json(out / "annotations" / f"instances_{split}.json", document)
    return out


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """Pixel ``xyxy`` boxes as COCO's ``[x, y, width, height]`` (float64).

    Example:
        >>> xyxy_to_xywh(np.array([[1, 2, 5.5, 8]])).tolist()
        [[1.0, 2.0, 4.5, 6.0]]
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.column_stack([b[:, :2], b[:, 2:] - b[:, :2]])


def coco_annotations(
    images: Sequence[tuple[int, np.ndarray, np.ndarray]],
) -> list[dict[str, Any]]:
    """COCO annotation records for ``(image_id, xyxy boxes, 1-based category ids)`` triples.

    Example:
        >>> coco_annotations([(7, np.array([[0, 0, 2, 3]]), np.array([1]))])[0]["bbox"]
        [0.0, 0.0, 2.0, 3.0]
    """
    annotations: list[dict[str, Any]] = []
    for image_id, boxes, categories in images:
        for box, category in zip(xyxy_to_xywh(boxes).tolist(), categories, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(category),
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                }
            )
    return annotations

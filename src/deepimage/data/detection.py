"""Detection data: COCO JSON, Pascal VOC XML and YOLO txt, read into one model and written back.

:func:`load_detection_data` recognises a folder's layout and returns a
:class:`DetectionData`: class names, "train" / "val" / "test" splits of
:class:`DetectionItem` (boxes in absolute pixel ``xyxy``, the in-memory convention) and
every issue met on the way. Coordinates are converted only here, at the format
boundary: COCO ``xywh``, YOLO normalised ``cxcywh``, VOC 1-based inclusive integer
``xyxy`` (``xmin - 1, ymin - 1, xmax, ymax`` in memory). :func:`write_coco`,
:func:`write_voc` and :func:`write_yolo` write a data set back out and :func:`convert`
does both. Nothing here imports torch.

Layouts read (each may also sit in ``train/``, ``val/``, ``test/`` subfolders):

- VOC: ``annotations/*.xml`` (or ``Annotations/``) beside ``images/`` (or
  ``JPEGImages/``); splits from ``ImageSets/Main/<split>.txt`` when present; an optional
  ``classes.txt`` fixes the class list (other names are unknown classes).
- COCO: one ``*.json`` file, or ``annotations/*.json`` (``instances_train.json``,
  ``instances_val.json``, ... give the splits); images in ``images/``,
  ``images/<split>/``, ``<split>/`` or beside the JSON. Crowd annotations are skipped.
- YOLO: ``images/`` + ``labels/*.txt`` (optionally ``images/<split>/`` +
  ``labels/<split>/``) with ``classes.txt`` or ``data.yaml`` names.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "voc" / "images" / "a.png", np.zeros((40, 60, 3), np.uint8))
    >>> _ = (root / "voc" / "annotations").mkdir()
    >>> _ = (root / "voc" / "annotations" / "a.xml").write_text(
    ...     "<annotation><filename>a.png</filename><object><name>cat</name><bndbox>"
    ...     "<xmin>11</xmin><ymin>6</ymin><xmax>30</xmax><ymax>45</ymax></bndbox></object>"
    ...     "</annotation>")
    >>> data = load_detection_data(root / "voc", val_split=0)
    >>> item = data.splits["train"][0]
    >>> data.format, data.classes, item.boxes.tolist(), item.labels.tolist()
    ('voc', ['cat'], [[10.0, 5.0, 30.0, 40.0]], [0])
    >>> [issue["kind"] for issue in data.issues]
    ['clipped_box']
    >>> convert(root / "voc", root / "yolo", "yolo")["boxes"]
    1
    >>> (root / "yolo" / "labels" / "train" / "a.txt").read_text()
    '0 0.333333333 0.5625 0.333333333 0.875\\n'
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from deepimage.data.classification import data_search_dirs
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError
from deepimage.io.files import atomic_write, write_json, write_text, write_yaml
from deepimage.io.images import IMAGE_EXTENSIONS, ImageInfo, probe_image

Format = Literal["coco", "voc", "yolo"]
FORMATS: tuple[Format, ...] = ("coco", "voc", "yolo")
SPLITS = ("train", "val", "test")
ERROR_KINDS = frozenset({"malformed_annotation", "missing_image", "bad_image", "unknown_class"})
"""Issue kinds that stop loading, or with ``skip_bad`` drop the item; the others are fixed
(``clipped_box``, ``zero_area_box``, ``size_mismatch``) or informative (``no_boxes``)."""

_UNSPLIT = ""  # split key of items whose data set has no split of its own
_CLIP_TOLERANCE = 0.01  # pixels a box may stick out (float noise) before clipping is reported
_ANNOTATION_DIRS = ("annotations", "Annotations")
_IMAGE_DIRS = ("images", "JPEGImages")
_VOC_SPLIT_DIR = Path("ImageSets", "Main")
_VOC_TO_PIXELS = np.array([1, 1, 0, 0], np.float64)  # VOC 1-based inclusive -> edge xyxy
_WORKERS = min(8, os.cpu_count() or 1)


@dataclass
class DetectionItem:
    """One image and its boxes: float32 Nx4 absolute pixel xyxy, int64 N class indices."""

    image: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray


@dataclass
class DetectionData:
    """A detection data set, whatever its format.

    ``splits`` keys are among "train", "val", "test" (empty ones left out); ``issues``
    lists ``{"path", "kind", "detail"}`` for everything fixed, skipped or worth knowing
    (kinds in :data:`ERROR_KINDS` plus ``clipped_box``, ``zero_area_box``,
    ``size_mismatch``, ``no_boxes``); ``source`` is the folder or file read and
    ``format`` one of :data:`FORMATS`.
    """

    name: str
    classes: list[str]
    splits: dict[str, list[DetectionItem]]
    issues: list[dict[str, str]]
    source: str
    format: Format


@dataclass
class _Raw:
    """An annotation as read, before class, size and box checks."""

    annotation: Path  # the file an issue about this item names
    image: Path
    size: tuple[int, int] | None  # (width, height) from the annotation
    boxes: np.ndarray  # float64 Nx4 pixel xyxy, or normalised cxcywh when ``normalised``
    names: list[str]
    normalised: bool = False
    where: str = ""  # prefix locating the item inside a shared annotation file


@dataclass
class _Found:
    classes: list[str] | None  # as declared by the format (COCO categories, YOLO names)
    splits: dict[str, list[_Raw]] = field(default_factory=dict)


class _Malformed(ValueError):
    """An annotation file that cannot be read; the message says where and why."""


class _Issues:
    """Collects issues; an error raises unless ``skip_bad``."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.items: list[dict[str, str]] = []

    def note(self, path: Path, kind: str, detail: str) -> None:
        self.items.append({"path": str(path), "kind": kind, "detail": detail})

    def fail(self, path: Path, kind: str, detail: str, error: DeepImageError | None = None) -> None:
        if not self.skip_bad:
            raise error or DeepImageError(
                f"{path}: {detail}. Fix or remove the file, or pass --skip-bad to skip it."
            )
        self.note(path, kind, detail)


# --- loading -------------------------------------------------------------------------


def load_detection_data(
    spec: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    val_split: float = 0.2,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    check_images: bool = True,
) -> DetectionData:
    """Load a COCO, VOC or YOLO data set from a folder, a COCO JSON file or a data set name.

    A name resolves through :func:`~deepimage.data.classification.data_search_dirs`
    (``$DEEPIMAGE_DATA/<name>`` first). Data without a split of its own gets a seeded
    ``val_split`` fraction as "val". ``classes`` fixes the class list (else the format's
    own, or for VOC the sorted names found). Boxes sticking out of the image are clipped,
    zero-area boxes dropped and images without boxes kept, each reported in ``issues``.
    Malformed annotations, missing or undecodable images (fully decoded when
    ``check_images``; sizes missing from the annotation are always probed) and unknown
    classes raise a :class:`~deepimage.errors.DeepImageError` naming the file, or with
    ``skip_bad`` drop the item and are listed in ``issues``.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for i in range(5):
        ...     write_image(root / "images" / f"{i}.png", np.zeros((8, 8), np.uint8))
        >>> _ = (root / "labels").mkdir()
        >>> _ = (root / "labels" / "0.txt").write_text("0 0.5 0.5 0.5 0.25\\n")
        >>> _ = (root / "classes.txt").write_text("dot\\n")
        >>> data = load_detection_data(root, val_split=0.4, seed=0)
        >>> {name: [item.image.stem for item in items] for name, items in data.splits.items()}
        {'train': ['0', '1', '3'], 'val': ['2', '4']}
        >>> data.splits["train"][0].boxes.tolist(), data.splits["train"][1].boxes.shape
        ([[2.0, 3.0, 6.0, 5.0]], (0, 4))
    """
    if not 0 <= val_split < 1:
        raise DeepImageError(f"val_split must be in [0, 1), not {val_split}")
    root, fmt = _locate(spec)
    issues = _Issues(skip_bad)
    found = _read(root, fmt, issues)
    names = list(classes) if classes is not None else found.classes or _names_in(found)
    raw_splits = _assign_splits(found.splits, val_split, seed)
    splits = {
        split: _items(raws, names, issues, check_images) for split, raws in raw_splits.items()
    }
    splits = {split: items for split, items in splits.items() if items}
    if not splits:
        raise DataNotFoundError(f"{root}: no usable annotated images ({len(issues.items)} issues)")
    return DetectionData(root.stem, names, splits, issues.items, str(root), fmt)


def detection_format(spec: str | os.PathLike[str]) -> Format | None:
    """The format of the detection data ``spec`` names, or None if it is not detection data.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> detection_format(root) is None
        True
        >>> _ = (root / "train" / "annotations").mkdir(parents=True)
        >>> _ = (root / "train" / "annotations" / "a.xml").write_text("<annotation/>")
        >>> detection_format(root)
        'voc'
    """
    root = _find(spec)
    return None if root is None else _layout_format(root)


def _find(spec: str | os.PathLike[str]) -> Path | None:
    path = Path(spec).expanduser()
    if path.exists():
        return path
    return next((p for p in data_search_dirs(os.fspath(spec)) if p.is_dir()), None)


def _locate(spec: str | os.PathLike[str]) -> tuple[Path, Format]:
    root = _find(spec)
    fmt = None if root is None else _layout_format(root)
    if root is None or fmt is None:
        looked = "\n".join(f"  {p}" for p in [Path(spec), *data_search_dirs(os.fspath(spec))])
        raise DataNotFoundError(
            f"no detection data found for {spec!r}; looked for a COCO JSON file or a folder "
            "with VOC annotations/*.xml + images/, COCO annotations/*.json, or YOLO "
            f"labels/*.txt + images/ in:\n{looked}"
        )
    return root, fmt


def _layout_format(path: Path) -> Format | None:
    return _own_format(path) or next(
        (fmt for folder in _split_dirs(path) if (fmt := _own_format(folder))), None
    )


def _own_format(path: Path) -> Format | None:
    """The format of ``path`` itself (no split subfolders)."""
    if path.is_file():
        return "coco" if path.suffix.lower() == ".json" else None
    annotations = _subdir(path, _ANNOTATION_DIRS)
    if annotations is not None and any(annotations.glob("*.xml")):
        return "voc"
    if annotations is not None and any(annotations.glob("*.json")):
        return "coco"
    if (path / "labels").is_dir() and (path / "images").is_dir():
        return "yolo"
    has_images = (path / "images").is_dir() or bool(_image_files(path))
    return "coco" if has_images and any(path.glob("*.json")) else None


def _split_dirs(path: Path) -> list[Path]:
    return [path / split for split in SPLITS if (path / split).is_dir()]


def _subdir(path: Path, names: Sequence[str]) -> Path | None:
    return next((path / name for name in names if (path / name).is_dir()), None)


def _image_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def _read(root: Path, fmt: Format, issues: _Issues) -> _Found:
    """Read ``root``, or its split subfolders of format ``fmt``, into raw annotations."""
    reader = _READERS[fmt]
    if _own_format(root) == fmt:
        return reader(root, issues)
    parts = {f.name: reader(f, issues) for f in _split_dirs(root) if _own_format(f) == fmt}
    return _Found(
        next((part.classes for part in parts.values() if part.classes), None),
        {
            split: [raw for raws in part.splits.values() for raw in raws]
            for split, part in parts.items()
        },
    )


def _names_in(found: _Found) -> list[str]:
    return sorted({name for raws in found.splits.values() for raw in raws for name in raw.names})


def _negative(image: Path) -> _Raw:
    return _Raw(image, image, None, np.zeros((0, 4)), [])


# --- Pascal VOC ----------------------------------------------------------------------


def _read_voc(root: Path, issues: _Issues) -> _Found:
    annotations = _subdir(root, _ANNOTATION_DIRS) or root / "annotations"
    images = _subdir(root, _IMAGE_DIRS) or root
    xmls = sorted(annotations.glob("*.xml"))
    raws = []
    for xml in xmls:
        try:
            raws.append(_parse_voc(xml, images))
        except _Malformed as error:
            issues.fail(
                xml, "malformed_annotation", f"not a readable Pascal VOC annotation: {error}"
            )
    claimed = {raw.image for raw in raws} | {xml.stem for xml in xmls}
    raws += [_negative(p) for p in _image_files(images) if not claimed & {p, p.stem}]
    return _Found(_listed_classes(root), _voc_splits(root, raws))


def _parse_voc(xml: Path, images: Path) -> _Raw:
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as error:
        raise _Malformed(f"malformed XML ({error})") from None
    boxes, names = [], []
    for index, obj in enumerate(root.iter("object"), 1):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        if not name or box is None:
            raise _Malformed(f"object {index}: <name> and <bndbox> are required")
        boxes.append(
            [_number(box, tag, f"object {index}") for tag in ("xmin", "ymin", "xmax", "ymax")]
        )
        names.append(name)
    image = _image_in(images, (root.findtext("filename") or "").strip(), xml.stem)
    pixels = np.array(boxes, np.float64).reshape(-1, 4) - _VOC_TO_PIXELS
    return _Raw(xml, image, _voc_size(root), pixels, names)


def _number(element: ET.Element, tag: str, where: str) -> float:
    text = element.findtext(tag)
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _Malformed(f"{where}: <{tag}> is {text!r}, not a number") from None


def _voc_size(root: ET.Element) -> tuple[int, int] | None:
    size = root.find("size")
    if size is None or size.find("width") is None or size.find("height") is None:
        return None
    width, height = (int(_number(size, tag, "<size>")) for tag in ("width", "height"))
    return (width, height) if width > 0 and height > 0 else None


def _image_in(folder: Path, filename: str, stem: str) -> Path:
    """The image ``filename`` names in ``folder``, else one with the annotation's stem."""
    named = folder / Path(filename).name if filename else None
    if named is not None and named.is_file():
        return named
    same_stem = [p for p in _image_files(folder) if p.stem == stem]
    return same_stem[0] if same_stem else named or folder / f"{stem}.jpg"


def _voc_splits(root: Path, raws: list[_Raw]) -> dict[str, list[_Raw]]:
    """Splits from ``ImageSets/Main/<split>.txt`` (items listed nowhere are left out)."""
    lists = {s: root / _VOC_SPLIT_DIR / f"{s}.txt" for s in SPLITS}
    lists = {s: set(path.read_text().split()) for s, path in lists.items() if path.is_file()}
    if not lists:
        return {_UNSPLIT: raws}
    return {s: [raw for raw in raws if raw.image.stem in stems] for s, stems in lists.items()}


# --- COCO ----------------------------------------------------------------------------


def _read_coco(root: Path, issues: _Issues) -> _Found:
    found = _Found(None)
    for file in _coco_files(root):
        try:
            categories, raws = _parse_coco(file, root if root.is_dir() else _coco_root(root))
        except _Malformed as error:
            issues.fail(
                file, "malformed_annotation", f"not a readable COCO annotation file: {error}"
            )
            continue
        found.classes = found.classes or categories
        found.splits.setdefault(_split_named(file.stem), []).extend(raws)
    return found


def _coco_root(file: Path) -> Path:
    """The data set folder of a lone COCO file: its folder, or above ``annotations/``."""
    return file.parent.parent if file.parent.name in _ANNOTATION_DIRS else file.parent


def _coco_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    annotations = _subdir(root, _ANNOTATION_DIRS)
    files = sorted(annotations.glob("*.json")) if annotations else []
    files = files or sorted(root.glob("*.json"))
    return [f for f in files if f.stem.startswith("instances")] or files


def _split_named(stem: str) -> str:
    return next((split for split in SPLITS if split in stem.lower()), _UNSPLIT)


def _parse_coco(file: Path, root: Path) -> tuple[list[str], list[_Raw]]:
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _Malformed(f"invalid JSON ({error})") from None
    if not isinstance(doc, dict):
        raise _Malformed("the top level must be an object")
    categories = {
        _field(c, "id", int, f"categories[{i}]"): _field(c, "name", str, f"categories[{i}]")
        for i, c in enumerate(_list(doc, "categories"))
    }
    images = {
        _field(image, "id", int, f"images[{i}]"): image
        for i, image in enumerate(_list(doc, "images"))
    }
    boxes: dict[int, list[list[float]]] = defaultdict(list)
    names: dict[int, list[str]] = defaultdict(list)
    for i, ann in enumerate(_list(doc, "annotations")):
        if isinstance(ann, dict) and ann.get("iscrowd"):
            continue
        image_id, bbox, category = _coco_box(ann, f"annotations[{i}]", images)
        boxes[image_id].append(bbox)
        names[image_id].append(categories.get(category, f"category id {category}"))
    folders = _image_dirs(root, _split_named(file.stem))
    raws = [
        _coco_raw(file, image, folders, boxes[image_id], names[image_id])
        for image_id, image in images.items()
    ]
    return [categories[key] for key in sorted(categories)], raws


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise _Malformed(f'"{key}" must be a list, not {type(value).__name__}')
    return value


def _field(record: Any, key: str, kind: type, where: str) -> Any:
    """``record[key]``, which must be a ``kind`` (a JSON value of that type)."""
    value = record.get(key) if isinstance(record, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Malformed(f'{where}: "{key}" is {value!r}, expected {kind.__name__}')
    return value


def _image_dirs(root: Path, split: str) -> list[Path]:
    images = root / "images"
    return [images / split, images, root / split, root] if split else [images, root]


def _coco_raw(
    file: Path,
    image: dict[str, Any],
    folders: list[Path],
    xywh: list[list[float]],
    names: list[str],
) -> _Raw:
    """One COCO image record with its ``xywh`` boxes as a pixel ``xyxy`` raw annotation."""
    name = _field(image, "file_name", str, f"image id {image['id']}")
    relative = Path(name)
    candidates = [folder / relative for folder in folders if ".." not in relative.parts]
    candidates += [folder / relative.name for folder in folders]
    path = next((p for p in candidates if p.is_file()), candidates[0])
    size = (image.get("width"), image.get("height"))
    known = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    array = np.array(xywh, np.float64).reshape(-1, 4)
    pixels = np.concatenate([array[:, :2], array[:, :2] + array[:, 2:]], axis=1)
    where = f"image {name} (id {image['id']}): "
    return _Raw(file, path, size if known else None, pixels, names, where=where)


def _coco_box(ann: Any, where: str, images: dict[int, Any]) -> tuple[int, list[float], int]:
    """(image id, [x, y, width, height], category id) of one annotation, checked."""
    image_id = _field(ann, "image_id", int, where)
    if image_id not in images:
        raise _Malformed(f'{where}: image_id {image_id} is not in "images"')
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(map(_is_number, bbox))):
        raise _Malformed(f'{where}: "bbox" must be 4 numbers [x, y, width, height], not {bbox!r}')
    return image_id, [float(v) for v in bbox], _field(ann, "category_id", int, where)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- YOLO ----------------------------------------------------------------------------


def _read_yolo(root: Path, issues: _Issues) -> _Found:
    classes = _yolo_classes(root)
    images, labels = root / "images", root / "labels"
    groups = {s: (images / s, labels / s) for s in SPLITS if (images / s).is_dir()}
    groups = groups or {_UNSPLIT: (images, labels)}
    return _Found(
        classes,
        {s: _yolo_folder(img, lbl, classes, issues) for s, (img, lbl) in groups.items()},
    )


def _yolo_classes(root: Path) -> list[str]:
    names = _listed_classes(root)
    if names is None:
        raise DataNotFoundError(
            f"{root}: YOLO data needs its class names in classes.txt or data.yaml"
        )
    return names


def _listed_classes(root: Path) -> list[str] | None:
    """Class names from ``classes.txt`` or ``data.yaml`` in ``root`` or its parent."""
    for folder in (root, root.parent):
        if (folder / "classes.txt").is_file():
            return [
                line.strip()
                for line in (folder / "classes.txt").read_text().splitlines()
                if line.strip()
            ]
        if (folder / "data.yaml").is_file():
            return _yaml_names(folder / "data.yaml")
    return None


def _yaml_names(path: Path) -> list[str]:
    try:
        names = (yaml.safe_load(path.read_text()) or {}).get("names")
    except (yaml.YAMLError, AttributeError) as error:
        raise DeepImageError(f"{path}: not a readable data.yaml ({error})") from None
    if isinstance(names, dict):
        return [str(names[key]) for key in sorted(names)]
    if isinstance(names, list):
        return [str(name) for name in names]
    raise DeepImageError(f'{path}: "names" must be a list or a mapping of class names')


def _yolo_folder(images: Path, labels: Path, classes: list[str], issues: _Issues) -> list[_Raw]:
    image_files = {p.stem: p for p in _image_files(images)}
    raws = []
    for stem, image in sorted(image_files.items()):
        txt = labels / f"{stem}.txt"
        try:
            raws.append(_parse_yolo(txt, image, classes) if txt.is_file() else _negative(image))
        except _Malformed as error:
            issues.fail(txt, "malformed_annotation", f"not a readable YOLO label file: {error}")
    for txt in sorted(labels.glob("*.txt")):
        if txt.stem not in image_files:
            issues.fail(txt, "missing_image", f"no image named {txt.stem}.* in {images}")
    return raws


def _parse_yolo(txt: Path, image: Path, classes: list[str]) -> _Raw:
    boxes, names = [], []
    for number, line in enumerate(txt.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            index, *values = line.split()
            box = [float(v) for v in values]
            label = int(index)
        except ValueError:
            box = []
        if len(box) != 4 or label < 0:
            raise _Malformed(f"line {number}: expected 'class cx cy w h', got {line.strip()!r}")
        boxes.append(box)
        names.append(classes[label] if label < len(classes) else f"class index {label}")
    return _Raw(
        txt, image, None, np.array(boxes, np.float64).reshape(-1, 4), names, normalised=True
    )


_READERS: dict[Format, Callable[[Path, _Issues], _Found]] = {
    "coco": _read_coco,
    "voc": _read_voc,
    "yolo": _read_yolo,
}


# --- checks --------------------------------------------------------------------------


def _assign_splits(
    splits: dict[str, list[_Raw]], val_split: float, seed: int
) -> dict[str, list[_Raw]]:
    """Named splits as they are; unsplit items go to a seeded train/val split."""
    named = {s: sorted(raws, key=lambda r: str(r.image)) for s, raws in splits.items() if s}
    rest = sorted(splits.get(_UNSPLIT, []), key=lambda r: str(r.image))
    if not rest:
        return named
    if named:
        return {**named, "train": named.get("train", []) + rest}
    count = min(int(len(rest) * val_split + 0.5), len(rest) - 1)
    chosen = set(np.random.default_rng(seed).permutation(len(rest))[:count].tolist())
    return {
        "train": [raw for i, raw in enumerate(rest) if i not in chosen],
        "val": [raw for i, raw in enumerate(rest) if i in chosen],
    }


def _items(
    raws: list[_Raw], classes: list[str], issues: _Issues, check_images: bool
) -> list[DetectionItem]:
    index = {name: i for i, name in enumerate(classes)}
    with ThreadPoolExecutor(_WORKERS) as pool:
        probes = list(pool.map(lambda raw: _probe(raw, check_images), raws))
    items = [_item(raw, probe, index, issues) for raw, probe in zip(raws, probes, strict=True)]
    return [item for item in items if item is not None]


def _probe(raw: _Raw, check_images: bool) -> ImageInfo | BadImageError | None:
    """Decode the image when asked to or when its size is unknown; None when skipped."""
    if not raw.image.is_file() or (raw.size is not None and not check_images):
        return None
    try:
        return probe_image(raw.image)
    except BadImageError as error:
        return error


def _item(
    raw: _Raw, probe: ImageInfo | BadImageError | None, index: dict[str, int], issues: _Issues
) -> DetectionItem | None:
    if not raw.image.is_file():
        issues.fail(raw.annotation, "missing_image", f"{raw.where}image {raw.image} not found")
        return None
    if isinstance(probe, BadImageError):
        issues.fail(raw.image, "bad_image", probe.reason, probe)
        return None
    unknown = sorted(set(raw.names) - set(index))
    if unknown:
        known = ", ".join(index) or "none"
        issues.fail(
            raw.annotation,
            "unknown_class",
            f"{raw.where}unknown class(es) {', '.join(unknown)} (classes: {known})",
        )
        return None
    width, height = _size(raw, probe, issues)
    scale = np.array([width, height] * 2, np.float64)
    boxes = _cxcywh_to_xyxy(raw.boxes * scale) if raw.normalised else raw.boxes.copy()
    labels = np.array([index[name] for name in raw.names], np.int64)
    keep = _checked_boxes(raw, boxes, width, height, issues)
    if not keep.any():
        issues.note(raw.annotation, "no_boxes", f"{raw.where}no boxes: kept as a negative image")
    return DetectionItem(raw.image, width, height, boxes[keep].astype(np.float32), labels[keep])


def _size(raw: _Raw, probe: ImageInfo | None, issues: _Issues) -> tuple[int, int]:
    if probe is None:
        return raw.size  # type: ignore[return-value]  # probed whenever it is None
    actual = (probe.width, probe.height)
    if raw.size is not None and raw.size != actual:
        issues.note(
            raw.annotation,
            "size_mismatch",
            f"{raw.where}annotation says {raw.size[0]}x{raw.size[1]}, image {raw.image.name} is "
            f"{actual[0]}x{actual[1]}: the image's size is used",
        )
    return actual


def _cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], axis=1
    )


def _checked_boxes(
    raw: _Raw, boxes: np.ndarray, width: int, height: int, issues: _Issues
) -> np.ndarray:
    """Clip ``boxes`` in place to the image; the mask of boxes kept. Reports every change."""
    keep = np.zeros(len(boxes), bool)
    limits = np.array([width, height, width, height], np.float64)
    for i, box in enumerate(boxes):
        where = f"{raw.where}box {i + 1} {_xyxy_text(box)}"
        if not _has_area(box):
            issues.note(raw.annotation, "zero_area_box", f"{where} has no area: dropped")
            continue
        clipped = np.clip(box, 0, limits)
        keep[i] = _has_area(clipped)
        if np.abs(clipped - box).max() > _CLIP_TOLERANCE:
            done = f"clipped to {_xyxy_text(clipped)}" if keep[i] else "dropped"
            issues.note(
                raw.annotation,
                "clipped_box",
                f"{where} is outside the {width}x{height} image: {done}",
            )
        boxes[i] = clipped
    return keep


def _has_area(box: np.ndarray) -> bool:
    return bool(box[2] > box[0] and box[3] > box[1])  # False for NaN too


def _xyxy_text(box: np.ndarray) -> str:
    return "xyxy [" + ", ".join(f"{v:g}" for v in box) + "]"


# --- writing -------------------------------------------------------------------------


def write_coco(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as COCO: ``images/`` + ``annotations/instances_<split>.json``.

    Boxes become ``[x, y, width, height]`` floats; category ids are 1-based in class order.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> write_image(root / "a.png", np.zeros((10, 20, 3), np.uint8))
        >>> item = DetectionItem(root / "a.png", 20, 10, np.array([[1, 2, 5.5, 8]], np.float32),
        ...                      np.array([0]))
        >>> data = DetectionData("toy", ["cat"], {"train": [item]}, [], str(root), "voc")
        >>> out = write_coco(data, root / "coco")
        >>> import json; json.loads((out / "annotations/instances_train.json").read_text())["annotations"]
        [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1.0, 2.0, 4.5, 6.0], 'area': 27.0, 'iscrowd': 0}]
    """
    out, names = _new_output(data, out_dir)
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(data.classes)]
    for split, items in data.splits.items():
        _place_images(items, out / "images", names)
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


def write_voc(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as Pascal VOC: ``images/``, ``annotations/*.xml``, ``ImageSets/Main/``.

    Coordinates become VOC's 1-based inclusive integers (rounded: within 1 pixel).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> write_image(root / "a.png", np.zeros((10, 20, 3), np.uint8))
        >>> item = DetectionItem(root / "a.png", 20, 10, np.array([[0, 2, 5, 8]], np.float32),
        ...                      np.array([0]))
        >>> data = DetectionData("toy", ["cat"], {"val": [item]}, [], str(root), "coco")
        >>> out = write_voc(data, root / "voc")
        >>> load_detection_data(out).splits["val"][0].boxes.tolist()
        [[0.0, 2.0, 5.0, 8.0]]
    """
    out, names = _new_output(data, out_dir)
    for split, items in data.splits.items():
        _place_images(items, out / "images", names)
        stems = [Path(names[item.image]).stem for item in items]
        for stem, item in zip(stems, items, strict=True):
            write_text(
                out / "annotations" / f"{stem}.xml", _voc_xml(item, names[item.image], data.classes)
            )
        write_text(out / _VOC_SPLIT_DIR / f"{split}.txt", "".join(f"{stem}\n" for stem in stems))
    return out


def _voc_xml(item: DetectionItem, filename: str, classes: list[str]) -> str:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "images"
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for tag, value in (("width", item.width), ("height", item.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    corners = np.rint(item.boxes.astype(np.float64) + _VOC_TO_PIXELS).astype(np.int64)
    corners[:, 2:] = np.maximum(corners[:, 2:], corners[:, :2])  # keep at least one pixel
    for box, label in zip(corners, item.labels, strict=True):
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = classes[label]
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
            ET.SubElement(bndbox, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def write_yolo(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as YOLO: ``images/<split>/``, ``labels/<split>/``, classes and data.yaml.

    Each label line is ``class cx cy w h``, normalised by the image size (9 digits).

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
    """
    out, names = _new_output(data, out_dir)
    for split, items in data.splits.items():
        _place_images(items, out / "images" / split, names)
        for item in items:
            label_file = out / "labels" / split / f"{Path(names[item.image]).stem}.txt"
            write_text(label_file, _yolo_lines(item))
    write_text(out / "classes.txt", "".join(f"{name}\n" for name in data.classes))
    splits = {split: f"images/{split}" for split in data.splits}
    write_yaml(out / "data.yaml", {**splits, "names": dict(enumerate(data.classes))})
    return out


def _yolo_lines(item: DetectionItem) -> str:
    boxes = item.boxes.astype(np.float64)
    centres, sizes = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
    scale = np.array([item.width, item.height] * 2, np.float64)
    normalised = np.concatenate([centres, sizes], axis=1) / scale
    return "".join(
        f"{label} " + " ".join(f"{v:.9g}" for v in row) + "\n"
        for label, row in zip(item.labels, normalised, strict=True)
    )


def _new_output(
    data: DetectionData, out_dir: str | os.PathLike[str]
) -> tuple[Path, dict[Path, str]]:
    """A new or empty output folder, and a unique output file name for every image."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DeepImageError(
            f"{out}: already exists and is not empty; choose a new output folder "
            "(nothing is overwritten)"
        )
    out.mkdir(parents=True, exist_ok=True)
    names: dict[Path, str] = {}
    used: set[str] = set()
    for item in (item for items in data.splits.values() for item in items):
        if item.image not in names:
            names[item.image] = _unique_name(item.image, used)
    return out, names


def _unique_name(image: Path, used: set[str]) -> str:
    """``image``'s file name, or ``<stem>_<k><suffix>`` when its stem is taken."""
    name, k = image.name, 1
    while Path(name).stem.lower() in used:
        name, k = f"{image.stem}_{k}{image.suffix}", k + 1
    used.add(Path(name).stem.lower())
    return name


def _place_images(items: list[DetectionItem], folder: Path, names: dict[Path, str]) -> None:
    """Copy each image into ``folder``. Not hard links: an output edited in place would
    change the input through a shared inode."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        with open(item.image, "rb") as source:
            atomic_write(
                folder / names[item.image],
                lambda out, source=source: shutil.copyfileobj(source, out),
                durable=False,
            )


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
    val_split: float = 0.2,
    seed: int = 0,
    skip_bad: bool = False,
) -> dict[str, Any]:
    """Load ``spec`` (any format) and write it as ``to`` into the new folder ``out_dir``.

    Returns a JSON-ready summary: formats, output folder, images per split, boxes,
    classes and the issues met (see :func:`load_detection_data`).

    Example:
        >>> convert("no-such-data", "out", "coco")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepimage.errors.DataNotFoundError: no detection data found for 'no-such-data'...
    """
    if to not in _WRITERS:
        raise DeepImageError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    data = load_detection_data(spec, skip_bad=skip_bad, val_split=val_split, seed=seed)
    out = _WRITERS[to](data, out_dir)
    items = [item for split in data.splits.values() for item in split]
    return {
        "from": data.format,
        "to": to,
        "source": data.source,
        "out": str(out),
        "splits": {split: len(split_items) for split, split_items in data.splits.items()},
        "boxes": sum(len(item.boxes) for item in items),
        "classes": data.classes,
        "issues": data.issues,
    }


# --- inspection ----------------------------------------------------------------------


def inspect_detection(spec: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON-ready health report on detection data (bad items skipped and named, never raised).

    Per split: images, boxes, negative images, and per class images and boxes; box width,
    height and area statistics over all splits; ``issues`` grouped by kind, each naming
    its file; ``broken_files`` (the files behind :data:`ERROR_KINDS` issues).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> write_image(root / "images" / "a.png", np.zeros((8, 8), np.uint8))
        >>> write_image(root / "images" / "b.png", np.zeros((8, 8), np.uint8))
        >>> _ = (root / "labels").mkdir()
        >>> _ = (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\\n")
        >>> _ = (root / "classes.txt").write_text("dot\\n")
        >>> report = inspect_detection(root)
        >>> report["splits"]["train"]["boxes"], report["issue_counts"], report["broken_files"]
        (1, {'no_boxes': 1}, [])
    """
    data = load_detection_data(spec, skip_bad=True, val_split=0.2)
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for issue in data.issues:
        grouped[issue["kind"]].append({"path": issue["path"], "detail": issue["detail"]})
    all_boxes = np.concatenate([item.boxes for items in data.splits.values() for item in items])
    sizes = all_boxes[:, 2:] - all_boxes[:, :2]
    return {
        "task": "detection",
        "name": data.name,
        "source": data.source,
        "format": data.format,
        "classes": data.classes,
        "splits": {
            split: _split_summary(items, data.classes) for split, items in data.splits.items()
        },
        "box_size": {
            "width": _stats(sizes[:, 0]),
            "height": _stats(sizes[:, 1]),
            "area": _stats(sizes[:, 0] * sizes[:, 1]),
        },
        "issue_counts": {kind: len(issues) for kind, issues in grouped.items()},
        "issues": dict(grouped),
        "broken_files": sorted({i["path"] for i in data.issues if i["kind"] in ERROR_KINDS}),
    }


def _split_summary(items: list[DetectionItem], classes: list[str]) -> dict[str, Any]:
    boxes = Counter(int(label) for item in items for label in item.labels)
    images = Counter(int(label) for item in items for label in set(item.labels.tolist()))
    return {
        "images": len(items),
        "boxes": sum(boxes.values()),
        "negatives": sum(len(item.boxes) == 0 for item in items),
        "per_class": {
            name: {"images": images[i], "boxes": boxes[i]} for i, name in enumerate(classes)
        },
    }


def _stats(values: np.ndarray) -> dict[str, float] | None:
    if not len(values):
        return None
    return {
        "min": round(float(values.min()), 2),
        "median": round(float(np.median(values)), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }

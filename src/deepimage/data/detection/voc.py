"""Pascal VOC: ``annotations/*.xml`` beside ``images/``, read and written.

VOC boxes are 1-based inclusive integers, ``xmin - 1, ymin - 1, xmax, ymax`` in memory
(pixel-edge ``xyxy``). Read: ``annotations/`` (or ``Annotations/``) beside ``images/``
(or ``JPEGImages/``); splits from ``ImageSets/Main/<split>.txt`` when present; an
optional ``classes.txt`` fixes the class list (other names are unknown classes); images
without annotation are negatives.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "a.png", np.zeros((10, 20, 3), np.uint8))
    >>> item = DetectionItem(root / "a.png", 20, 10, np.array([[0, 2, 5, 8]], np.float32),
    ...                      np.array([0]))
    >>> data = DetectionData("toy", ["cat"], {"val": [item]}, [], str(root), "coco")
    >>> out = write_voc(data, root / "voc")
    >>> "<xmin>1</xmin>" in (out / "annotations" / "a.xml").read_text()
    True
    >>> found = read_voc(out, Issues(skip_bad=False))
    >>> found.splits["val"][0].boxes.tolist()
    [[0.0, 2.0, 5.0, 8.0]]
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
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
from deepimage.data.detection.layout import (
    ANNOTATION_DIRS,
    IMAGE_DIRS,
    image_files,
    listed_classes,
    subdir,
    text_of,
)
from deepimage.io.files import write_text

_SPLIT_DIR = Path("ImageSets", "Main")
_TO_PIXELS = np.array([1, 1, 0, 0], np.float64)  # VOC 1-based inclusive -> edge xyxy


def read_voc(root: Path, issues: Issues) -> Found:
    """The raw items of the VOC folder ``root``; unreadable XML files go to ``issues``."""
    annotations = subdir(root, ANNOTATION_DIRS) or root / "annotations"
    images = subdir(root, IMAGE_DIRS) or root
    xmls = sorted(annotations.glob("*.xml"))
    raws = []
    for xml in xmls:
        try:
            raws.append(_parse(xml, images))
        except Malformed as error:
            issues.fail(
                xml, "malformed_annotation", f"not a readable Pascal VOC annotation: {error}"
            )
    claimed = {raw.image for raw in raws} | {xml.stem for xml in xmls}
    raws += [RawItem.negative(p) for p in image_files(images) if not claimed & {p, p.stem}]
    return Found(listed_classes(root), _splits(root, raws))


def _parse(xml: Path, images: Path) -> RawItem:
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as error:
        raise Malformed(f"malformed XML ({error})") from None
    except OSError as error:
        raise Malformed(f"cannot read it ({error.strerror or error})") from None
    boxes, names = [], []
    for index, obj in enumerate(root.iter("object"), 1):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        if not name or box is None:
            raise Malformed(f"object {index}: <name> and <bndbox> are required")
        boxes.append(
            [_number(box, tag, f"object {index}") for tag in ("xmin", "ymin", "xmax", "ymax")]
        )
        names.append(name)
    image = _image_in(images, (root.findtext("filename") or "").strip(), xml.stem)
    pixels = np.array(boxes, np.float64).reshape(-1, 4) - _TO_PIXELS
    return RawItem(xml, image, _size(root), pixels, names)


def _number(element: ET.Element, tag: str, where: str) -> float:
    text = element.findtext(tag)
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Malformed(f"{where}: <{tag}> is {text!r}, not a number") from None


def _size(root: ET.Element) -> tuple[int, int] | None:
    size = root.find("size")
    if size is None or size.find("width") is None or size.find("height") is None:
        return None
    width, height = (_number(size, tag, "<size>") for tag in ("width", "height"))
    if not (0 < width < 2**31 and 0 < height < 2**31):  # NaN too: the image is probed
        return None
    return int(width), int(height)


def _image_in(folder: Path, filename: str, stem: str) -> Path:
    """The image ``filename`` names in ``folder``, else one with the annotation's stem."""
    named = folder / Path(filename).name if filename else None
    if named is not None and named.is_file():
        return named
    same_stem = [p for p in image_files(folder) if p.stem == stem]
    return same_stem[0] if same_stem else named or folder / f"{stem}.jpg"


def _splits(root: Path, raws: list[RawItem]) -> dict[str, list[RawItem]]:
    """Splits from ``ImageSets/Main/<split>.txt`` (items listed nowhere are left out)."""
    lists = {s: root / _SPLIT_DIR / f"{s}.txt" for s in SPLITS}
    lists = {s: set(text_of(path).split()) for s, path in lists.items() if path.is_file()}
    if not lists:
        return {UNSPLIT: raws}
    return {s: [raw for raw in raws if raw.image.stem in stems] for s, stems in lists.items()}


def write_voc(data: DetectionData, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``data`` as Pascal VOC: ``images/``, ``annotations/*.xml``, ``ImageSets/Main/``.

    Coordinates become VOC's 1-based inclusive integers (rounded: within 1 pixel).
    """
    out, names = new_output(data, out_dir)
    for split, items in data.splits.items():
        place_images(items, out / "images", names)
        stems = [Path(names[item.image]).stem for item in items]
        for stem, item in zip(stems, items, strict=True):
            write_text(
                out / "annotations" / f"{stem}.xml", _xml(item, names[item.image], data.classes)
            )
        write_text(out / _SPLIT_DIR / f"{split}.txt", "".join(f"{stem}\n" for stem in stems))
    return out


def _xml(item: DetectionItem, filename: str, classes: list[str]) -> str:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "images"
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for tag, value in (("width", item.width), ("height", item.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    corners = np.rint(item.boxes.astype(np.float64) + _TO_PIXELS).astype(np.int64)
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

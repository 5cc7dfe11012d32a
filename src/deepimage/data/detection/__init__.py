"""Detection data: COCO JSON, Pascal VOC XML and YOLO txt, read into one model and written back.

:func:`load_detection_data` recognises a folder's layout and returns a
:class:`DetectionData`: class names, "train" / "val" / "test" splits of
:class:`DetectionItem` (boxes in absolute pixel ``xyxy``, the in-memory convention), every
issue met on the way and the inputs skipped. Coordinates are converted only at the format
boundary: COCO ``xywh``, YOLO normalised ``cxcywh``, VOC 1-based inclusive integer
``xyxy``. :func:`write_coco`, :func:`write_voc` and :func:`write_yolo` write a data set
back out and :func:`convert` does both. Nothing here imports torch.

One module per job: ``items`` (the data model), ``layout`` (finding data, recognising
its format), ``voc`` / ``coco`` / ``yolo`` (each format's reader and writer), ``checks``
(images, classes and boxes checked), ``load``, ``copies`` (the writers' output folder),
``convert`` and ``inspect``.

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
    >>> data = load_detection_data(root / "voc", val_fraction=0)
    >>> item = data.splits["train"][0]
    >>> data.format, data.classes, item.boxes.tolist(), item.labels.tolist()
    ('voc', ['cat'], [[10.0, 5.0, 30.0, 40.0]], [0])
    >>> [issue["kind"] for issue in data.issues], data.skipped
    (['clipped_box'], [])
    >>> convert(root / "voc", root / "yolo", "yolo")["boxes"]
    1
    >>> (root / "yolo" / "labels" / "train" / "a.txt").read_text()
    '0 0.333333333 0.5625 0.333333333 0.875\\n'
"""

from deepimage.data.detection.coco import coco_annotations, write_coco, xyxy_to_xywh
from deepimage.data.detection.convert import convert
from deepimage.data.detection.inspect import inspect_detection
from deepimage.data.detection.items import (
    ERROR_KINDS,
    FORMATS,
    SPLITS,
    DetectionData,
    DetectionItem,
    Format,
)
from deepimage.data.detection.layout import detection_format
from deepimage.data.detection.load import load_detection_data
from deepimage.data.detection.voc import write_voc
from deepimage.data.detection.yolo import write_yolo

__all__ = [
    "ERROR_KINDS",
    "FORMATS",
    "SPLITS",
    "DetectionData",
    "DetectionItem",
    "Format",
    "coco_annotations",
    "convert",
    "detection_format",
    "inspect_detection",
    "load_detection_data",
    "write_coco",
    "write_voc",
    "write_yolo",
    "xyxy_to_xywh",
]

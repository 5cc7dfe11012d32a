"""Segmentation data: image/mask folders, SegNet, Pascal VOC and COCO, read into one model.

:func:`load_segmentation_data` recognises a folder's layout (:func:`segmentation_format`)
and returns a :class:`SegmentationData`: class names, "train" / "val" / "test" splits of
:class:`SegmentationItem` (an image and its mask), the :class:`MaskEncoding` that turns
the data set's raw mask values into class indices, and what was left out.
:meth:`SegmentationData.read_mask` gives an item's mask as HxW uint8 class indices, 255
where pixels are ignored, always the size of its image. :func:`inspect_segmentation`
reports on the data. Nothing here imports torch.

One module per job: ``items`` (the data model), ``layout`` (finding data, recognising its
layout, pairing images with masks), ``classes`` (``classes.txt``, class lists, the VOC
names), ``encoding`` (mask values to class indices), ``coco`` (COCO polygons and RLEs
painted), ``checks`` (images and masks checked), ``load`` and ``inspect``.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> mask = np.array([[0, 1, 2], [2, 11, 0]], np.uint8)
    >>> for split in ("train", "val"):
    ...     write_image(root / split / "a.png", np.zeros((2, 3, 3), np.uint8))
    ...     write_image(root / f"{split}annot" / "a.png", mask)
    >>> data = load_segmentation_data(root, ignore_index=11)
    >>> data.format, data.classes, data.encoding
    ('segnet', ['0', '1', '2'], MaskEncoding(kind='index', classes=3, ignore=(11, 255), colours=None))
    >>> data.read_mask(data.splits["val"][0]).tolist()
    [[0, 1, 2], [2, 255, 0]]
"""

from deepimage.data.segmentation.classes import VOC_CLASSES
from deepimage.data.segmentation.encoding import MaskEncoding
from deepimage.data.segmentation.inspect import inspect_segmentation
from deepimage.data.segmentation.items import (
    ERROR_KINDS,
    FORMATS,
    IGNORED,
    SPLITS,
    Format,
    SegmentationData,
    SegmentationItem,
)
from deepimage.data.segmentation.layout import segmentation_format
from deepimage.data.segmentation.load import load_segmentation_data

__all__ = [
    "ERROR_KINDS",
    "FORMATS",
    "IGNORED",
    "SPLITS",
    "VOC_CLASSES",
    "Format",
    "MaskEncoding",
    "SegmentationData",
    "SegmentationItem",
    "inspect_segmentation",
    "load_segmentation_data",
    "segmentation_format",
]

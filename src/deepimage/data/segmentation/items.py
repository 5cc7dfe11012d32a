"""The segmentation data model and the collector of issues met while loading.

:class:`SegmentationItem` is one image and its mask; :class:`SegmentationData` a whole
data set: classes, the :class:`~deepimage.data.segmentation.encoding.MaskEncoding` that
turns its raw mask values into class indices, its splits and what was left out. The
readers first find each :class:`Pair` (an image and where its mask should be); an
:class:`Issues` collects every problem on the way.

Example:
    >>> issues = Issues(skip_bad=True)
    >>> issues.fail(Path("m.png"), "bad_mask", "cannot read the mask")
    >>> issues.skipped == [{"path": shown_path("m.png"), "reason": "cannot read the mask"}]
    True
    >>> Issues(skip_bad=False).fail(Path("m.png"), "bad_mask", "cannot read the mask")
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: m.png: cannot read the mask (or pass --skip-bad to leave it out)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.io.images import DEFAULT_MAX_PIXELS, read_mask
from deepimage.io.paths import shown_path

if TYPE_CHECKING:
    from deepimage.data.segmentation.encoding import MaskEncoding

Format = Literal["folders", "segnet", "voc", "coco"]
FORMATS: tuple[Format, ...] = ("folders", "segnet", "voc", "coco")
SPLITS = ("train", "val", "test")
UNSPLIT = ""
"""Split key of items whose data set has no split of its own."""
IGNORED = 255
"""The value of ignored pixels in a decoded mask."""
MAX_CLASSES = 255
"""Classes a decoded (uint8) mask can index besides :data:`IGNORED`."""
ERROR_KINDS = frozenset(
    {
        "missing_mask",
        "missing_image",
        "bad_mask",
        "bad_image",
        "size_mismatch",
        "values_outside_classes",
        "colour_mask",
        "malformed_annotation",
        "outside_data",
    }
)
"""Issue kinds that stop loading, or with ``skip_bad`` leave the item out; the others
(``orphan_mask``: a mask without an image, ``no_masks``: a folder of images without
masks, which is no split) are informative."""

CocoShape = tuple[int, tuple[int, int, bytes], int]
"""One COCO annotation of an item: (class index, its compressed RLE as (height, width,
counts), iscrowd)."""


@dataclass(frozen=True)
class SegmentationItem:
    """One image and its mask; ``width`` and ``height`` are the image's (after EXIF
    orientation), which the mask shares. COCO items have no mask file: ``coco`` holds
    their annotations as :data:`CocoShape` tuples, largest first (plain data, pickleable)."""

    image: Path
    mask: Path | None
    width: int
    height: int
    coco: tuple[CocoShape, ...] = ()


@dataclass
class SegmentationData:
    """A segmentation data set, whatever its layout.

    ``format`` is one of :data:`FORMATS`; ``classes`` the class names (index = decoded mask
    value); ``colours`` one RGB colour per class for drawing (from ``classes.txt`` or the
    masks' palette), else None; ``splits`` has some of "train", "val", "test" (only splits
    with masks); ``skipped`` lists ``{path, reason}`` for every input left out with
    ``skip_bad``; ``issues`` lists ``{path, kind, detail}`` for everything left out or
    worth knowing (kinds in :data:`ERROR_KINDS`, ``orphan_mask``, ``no_masks``); ``pixels``
    gives per split an (items, classes + 1) int64 array: each item's pixel count per class,
    the last column its ignored pixels.
    """

    root: Path
    format: Format
    classes: list[str]
    colours: list[tuple[int, int, int]] | None
    encoding: MaskEncoding
    splits: dict[str, list[SegmentationItem]]
    skipped: list[dict[str, str]] = field(default_factory=list)
    issues: list[dict[str, str]] = field(default_factory=list)
    pixels: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    max_pixels: int = DEFAULT_MAX_PIXELS

    @property
    def name(self) -> str:
        """The data set's name: its folder's (or COCO file's) name."""
        return self.root.stem if self.root.is_file() else self.root.name

    def read_mask(self, item: SegmentationItem) -> np.ndarray:
        """The decoded mask of ``item``: HxW uint8 class indices, 255 where ignored, the
        size of its image. Raises :class:`~deepimage.errors.DeepImageError` naming the
        file when it no longer decodes as it did when the data was loaded."""
        if item.mask is None:
            from deepimage.data.segmentation.coco import paint

            painted = paint(item.coco, item.height, item.width)
            return self.encoding.decode(painted, item.image)
        values, palette = read_mask(item.mask, self.max_pixels)
        decoded = self.encoding.decode(values, item.mask, palette)
        if decoded.shape != (item.height, item.width):
            raise DeepImageError(
                f"{item.mask}: mask is {decoded.shape[1]}x{decoded.shape[0]} but its image "
                f"{item.image.name} is {item.width}x{item.height}; save the mask at the "
                "image's size"
            )
        return decoded


@dataclass
class Pair:
    """An image and its mask as found, before any check: ``mask`` is where the mask is,
    or where it was expected when ``mask_found`` is False."""

    image: Path
    mask: Path
    mask_found: bool = True
    image_found: bool = True


@dataclass
class Found:
    """What a folder reader found: pairs by split (:data:`UNSPLIT` for a data set without
    a split of its own)."""

    splits: dict[str, list[Pair]] = field(default_factory=dict)


class Issues:
    """Collects issues; an error raises, one line naming the file and the fix, unless
    ``skip_bad``, which lists it under ``skipped`` and goes on."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.items: list[dict[str, str]] = []
        self.skipped: list[dict[str, str]] = []

    def note(self, path: Path, kind: str, detail: str) -> None:
        self.items.append({"path": shown_path(path), "kind": kind, "detail": detail})

    def fail(self, path: Path, kind: str, detail: str) -> None:
        if not self.skip_bad:
            raise DeepImageError(f"{path}: {detail} (or pass --skip-bad to leave it out)")
        self.note(path, kind, detail)
        self.skipped.append({"path": shown_path(path), "reason": detail})

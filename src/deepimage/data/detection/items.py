"""The detection data model and what the readers share while building it.

:class:`DetectionItem` and :class:`DetectionData` are what every format is read into
(boxes in absolute pixel ``xyxy``, the in-memory convention). The readers first turn each
annotation into a :class:`RawItem`, grouped by split in a :class:`Found`; an
:class:`Issues` collects every problem on the way.

Example:
    >>> import numpy as np
    >>> issues = Issues(skip_bad=True)
    >>> issues.fail(Path("a.xml"), "malformed_annotation", "malformed XML")
    >>> issues.skipped, [issue["kind"] for issue in issues.items]
    ([{'path': 'a.xml', 'reason': 'malformed XML'}], ['malformed_annotation'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from deepimage.errors import DeepImageError

Format = Literal["coco", "voc", "yolo"]
FORMATS: tuple[Format, ...] = ("coco", "voc", "yolo")
SPLITS = ("train", "val", "test")
ERROR_KINDS = frozenset(
    {
        "malformed_annotation",
        "missing_image",
        "bad_image",
        "unknown_class",
        "outside_data",
        "duplicate_id",
    }
)
"""Issue kinds that stop loading, or with ``skip_bad`` drop the item; the others are fixed
(``clipped_box``, ``zero_area_box``, ``size_mismatch``) or informative (``no_boxes``)."""
UNSPLIT = ""
"""Split key of items whose data set has no split of its own."""


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
    ``size_mismatch``, ``no_boxes``); ``skipped`` lists ``{"path", "reason"}`` for each
    input left out with ``skip_bad`` (the :data:`ERROR_KINDS` issues); ``source`` is the
    folder or file read and ``format`` one of :data:`FORMATS`.
    """

    name: str
    classes: list[str]
    splits: dict[str, list[DetectionItem]]
    issues: list[dict[str, str]]
    source: str
    format: Format
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RawItem:
    """An annotation as read, before class, size and box checks."""

    annotation: Path  # the file an issue about this item names
    image: Path
    size: tuple[int, int] | None  # (width, height) from the annotation
    boxes: np.ndarray  # float64 Nx4 pixel xyxy, or normalised cxcywh when ``normalised``
    names: list[str]
    normalised: bool = False
    where: str = ""  # prefix locating the item inside a shared annotation file

    @classmethod
    def negative(cls, image: Path) -> RawItem:
        """An image without annotation: no boxes."""
        return cls(image, image, None, np.zeros((0, 4)), [])


@dataclass
class Found:
    """What a reader found: the declared classes and the raw items of each split."""

    classes: list[str] | None  # as declared by the format (COCO categories, YOLO names)
    splits: dict[str, list[RawItem]] = field(default_factory=dict)


class Malformed(ValueError):
    """An annotation file that cannot be read; the message says where and why."""


class Issues:
    """Collects issues; an error raises unless ``skip_bad``, which lists it as skipped."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.items: list[dict[str, str]] = []
        self.skipped: list[dict[str, str]] = []

    def note(self, path: Path, kind: str, detail: str) -> None:
        self.items.append({"path": str(path), "kind": kind, "detail": detail})

    def fail(self, path: Path, kind: str, detail: str, error: DeepImageError | None = None) -> None:
        if not self.skip_bad:
            raise error or DeepImageError(
                f"{path}: {detail}. Fix or remove the file, or pass --skip-bad to skip it."
            )
        self.note(path, kind, detail)
        self.skipped.append({"path": str(path), "reason": detail})

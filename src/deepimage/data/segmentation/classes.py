"""Class names and colours of segmentation data: ``classes.txt``, a class list given,
and the Pascal VOC names.

``classes.txt`` holds one class a line, in class index order: its name, optionally with
its colour as ``r g b``, ``r,g,b`` or ``#rrggbb`` after it (``r g b`` may also come
before it, as in CamVid's ``label_colors.txt``). Blank lines and lines starting with
``#`` are skipped. A
name or a colour given twice, and colours for some classes but not others, are errors.

Example:
    >>> listed = parse_classes(["# CamVid", "sky 128 128 128", "road #804080", ""], "classes.txt")
    >>> listed.names, listed.colours
    (['sky', 'road'], [(128, 128, 128), (128, 64, 128)])
    >>> parse_classes(["background", "cell"], "--classes").colours is None
    True
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepimage.data.detection.layout import text_of
from deepimage.data.segmentation.items import MAX_CLASSES
from deepimage.errors import DeepImageError

CLASSES_FILE = "classes.txt"
VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
"""The 21 Pascal VOC segmentation classes, in index order."""

_RGB = r"(?P<r>\d{1,3})\s*[\s,]\s*(?P<g>\d{1,3})\s*[\s,]\s*(?P<b>\d{1,3})"
_PATTERNS = (
    re.compile(rf"^(?P<name>.*?\S)[\s,]+{_RGB}$"),
    re.compile(r"^(?P<name>.*?\S)\s+#(?P<hex>[0-9a-fA-F]{6})$"),
    re.compile(rf"^{_RGB}[\s,]+(?P<name>\S.*)$"),
)


@dataclass(frozen=True)
class ClassList:
    """Class names in index order and their colours (None when none are given);
    ``source`` names where they come from, for messages."""

    names: list[str]
    colours: list[tuple[int, int, int]] | None
    source: str


def parse_classes(lines: Iterable[str], source: str) -> ClassList:
    """The classes of ``classes.txt`` lines (or of a class list given, entry by entry);
    ``source`` names them in errors."""
    names: list[str] = []
    colours: list[tuple[int, int, int] | None] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, colour = _parse_line(text, source, number)
        names.append(name)
        colours.append(colour)
    return class_list(names, colours, source)


def read_classes_file(path: Path) -> ClassList:
    """The classes of a ``classes.txt`` file."""
    return parse_classes(text_of(path).splitlines(), str(path))


def find_classes_file(folders: Sequence[Path]) -> Path | None:
    """The first ``classes.txt`` in ``folders``."""
    return next((f / CLASSES_FILE for f in folders if (f / CLASSES_FILE).is_file()), None)


def _parse_line(text: str, source: str, number: int) -> tuple[str, tuple[int, int, int] | None]:
    """A line's class name and colour (None when it gives none)."""
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        if parts.get("hex"):
            value = int(parts["hex"], 16)
            return parts["name"], ((value >> 16) & 255, (value >> 8) & 255, value & 255)
        rgb = (int(parts["r"]), int(parts["g"]), int(parts["b"]))
        if max(rgb) > 255:
            raise DeepImageError(
                f"{source} line {number}: colour {rgb[0]} {rgb[1]} {rgb[2]} is not three "
                "values 0-255; write a class as 'name r g b' or 'name #rrggbb'"
            )
        return parts["name"].strip(), rgb
    return text, None


def class_list(
    names: list[str], colours: Sequence[tuple[int, int, int] | None] | None, source: str
) -> ClassList:
    """``names`` and ``colours`` (one per class, None for a class without) checked: at
    least one class and at most 255, no name twice, every class a colour or none, no
    colour twice; ``source`` names them in errors."""
    colours = list(colours) if colours is not None else [None] * len(names)
    if not names:
        raise DeepImageError(f"{source} names no class; write one class name a line")
    if len(names) > MAX_CLASSES:
        raise DeepImageError(
            f"{source} names {len(names)} classes; a mask holds at most {MAX_CLASSES} (its "
            "value 255 marks ignored pixels)"
        )
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise DeepImageError(
            f"{source} names {', '.join(twice)} more than once; each class needs one name of "
            "its own"
        )
    given = [c for c in colours if c is not None]
    if not given:
        return ClassList(names, None, source)
    if len(given) < len(colours):
        bare = ", ".join(n for n, c in zip(names, colours, strict=True) if c is None)
        raise DeepImageError(
            f"{source} gives colours for some classes but not for {bare}; give every class "
            "its colour, or none"
        )
    shared = sorted(str(c) for c, count in Counter(given).items() if count > 1)
    if shared:
        raise DeepImageError(
            f"{source} gives the colour {', '.join(shared)} to more than one class; mask "
            "pixels of that colour would belong to either"
        )
    return ClassList(names, given, source)

"""How a data set's raw mask values become class indices: :class:`MaskEncoding`.

A decoded mask is HxW uint8: class indices 0..K-1, and 255 where pixels are ignored. The
encoding is decided once per data set (:func:`choose_encoding`) from a
:class:`MaskSummary` of every mask (its distinct values and their counts, so that no mask
is kept in memory):

- ``"palette"``: palette PNGs, whose indices are the classes (Pascal VOC); 255 is ignored.
- ``"index"``: grey 8/16-bit masks whose value v is class v; 255 is ignored, and so is
  the ``ignore_index`` value.
- ``"binary"``: masks holding only 0 and 255 (JPEG masks: 99% of their pixels at most 10
  or at least 245), when no class list of more than two names is given: thresholded at
  128 into classes 0 and 1.
- ``"colour"``: RGB masks whose class colours ``classes.txt`` gives; a colour not listed
  is an error. Without colours an RGB mask (channels that differ) is an error.
- ``"coco"``: masks painted from COCO polygons and RLEs, already class indices.

Example:
    >>> encoding = MaskEncoding("index", classes=3, ignore=(11, 255))
    >>> encoding.decode(np.array([[0, 2, 11, 255]], np.uint8), "m.png").tolist()
    [[0, 2, 255, 255]]
    >>> encoding.decode(np.array([[3]], np.uint8), "m.png")
    Traceback (most recent call last):
    ...
    deepimage.data.segmentation.encoding.MaskError: m.png: mask values 3 are outside the 3 classes (0-2; 11, 255 ignored): list every class in classes.txt (or the class list given), or pass --ignore-index N to ignore a void value
    >>> binary = MaskEncoding("binary", classes=2, ignore=())
    >>> binary.decode(np.array([[0, 127, 128, 255]], np.uint8), "m.png").tolist()
    [[0, 0, 1, 1]]
    >>> colour = MaskEncoding("colour", 2, (), colours=((0, 0, 0), (128, 64, 128)))
    >>> colour.decode(np.array([[[0, 0, 0], [128, 64, 128]]], np.uint8), "m.png").tolist()
    [[0, 1]]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deepimage.data.segmentation.items import IGNORED, MAX_CLASSES
from deepimage.errors import DeepImageError

KINDS = ("index", "binary", "palette", "colour", "coco")
THRESHOLD = 128
"""Binary masks: values from this up are class 1."""
NEARLY_BINARY = 0.99
"""A JPEG mask with this share of its pixels at most 10 or at least 245 counts as binary."""
COLOUR_MASK_FIX = (
    "RGB mask where class indices are expected: save it as a grey or palette PNG of class "
    "indices, or give each class its colour in classes.txt"
)
_OUTSIDE = -1
_SHOWN = 8  # values named in an error


class MaskError(DeepImageError):
    """A mask whose values cannot be decoded; ``kind`` is its issue kind
    (``values_outside_classes`` or ``colour_mask``), ``reason`` the message without the
    path."""

    def __init__(self, path: str | os.PathLike[str], kind: str, reason: str) -> None:
        self.path = str(path)
        self.kind = kind
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class MaskEncoding:
    """How raw mask values become class indices; ``kind`` is one of :data:`KINDS`,
    ``classes`` the class count K, ``ignore`` the raw values ignored (for ``"colour"``
    masks: the class indices ignored), ``colours`` the colour of each class of
    ``"colour"`` masks (else None)."""

    kind: str
    classes: int
    ignore: tuple[int, ...] = (IGNORED,)
    colours: tuple[tuple[int, int, int], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DeepImageError(f"mask encoding must be one of {', '.join(KINDS)}")
        if not 1 <= self.classes <= MAX_CLASSES:
            raise DeepImageError(
                f"{self.classes} classes: a mask holds 1 to {MAX_CLASSES} classes "
                f"(its value {IGNORED} marks ignored pixels)"
            )

    def decode(
        self, raw: np.ndarray, path: str | os.PathLike[str], palette: np.ndarray | None = None
    ) -> np.ndarray:
        """``raw`` (as :func:`~deepimage.io.read_mask` gives it) as HxW uint8 class
        indices, 255 where ignored. ``palette`` (a palette file's) turns indices into
        colours for ``"colour"`` masks. Raises :class:`MaskError` naming ``path`` for
        values outside the classes, or an RGB mask where class indices are expected."""
        values = self.values(raw, path, palette)
        if values.dtype == np.bool_:
            values = values.astype(np.uint8)
        if values.dtype == np.uint8:
            table = self.classes_of(np.arange(256))
            decoded = table[values]
        elif values.dtype == np.uint16:
            decoded = self.classes_of(np.arange(65536))[values]
        else:
            distinct, inverse = np.unique(values, return_inverse=True)
            decoded = self.classes_of(distinct)[inverse.reshape(values.shape)]
        if (decoded == _OUTSIDE).any():
            self.check(np.unique(values[decoded == _OUTSIDE]), path)
        return decoded.astype(np.uint8)

    def values(
        self, raw: np.ndarray, path: str | os.PathLike[str], palette: np.ndarray | None = None
    ) -> np.ndarray:
        """The HxW array of the values this encoding maps: grey values or palette indices,
        the rounded channel mean of colour masks for ``"binary"``, packed ``0xRRGGBB``
        colours for ``"colour"``."""
        if self.kind == "colour":
            if raw.ndim == 3:
                return pack(raw)
            if palette is not None:
                return pack(_full_palette(palette)[np.clip(raw, 0, 255)])
            grey = raw.astype(np.int64)
            return np.where(grey <= 255, grey * 0x010101, _OUTSIDE)
        if raw.ndim == 2:
            return raw
        if self.kind == "binary":
            return grey_of(raw)
        if _equal_channels(raw):
            return raw[..., 0]
        raise MaskError(path, "colour_mask", COLOUR_MASK_FIX)

    def classes_of(self, values: np.ndarray) -> np.ndarray:
        """The class index of each of ``values`` (as :meth:`values` gives them): 255 when
        ignored, -1 when outside the classes (int16)."""
        values = np.asarray(values).astype(np.int64)
        if self.kind == "colour":
            index = {colour: i for i, colour in enumerate(pack(np.array(self.colours)).tolist())}
            classes = np.array([index.get(v, _OUTSIDE) for v in values.tolist()], np.int64)
            classes[np.isin(classes, self.ignore)] = IGNORED
        elif self.kind == "binary":
            classes = (values >= THRESHOLD).astype(np.int64)
        else:
            classes = np.where((values >= 0) & (values < self.classes), values, _OUTSIDE)
        if self.kind != "colour":
            classes[np.isin(values, self.ignore)] = IGNORED
        return classes.astype(np.int16)

    def check(self, values: np.ndarray, path: str | os.PathLike[str]) -> None:
        """Raise :class:`MaskError` naming ``path`` when any of the distinct ``values``
        (as :meth:`values` gives them) is outside the classes."""
        outside = np.asarray(values)[self.classes_of(values) == _OUTSIDE]
        if not len(outside):
            return
        if self.kind == "colour":
            shown = ", ".join(str(tuple(c)) for c in unpack(outside[:_SHOWN]).tolist())
            more = f" and {len(outside) - _SHOWN} more" if len(outside) > _SHOWN else ""
            raise MaskError(
                path,
                "values_outside_classes",
                f"mask colours {shown}{more} are not among the class colours (classes.txt or the class list given): "
                "give each colour its class there",
            )
        shown = ", ".join(str(v) for v in outside[:_SHOWN].tolist())
        more = f" and {len(outside) - _SHOWN} more" if len(outside) > _SHOWN else ""
        ignored = f"; {', '.join(map(str, self.ignore))} ignored" if self.ignore else ""
        raise MaskError(
            path,
            "values_outside_classes",
            f"mask values {shown}{more} are outside the {self.classes} classes "
            f"(0-{self.classes - 1}{ignored}): list every class in classes.txt (or the class "
            "list given), or pass --ignore-index N to ignore a void value",
        )


@dataclass
class MaskSummary:
    """What deciding and checking an encoding needs of one mask: its distinct grey values
    (palette indices for palette files; for colour masks their rounded channel mean) and
    their pixel counts, the palette, whether it is a colour mask (channels that differ)
    with its distinct packed colours, and whether it is a JPEG file."""

    values: np.ndarray
    counts: np.ndarray
    palette: np.ndarray | None = None
    colours: tuple[np.ndarray, np.ndarray] | None = None
    jpeg: bool = False

    @property
    def colour(self) -> bool:
        return self.colours is not None

    def values_for(self, encoding: MaskEncoding) -> tuple[np.ndarray, np.ndarray]:
        """(distinct values, counts) as ``encoding`` maps them (:meth:`MaskEncoding.values`)."""
        if encoding.kind != "colour":
            return self.values, self.counts
        if self.colours is not None:
            return self.colours
        packed = encoding.values(self.values, "", self.palette)
        distinct, inverse = np.unique(packed, return_inverse=True)
        return distinct, np.bincount(inverse, weights=self.counts).astype(np.int64)

    def problem(self, encoding: MaskEncoding, path: str | os.PathLike[str]) -> MaskError | None:
        """Why this mask cannot be decoded by ``encoding``, or None."""
        if self.colour and encoding.kind not in ("colour", "binary"):
            return MaskError(path, "colour_mask", COLOUR_MASK_FIX)
        try:
            encoding.check(self.values_for(encoding)[0], path)
        except MaskError as error:
            return error
        return None

    def class_pixels(self, encoding: MaskEncoding) -> np.ndarray:
        """Pixels per class (K + 1 int64 counts, the last the ignored pixels)."""
        values, counts = self.values_for(encoding)
        classes = encoding.classes_of(values).astype(np.int64)
        classes[classes == IGNORED] = encoding.classes
        keep = classes >= 0
        return np.bincount(classes[keep], counts[keep], encoding.classes + 1).astype(np.int64)


def summarise(
    raw: np.ndarray, palette: np.ndarray | None = None, jpeg: bool = False
) -> MaskSummary:
    """The :class:`MaskSummary` of a mask as :func:`~deepimage.io.read_mask` gives it.

    Example:
        >>> summary = summarise(np.array([[0, 0, 255]], np.uint8))
        >>> summary.values.tolist(), summary.counts.tolist(), summary.colour
        ([0, 255], [2, 1], False)
    """
    colours = None
    if raw.ndim == 3:
        if _equal_channels(raw):
            raw = raw[..., 0]
        else:
            colours = _distinct(pack(raw))
            raw = grey_of(raw)
    values, counts = _distinct(raw)
    return MaskSummary(values, counts, palette, colours, jpeg)


def choose_encoding(
    summaries: Sequence[MaskSummary],
    names: Sequence[str] | None,
    colours: Sequence[tuple[int, int, int]] | None,
    ignore_index: int | None,
) -> MaskEncoding:
    """The encoding of a data set whose masks are ``summaries``, given its class
    ``names`` and ``colours`` (from ``classes.txt`` or the caller, else None) and the
    ``ignore_index`` asked for. Class count: ``len(names)``, 2 for binary masks, else 1 +
    the largest value that is not ignored (up to 254).

    Example:
        >>> masks = [summarise(np.array([[0, 255]], np.uint8)), summarise(np.zeros((1, 2), np.uint8))]
        >>> choose_encoding(masks, None, None, None)
        MaskEncoding(kind='binary', classes=2, ignore=(), colours=None)
        >>> choose_encoding(masks, ["a", "b", "c"], None, None).kind
        'index'
    """
    extra = () if ignore_index is None else (ignore_index,)
    if colours is not None and names is not None and any(s.colour for s in summaries):
        return MaskEncoding("colour", len(names), extra, tuple(tuple(c) for c in colours))
    if (
        (names is None or len(names) == 2)
        and ignore_index not in (0, IGNORED)
        and summaries
        and all(_binary_like(s) for s in summaries)
        and any(s.values.max() >= THRESHOLD for s in summaries)
    ):
        return MaskEncoding("binary", 2, extra)
    ignore = tuple(sorted({IGNORED, *extra}))
    kind = "palette" if summaries and all(s.palette is not None for s in summaries) else "index"
    if names is not None:
        return MaskEncoding(kind, len(names), ignore)
    seen = [
        int(v)
        for s in summaries
        if not s.colour
        for v in s.values.tolist()
        if v not in ignore and 0 <= v < MAX_CLASSES
    ]
    return MaskEncoding(kind, max(seen, default=0) + 1, ignore)


def pack(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 (or Nx3) RGB as HxW (N) int64 ``0xRRGGBB`` values.

    Example:
        >>> hex(int(pack(np.array([[128, 64, 1]]))[0]))
        '0x804001'
    """
    rgb = np.asarray(rgb).astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def unpack(values: np.ndarray) -> np.ndarray:
    """``0xRRGGBB`` values back to (..., 3) RGB."""
    values = np.asarray(values, np.int64)
    return np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=-1)


def grey_of(rgb: np.ndarray) -> np.ndarray:
    """The rounded mean of the channels of an HxWx3 mask (uint8 for uint8 masks)."""
    total = rgb[..., :3].astype(np.int64).sum(axis=-1)
    return ((total + 1) // 3).astype(rgb.dtype)


def _binary_like(summary: MaskSummary) -> bool:
    if summary.palette is not None:
        return False
    values = summary.values.astype(np.int64)
    if not summary.colour and np.isin(values, (0, 255)).all():
        return True
    near = summary.counts[(values <= 10) | ((values >= 245) & (values <= 255))].sum()
    return summary.jpeg and near >= NEARLY_BINARY * summary.counts.sum()


def _equal_channels(rgb: np.ndarray) -> bool:
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if values.dtype == np.uint8:
        counts = np.bincount(values.ravel(), minlength=256)
        present = np.flatnonzero(counts)
        return present.astype(np.int64), counts[present].astype(np.int64)
    distinct, counts = np.unique(values, return_counts=True)
    return distinct.astype(np.int64), counts.astype(np.int64)


def _full_palette(palette: np.ndarray) -> np.ndarray:
    """A palette padded with black to 256 entries, so that any uint8 index has a colour."""
    full = np.zeros((256, 3), np.uint8)
    full[: min(len(palette), 256)] = palette[:256]
    return full

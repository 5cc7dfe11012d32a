"""Loading segmentation data of any layout: find, pair, split, check every mask, decide
the encoding.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(5):
    ...     write_image(root / "images" / f"{i}.jpg", np.zeros((4, 6, 3), np.uint8))
    ...     write_image(root / "masks" / f"{i}.png", np.full((4, 6), 255 * (i % 2), np.uint8))
    >>> data = load_segmentation_data(root, val_fraction=0.4, seed=0)
    >>> data.format, data.classes, data.encoding.kind
    ('folders', ['background', 'foreground'], 'binary')
    >>> {split: [item.image.stem for item in items] for split, items in data.splits.items()}
    {'train': ['0', '1', '3'], 'val': ['2', '4']}
    >>> data.read_mask(data.splits["train"][1]).tolist()[0]
    [1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from deepimage.data.segmentation.checks import Checked, Failure, check_pairs, in_threads
from deepimage.data.segmentation.classes import (
    VOC_CLASSES,
    ClassList,
    class_list,
    find_classes_file,
    parse_classes,
    read_classes_file,
)
from deepimage.data.segmentation.coco import CocoImage, Malformed, paint, read_coco, shapes_of
from deepimage.data.segmentation.encoding import MaskEncoding, MaskSummary, choose_encoding
from deepimage.data.segmentation.items import (
    IGNORED,
    SPLITS,
    UNSPLIT,
    Format,
    Found,
    Issues,
    SegmentationData,
    SegmentationItem,
)
from deepimage.data.segmentation.layout import (
    folder_sets,
    locate,
    read_folders,
    read_segnet,
    read_voc,
    voc_base,
)
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError
from deepimage.io.images import DEFAULT_MAX_PIXELS, probe_image

T = TypeVar("T")

_READERS: dict[str, Callable[[Path, Issues], Found]] = {
    "folders": read_folders,
    "segnet": read_segnet,
    "voc": read_voc,
}


def load_segmentation_data(
    spec: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    val_fraction: float = 0.2,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    ignore_index: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SegmentationData:
    """Load segmentation data (a folder, a COCO JSON file or a data set name).

    A name resolves through :func:`~deepimage.data.names.find_data`
    (``$DEEPIMAGE_DATA/<name>`` first). Data without a "val" split gets a seeded one:
    ``val_fraction`` of its training items (ordered by
    ``numpy.random.default_rng(seed)`` over the items sorted by image path). ``classes``
    (names, each optionally followed by its colour as in ``classes.txt``) replaces the data
    set's own list (``classes.txt``, COCO categories, the VOC names); ``ignore_index``
    makes that raw mask value ignored (255 in decoded masks) besides 255 itself.

    Every mask is decoded once here: an image that does not decode, a missing or
    unreadable mask, a mask of another size than its image, an RGB mask where class
    indices are expected and values outside the classes raise a
    :class:`~deepimage.errors.DeepImageError` (one line naming the file and the fix), or
    with ``skip_bad`` leave the item out, listed in ``skipped`` and ``issues``.
    """
    if not 0 <= val_fraction < 1:
        raise DeepImageError(f"val_fraction must be in [0, 1), not {val_fraction}")
    if ignore_index is not None and (
        not isinstance(ignore_index, (int, np.integer))
        or isinstance(ignore_index, bool)
        or not 0 <= ignore_index < 2**31
    ):
        raise DeepImageError(f"--ignore-index must be a mask value 0 or more, not {ignore_index!r}")
    root, fmt = locate(spec)
    issues = Issues(skip_bad)
    given = parse_classes(classes, "the class list given") if classes is not None else None
    if fmt == "coco":
        return _load_coco(root, issues, given, val_fraction, seed, ignore_index, max_pixels)
    found = _READERS[fmt](root, issues)
    listed = given or _listed_classes(root, fmt)
    splits = assign_splits(found.splits, val_fraction, seed, lambda pair: str(pair.image))
    order = [(split, pair) for split, pairs in splits.items() for pair in pairs]
    usable: list[tuple[str, Checked]] = []
    for (split, _), checked in zip(
        order, check_pairs([p for _, p in order], max_pixels), strict=True
    ):
        if _passes(checked.failure, issues):
            usable.append((split, checked))
    summaries = [checked.summary for _, checked in usable if checked.summary is not None]
    encoding = choose_encoding(
        summaries,
        listed.names if listed else None,
        listed.colours if listed else None,
        ignore_index,
    )
    names = listed.names if listed else _default_names(encoding)
    items: dict[str, list[SegmentationItem]] = {}
    pixels: dict[str, list[np.ndarray]] = {}
    for split, checked in usable:
        summary, pair = checked.summary, checked.pair
        assert summary is not None  # every usable item has one
        problem = summary.problem(encoding, pair.mask)
        if problem is not None:
            issues.fail(pair.mask, problem.kind, problem.reason)
            continue
        items.setdefault(split, []).append(
            SegmentationItem(pair.image, pair.mask, checked.width, checked.height)
        )
        pixels.setdefault(split, []).append(summary.class_pixels(encoding))
    colours = listed.colours if listed and listed.colours else _palette_colours(summaries, names)
    return _data(root, fmt, names, colours, encoding, items, pixels, issues, max_pixels)


def assign_splits(
    splits: dict[str, list[T]], val_fraction: float, seed: int, key: Callable[[T], str]
) -> dict[str, list[T]]:
    """Named splits as they are, items without one in "train"; without a "val" split,
    ``val_fraction`` of "train" (at least one item left) goes to "val", chosen by
    ``numpy.random.default_rng(seed)`` over the items sorted by ``key``.

    Example:
        >>> assign_splits({"": list("abcde"), "test": ["t"]}, 0.4, 0, str)
        {'train': ['a', 'b', 'd'], 'val': ['c', 'e'], 'test': ['t']}
    """
    named = {split: sorted(splits[split], key=key) for split in SPLITS if splits.get(split)}
    train = sorted(named.get("train", []) + list(splits.get(UNSPLIT, [])), key=key)
    if train:
        named["train"] = train
    if train and "val" not in named:
        count = min(int(len(train) * val_fraction + 0.5), len(train) - 1)
        chosen = set(np.random.default_rng(seed).permutation(len(train))[:count].tolist())
        named["train"] = [item for i, item in enumerate(train) if i not in chosen]
        named["val"] = [item for i, item in enumerate(train) if i in chosen]
    return {split: named[split] for split in SPLITS if named.get(split)}


def _passes(failure: Failure | None, issues: Issues) -> bool:
    if failure is None:
        return True
    issues.fail(*failure)
    return False


def _listed_classes(root: Path, fmt: Format) -> ClassList | None:
    """The classes of the data set's ``classes.txt`` (in its folder, beside or in its mask
    folders, or in the VOC folder), else for VOC the 21 VOC classes."""
    folders = [root]
    if fmt == "folders":
        folders += [folder for _, _, m in folder_sets(root) for folder in (m.parent, m)]
    if fmt == "voc":
        folders.append(voc_base(root) or root)
    file = find_classes_file(list(dict.fromkeys(folders)))
    if file is not None:
        return read_classes_file(file)
    return ClassList(list(VOC_CLASSES), None, "the VOC classes") if fmt == "voc" else None


def _default_names(encoding: MaskEncoding) -> list[str]:
    if encoding.kind == "binary":
        return ["background", "foreground"]
    return [str(i) for i in range(encoding.classes)]


def _palette_colours(summaries: Sequence, names: list[str]) -> list[tuple[int, int, int]] | None:
    """The first palette mask's colours of the classes, when it has one for each."""
    palette = next((s.palette for s in summaries if s.palette is not None), None)
    if palette is None or len(palette) < len(names):
        return None
    return [(int(r), int(g), int(b)) for r, g, b in palette[: len(names)].tolist()]


def _data(
    root: Path,
    fmt: Format,
    names: list[str],
    colours: list[tuple[int, int, int]] | None,
    encoding: MaskEncoding,
    items: dict[str, list[SegmentationItem]],
    pixels: dict[str, list[np.ndarray]],
    issues: Issues,
    max_pixels: int,
) -> SegmentationData:
    if not items:
        first = f"; the first: {issues.skipped[0]['path']}: {issues.skipped[0]['reason']}"
        raise DataNotFoundError(
            f"{root}: no usable image with a mask ({len(issues.skipped)} left out"
            f"{first if issues.skipped else ''})"
        )
    return SegmentationData(
        root,
        fmt,
        names,
        colours,
        encoding,
        items,
        issues.skipped,
        issues.items,
        {split: np.stack(rows) for split, rows in pixels.items()},
        max_pixels,
    )


def _load_coco(
    root: Path,
    issues: Issues,
    given: ClassList | None,
    val_fraction: float,
    seed: int,
    ignore_index: int | None,
    max_pixels: int,
) -> SegmentationData:
    names, found = read_coco(root, issues, given.names if given else None)
    listed = class_list(names, given.colours if given else None, f"the categories of {root}")
    ignore = tuple(sorted({IGNORED, *(() if ignore_index is None else (ignore_index,))}))
    encoding = MaskEncoding("coco", len(listed.names), ignore)
    splits = assign_splits(found, val_fraction, seed, lambda record: str(record.image))
    order = [(split, record) for split, records in splits.items() for record in records]
    results = in_threads(lambda pair: _coco_item(pair[1], max_pixels), order)
    items: dict[str, list[SegmentationItem]] = {}
    pixels: dict[str, list[np.ndarray]] = {}
    for (split, _), (item, histogram, failure) in zip(order, results, strict=True):
        if item is None or histogram is None:
            issues.fail(*failure)  # type: ignore[misc]  # set whenever there is no item
            continue
        present = np.flatnonzero(histogram)
        summary = MaskSummary(present, histogram[present])
        items.setdefault(split, []).append(item)
        pixels.setdefault(split, []).append(summary.class_pixels(encoding))
    return _data(
        root, "coco", listed.names, listed.colours, encoding, items, pixels, issues, max_pixels
    )


CocoChecked = tuple[SegmentationItem | None, np.ndarray | None, Failure | None]
"""(the item, its painted mask's histogram of 256 counts, None) or (None, None, failure)."""


def _coco_item(record: CocoImage, max_pixels: int) -> CocoChecked:
    """A COCO image record checked: its image decodes, has the size the file says, and its
    shapes paint."""
    if not record.image.is_file():
        return (
            None,
            None,
            (
                record.image,
                "missing_image",
                f"image not found, which {record.file} lists ({record.where.rstrip(': ')}); add "
                "the image, or remove its record",
            ),
        )
    try:
        info = probe_image(record.image, max_pixels)
    except BadImageError as error:
        reason = f"unreadable image ({error.reason}); replace or remove it"
        return None, None, (record.image, "bad_image", reason)
    if record.size is not None and record.size != (info.width, info.height):
        return (
            None,
            None,
            (
                record.file,
                "size_mismatch",
                f"{record.where}the file says {record.size[0]}x{record.size[1]} but the image is "
                f"{info.width}x{info.height}; fix its width and height (its shapes are drawn for "
                "the size it says)",
            ),
        )
    try:
        shapes = shapes_of(record.annotations, info.height, info.width)
        painted = paint(shapes, info.height, info.width)
    except (Malformed, ValueError) as error:
        reason = f"{record.where}{error}; fix or remove the annotation"
        return None, None, (record.file, "malformed_annotation", reason)
    item = SegmentationItem(record.image, None, info.width, info.height, shapes)
    return item, np.bincount(painted.ravel(), minlength=256), None

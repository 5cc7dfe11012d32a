"""Finding segmentation data, recognising its layout, and pairing images with masks.

Layouts (:data:`~deepimage.data.segmentation.items.FORMATS`):

- ``"voc"``: Pascal VOC, ``JPEGImages/`` + ``SegmentationClass/`` (the folder itself, or
  a folder in it such as ``VOCdevkit/VOC2012/``), splits from
  ``ImageSets/Segmentation/{train,val,test}.txt``.
- ``"segnet"``: ``train/`` + ``trainannot/``, ``val/`` + ``valannot/``, ``test/`` +
  ``testannot/`` (CamVid as SegNet ships it).
- ``"folders"``: an image folder (:data:`IMAGE_DIRS`) and a mask folder
  (:data:`MASK_DIRS`) holding images, in the data set folder or in its ``train/``,
  ``val/``, ``test/`` folders; subfolders of the image folder named ``train``, ``val``
  or ``test`` are splits too.
- ``"coco"``: a COCO JSON file, or a folder with ``annotations/*.json`` (or ``*.json``).

A name that is no path is looked up by :func:`~deepimage.data.names.find_data`. Masks
pair with images by stem: the same stem, or the image's stem plus one of
:data:`MASK_SUFFIXES`, any image extension.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> segmentation_format(root) is None
    True
    >>> for folder in ("images", "masks"):
    ...     _ = (root / folder).mkdir()
    >>> _ = (root / "images" / "a.jpg").write_bytes(b"")
    >>> _ = (root / "masks" / "a_mask.png").write_bytes(b"")
    >>> segmentation_format(root)
    'folders'
    >>> issues = Issues(skip_bad=True)
    >>> [(p.image.name, p.mask.name) for p in read_folders(root, issues).splits[""]]
    [('a.jpg', 'a_mask.png')]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from deepimage.data.detection.layout import inside, subdir, text_of
from deepimage.data.names import data_search_dirs, find_data
from deepimage.data.segmentation.items import SPLITS, UNSPLIT, Format, Found, Issues, Pair
from deepimage.errors import DataNotFoundError
from deepimage.io.headers import IMAGE_EXTENSIONS

IMAGE_DIRS = ("images", "image", "img")
MASK_DIRS = ("masks", "mask", "labels", "label", "annotations", "gt")
MASK_SUFFIXES = ("", "_mask", "_label", "_labels", "_L", "_gt")
VOC_IMAGES = "JPEGImages"
VOC_MASKS = "SegmentationClass"
COCO_DIRS = ("annotations", "Annotations")
LOOKED_FOR = (
    "images/ + masks/ (or labels/, label/, mask/, annotations/, gt/) folders of images and "
    "masks, SegNet train/ + trainannot/, Pascal VOC JPEGImages/ + SegmentationClass/, or a "
    "COCO JSON file"
)


def segmentation_format(spec: str | os.PathLike[str]) -> Format | None:
    """The layout of the segmentation data ``spec`` names, or None if it is none."""
    root = find_data(spec)
    return None if root is None else layout_format(root)


def locate(spec: str | os.PathLike[str]) -> tuple[Path, Format]:
    """The data set folder (or COCO file) ``spec`` names and its layout; a
    :class:`~deepimage.errors.DataNotFoundError` saying what was looked for when none."""
    root = find_data(spec)
    fmt = None if root is None else layout_format(root)
    if root is None or fmt is None:
        places = [Path(spec), *data_search_dirs(os.fspath(spec))]
        looked = ", ".join(dict.fromkeys(str(p) for p in places))
        raise DataNotFoundError(
            f"no segmentation data found for {os.fspath(spec)!r}: looked for {LOOKED_FOR} "
            f"in {looked}"
        )
    return root, fmt


def layout_format(path: Path) -> Format | None:
    """The layout of the folder or file ``path``, or None."""
    if path.is_file():
        return "coco" if path.suffix.lower() == ".json" else None
    if not path.is_dir():
        return None
    if voc_base(path) is not None:
        return "voc"
    if any(_segnet_dirs(path, split) for split in SPLITS):
        return "segnet"
    if folder_sets(path):
        return "folders"
    if coco_files(path):
        return "coco"
    return None


def voc_base(path: Path) -> Path | None:
    """The folder holding ``JPEGImages/`` and ``SegmentationClass/``: ``path`` or the first
    folder in it that does (``VOCdevkit/VOC2012``)."""
    if _is_voc(path):
        return path
    children = sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
    return next((child for child in children if _is_voc(child)), None)


def _is_voc(path: Path) -> bool:
    return (path / VOC_IMAGES).is_dir() and (path / VOC_MASKS).is_dir()


def _segnet_dirs(root: Path, split: str) -> tuple[Path, Path] | None:
    images, masks = root / split, root / f"{split}annot"
    return (images, masks) if images.is_dir() and masks.is_dir() else None


def folder_sets(root: Path) -> list[tuple[str, Path, Path]]:
    """``(split, image folder, mask folder)`` of a folders layout: the data set folder's
    own (split :data:`UNSPLIT`), else those of its split folders."""
    own = _image_and_mask_dirs(root)
    if own is not None:
        return [(UNSPLIT, *own)]
    sets = []
    for split in SPLITS:
        found = _image_and_mask_dirs(root / split)
        if found is not None:
            sets.append((split, *found))
    return sets


def _image_and_mask_dirs(folder: Path) -> tuple[Path, Path] | None:
    images = subdir(folder, IMAGE_DIRS)
    if images is None:
        return None
    masks = next((folder / n for n in MASK_DIRS if _holds_images(folder / n)), None)
    return None if masks is None else (images, masks)


def _holds_images(folder: Path) -> bool:
    """Whether ``folder`` or a folder below it holds an image file."""
    if not folder.is_dir():
        return False
    for _, _, names in os.walk(folder):
        if any(Path(name).suffix.lower() in IMAGE_EXTENSIONS for name in names):
            return True
    return False


def coco_files(root: Path) -> list[Path]:
    """The COCO JSON files of ``root`` (a file, or ``annotations/*.json``, else
    ``*.json``); those named ``instances*`` when there are such."""
    if root.is_file():
        return [root]
    annotations = subdir(root, COCO_DIRS)
    files = sorted(annotations.glob("*.json")) if annotations else []
    files = files or sorted(root.glob("*.json"))
    return [f for f in files if f.stem.startswith("instances")] or files


def image_files(folder: Path) -> list[Path]:
    """The image files in ``folder`` and below it, sorted (none when it is no folder)."""
    if not folder.is_dir():
        return []
    found = []
    for parent, _, names in os.walk(folder):
        found += [Path(parent) / n for n in names if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(found)


def read_folders(root: Path, issues: Issues) -> Found:
    """The image/mask pairs of a folders layout, by split; split folders with images but no
    mask folder (membrane's ``test/``) are noted as ``no_masks``."""
    found = Found()
    sets = folder_sets(root)
    for split, images, masks in sets:
        for pair in pair_masks(images, masks, issues):
            relative = pair.image.relative_to(images).parts
            named = split or (relative[0] if len(relative) > 1 and relative[0] in SPLITS else "")
            found.splits.setdefault(named, []).append(pair)
    if sets and sets[0][0] != UNSPLIT:
        for split in SPLITS:
            folder = root / split
            if split not in {s for s, _, _ in sets} and image_files(folder):
                _no_masks(folder, issues)
    return found


def read_segnet(root: Path, issues: Issues) -> Found:
    """The pairs of SegNet ``<split>/`` + ``<split>annot/`` folders."""
    found = Found()
    for split in SPLITS:
        dirs = _segnet_dirs(root, split)
        if dirs is not None:
            found.splits[split] = pair_masks(*dirs, issues)
        elif image_files(root / split):
            _no_masks(root / split, issues)
    return found


def read_voc(root: Path, issues: Issues) -> Found:
    """The pairs of Pascal VOC: the images its ``ImageSets/Segmentation`` lists name, by
    split, else every mask with its image (unsplit). A split none of whose images has a
    mask (VOC's test.txt) is no split."""
    base = voc_base(root)
    assert base is not None  # checked by layout_format
    images = _by_stem(image_files(base / VOC_IMAGES))
    masks = _by_stem(image_files(base / VOC_MASKS))
    lists = _split_lists(base / "ImageSets" / "Segmentation")
    found = Found()
    if not lists:
        for stem, mask in masks.items():
            if stem in images:
                found.splits.setdefault(UNSPLIT, []).append(Pair(images[stem], mask))
            else:
                _orphan(mask, base / VOC_IMAGES / stem, issues)
        return found
    for split, listing in lists.items():
        pairs = []
        for stem in _listed(listing):
            if not inside(base / VOC_IMAGES, stem):
                issues.fail(
                    listing,
                    "outside_data",
                    f"image id {stem} names a file outside {base}; list image ids (file "
                    "names without extension)",
                )
                continue
            image = images.get(stem, base / VOC_IMAGES / f"{stem}.jpg")
            mask = masks.get(stem, base / VOC_MASKS / f"{stem}.png")
            pairs.append(Pair(image, mask, stem in masks, stem in images))
        if any(pair.mask_found for pair in pairs):
            found.splits[split] = pairs
        elif pairs:
            _no_masks(listing, issues)
    return found


def _split_lists(folder: Path) -> dict[str, Path]:
    lists = {split: folder / f"{split}.txt" for split in SPLITS}
    lists = {split: path for split, path in lists.items() if path.is_file()}
    if not lists and (folder / "trainval.txt").is_file():
        lists = {"train": folder / "trainval.txt"}
    return lists


def _listed(listing: Path) -> list[str]:
    lines = (line.split() for line in text_of(listing).splitlines())
    return [words[0] for words in lines if words]


def pair_masks(images: Path, masks: Path, issues: Issues) -> list[Pair]:
    """Each image below ``images`` with its mask below ``masks`` (same relative folder;
    the same stem or the stem plus one of :data:`MASK_SUFFIXES`); an image without one
    gets the path its mask was expected at. Masks without an image are noted as
    ``orphan_mask``."""
    index: dict[tuple[Path, str], Path] = {}
    for mask in sorted(image_files(masks), key=lambda p: (p.suffix.lower() != ".png", p)):
        index.setdefault((mask.parent.relative_to(masks), mask.stem), mask)
    used: set[Path] = set()
    pairs = []
    for image in image_files(images):
        relative = image.relative_to(images)
        keys = [(relative.parent, relative.stem + suffix) for suffix in MASK_SUFFIXES]
        mask = next((index[key] for key in keys if key in index), None)
        if mask is None:
            pairs.append(Pair(image, masks / relative.parent / f"{relative.stem}.png", False))
        else:
            used.add(mask)
            pairs.append(Pair(image, mask))
    for mask in sorted(set(index.values()) - used):
        _orphan(mask, images / mask.parent.relative_to(masks) / mask.stem, issues)
    return pairs


def _by_stem(files: Sequence[Path]) -> dict[str, Path]:
    """Files by stem; of two with one stem, the PNG (then the first by name)."""
    index: dict[str, Path] = {}
    for file in sorted(files, key=lambda p: (p.suffix.lower() != ".png", p)):
        index.setdefault(file.stem, file)
    return index


def _orphan(mask: Path, image: Path, issues: Issues) -> None:
    issues.note(mask, "orphan_mask", f"a mask without an image (no {image}.*): not used")


def _no_masks(folder: Path, issues: Issues) -> None:
    issues.note(folder, "no_masks", "images without masks: not a split, not used")

"""Classification data: built-in data sets, image folders and CSV files, one data model.

:func:`load_classification_data` turns any accepted ``spec`` into a
:class:`ClassificationData`: class names plus "train" / "val" / "test" splits that hold
either in-memory images (built-in data sets) or image paths (folders, CSV files), the
latter probed up front so that bad files surface before training starts.

Example:
    >>> data = load_classification_data("digits")
    >>> data.classes[:3], data.channels, data.image_size
    (['0', '1', '2'], 1, (8, 8))
    >>> {name: len(split) for name, split in data.splits.items()}
    {'train': 1259, 'val': 269, 'test': 269}
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from deepimage.data.idx import read_idx
from deepimage.data.names import cache_dir, data_search_dirs
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError
from deepimage.io.files import atomic_write
from deepimage.io.headers import IMAGE_EXTENSIONS
from deepimage.io.images import DEFAULT_MAX_PIXELS, probe_image
from deepimage.io.paths import find_images

SPLITS = ("train", "val", "test")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four IDX files of a built-in data set, each found as is or with ``.gz``."""


class _IdxSource(NamedTuple):
    classes: tuple[str, ...]
    base_url: str
    md5s: tuple[str, ...]  # of the .gz files, in IDX_FILES order


_IDX_SOURCES = {
    "fashion-mnist": _IdxSource(
        FASHION_MNIST_CLASSES,
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    "mnist": _IdxSource(
        DIGIT_CLASSES,
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
}
BUILTIN_DATASETS = ("digits", *sorted(_IDX_SOURCES))
DEFAULT_VAL_FRACTION = 0.1
DIGITS_VAL_FRACTION = 0.15  # scikit-learn's digits have no official split: 70/15/15


@dataclass
class Split:
    """One split: labels plus either in-memory images or image paths (decoded later).

    ``infos`` (aligned with ``paths``) describes each file as probed while loading (an
    :class:`~deepimage.io.images.ImageInfo` per image; what the reader's ``probe`` gave).
    """

    labels: np.ndarray
    images: np.ndarray | None = None
    paths: list[Path] | None = None
    infos: list[Any] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class ClassificationData:
    """A classification data set, whatever it was loaded from.

    ``splits`` keys are among "train", "val", "test" (empty splits are left out);
    ``channels`` is 1 when every image is grey, else 3; ``image_size`` is (H, W) when
    all images share one size, else None; ``skipped`` lists the files left out with
    ``skip_bad`` as ``{"path": ..., "reason": ...}``; ``source`` says where the data
    was found.
    """

    name: str
    classes: list[str]
    splits: dict[str, Split]
    channels: int
    image_size: tuple[int, int] | None
    skipped: list[dict[str, str]]
    source: str


class _Sample(NamedTuple):
    path: Path
    label: int


@dataclass(frozen=True)
class FileReader:
    """What the files of a folder data set are: how a class folder's items are found and
    how one is checked (decoded once) while loading.

    ``find(class_folder)`` gives the items, sorted; ``probe(path, max_pixels)`` gives an
    info with ``path``, ``height``, ``width`` and ``channels`` (an
    :class:`~deepimage.io.images.ImageInfo`, say) or raises
    :class:`~deepimage.errors.BadImageError`; ``looked_for`` ends the error for a data set
    with no readable ``noun``. Images are :data:`IMAGE_READER`; clips (``data/video.py``)
    are video files and frame folders.
    """

    find: Callable[[Path], list[Path]]
    probe: Callable[[Path, int], Any]
    noun: str
    looked_for: str


class _Scan(NamedTuple):
    skip_bad: bool
    max_pixels: int
    workers: int
    reader: FileReader
    unlabelled: bool = False  # a folder without class folders is one class


def load_classification_data(
    spec: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    seed: int = 0,
    val_fraction: float | None = None,
    download: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int = 0,
    unlabelled: bool = False,
    reader: FileReader | None = None,
) -> ClassificationData:
    """Load a classification data set from a built-in name, an image folder or a CSV file.

    - Built-in names (:data:`BUILTIN_DATASETS`): "fashion-mnist" and "mnist" (IDX files
      looked for in :func:`~deepimage.data.names.data_search_dirs`; downloaded into the cache only with
      ``download=True``; "val" is a seeded, stratified ``val_fraction`` of the train
      files, "test" the t10k files) and "digits" (scikit-learn's 8x8 digits, a seeded
      stratified split: ``val_fraction`` val, as much test; 70/15/15 by default). Built-in names win over folders of the same name:
      write ``./mnist`` for a folder.
    - An image folder: ``root/train/<class>/...``, ``root/val/<class>/...`` and an optional
      ``root/test/<class>/...`` (without ``val/``, val is held out of train); or just
      ``root/<class>/...``, split by class into ``val_fraction`` val, as much test and the
      rest train. Files are found recursively by extension (:data:`IMAGE_EXTENSIONS`), and
      by content when they have none (:func:`image_files`).
    - A CSV file of ``path,label`` rows (optional ``path,label`` header), paths relative to
      the CSV's folder, split like a folder of classes.

    ``val_fraction=None`` means 0.15 for digits and 0.1 for everything else. With
    ``unlabelled`` (generative models), a folder (or split folder) without class folders
    is one class, ``image``, of every image in it (recursively). ``reader`` says what a
    folder's items are (default :data:`IMAGE_READER`: image files; a task reading other
    items, clips say, gives its own, and then only folders are data sets).

    Every image file is decoded once (``workers`` threads; 0 picks a number, 1 is serial).
    The first bad file in path order raises :class:`~deepimage.errors.BadImageError`
    unless ``skip_bad``, which leaves bad files out and lists them in ``skipped``.

    Raises:
        DataNotFoundError: nothing usable at ``spec``; the message says what to do.
        DeepImageError: a bad CSV row, a missing listed file, corrupt IDX data.

    Example:
        >>> data = load_classification_data("digits", seed=1)
        >>> data.splits["train"].images.shape, data.splits["train"].labels.dtype
        ((1259, 8, 8, 1), dtype('int64'))
    """
    name = os.fspath(spec)
    if val_fraction is None:
        val_fraction = DIGITS_VAL_FRACTION if name == "digits" else DEFAULT_VAL_FRACTION
    if not 0 <= val_fraction < 0.5:
        raise DeepImageError(f"val_fraction must be at least 0 and below 0.5, not {val_fraction}")
    if name == "digits" and reader is None:
        return _load_digits(seed, val_fraction)
    if name in _IDX_SOURCES and reader is None:
        return _load_idx_dataset(name, seed, val_fraction, download)
    path = Path(os.path.abspath(Path(name).expanduser()))  # keeps symlinks as named
    scan = _Scan(skip_bad, max_pixels, workers, reader or IMAGE_READER, unlabelled)
    if path.is_dir():
        return _load_folder(path, scan, seed, val_fraction)
    if reader is not None:
        raise DataNotFoundError(
            f"{name}: not a folder of {reader.noun}. Give a folder of class folders "
            f"(optionally inside train/, val/ and test/) holding {reader.looked_for}"
        )
    if path.is_file() and path.suffix.lower() == ".csv":
        return _load_csv(path, scan, seed, val_fraction)
    close = difflib.get_close_matches(name, BUILTIN_DATASETS, n=1, cutoff=0.75)
    raise DataNotFoundError(
        (f"{name}: did you mean {close[0]}? " if close else f"{name}: ")
        + "not a built-in data set, an image folder or a .csv file. Accepted: "
        f"{', '.join(BUILTIN_DATASETS)}; a folder of class folders (optionally inside "
        "train/, val/ and test/); a CSV file of 'path,label' rows"
    )


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split indices ``0..N-1`` class by class into ``[rest, part_1, part_2, ...]``.

    Part k takes ``fractions[k-1]`` of every class (rounded, random with ``seed``), but
    never a class's last remaining sample; ``rest`` gets what is left. Indices are sorted.

    Example:
        >>> labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
        >>> [part.tolist() for part in stratified_split(labels, [0.25], seed=0)]
        [[0, 1, 3, 4, 5, 6, 7, 9, 11], [2, 8, 10]]
    """
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        start = 0
        for part, fraction in enumerate(fractions, 1):
            count = min(int(len(members) * fraction + 0.5), max(len(members) - start - 1, 0))
            parts[part].append(members[start : start + count])
            start += count
        parts[0].append(members[start:])
    return [np.sort(np.concatenate([np.empty(0, np.intp), *part])) for part in parts]


# --- built-in data sets -------------------------------------------------------------


def _load_digits(seed: int, val_fraction: float) -> ClassificationData:
    from sklearn.datasets import load_digits  # slow import, only when asked

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    parts = stratified_split(labels, (val_fraction, val_fraction), seed)
    return _in_memory("digits", DIGIT_CLASSES, images, labels, parts, "sklearn.datasets")


def _load_idx_dataset(
    name: str, seed: int, val_fraction: float, download: bool
) -> ClassificationData:
    source = _IDX_SOURCES[name]
    files = _find_idx_files(name) or _download_idx_files(name, download)
    train_images, train_labels, test_images, test_labels = (read_idx(path) for path in files)
    _check_idx_pair(files[:2], train_images, train_labels, len(source.classes))
    _check_idx_pair(files[2:], test_images, test_labels, len(source.classes))
    train, val = stratified_split(train_labels, (val_fraction,), seed)
    test = np.arange(len(test_labels)) + len(train_labels)
    images = np.concatenate([train_images, test_images])[..., None]
    labels = np.concatenate([train_labels, test_labels]).astype(np.int64)
    return _in_memory(
        name, source.classes, images, labels, [train, val, test], str(files[0].parent)
    )


def _check_idx_pair(
    files: list[Path], images: np.ndarray, labels: np.ndarray, classes: int
) -> None:
    image_file, label_file = files
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DeepImageError(
            f"{image_file}: expected N x H x W uint8 images, got {images.dtype} {images.shape}"
        )
    if labels.shape != (len(images),):
        raise DeepImageError(
            f"{label_file}: expected {len(images)} labels (one per image in {image_file.name}), "
            f"got shape {labels.shape}"
        )
    if len(labels) and not 0 <= labels.min() <= labels.max() < classes:
        raise DeepImageError(f"{label_file}: labels must lie in 0..{classes - 1}")


def _in_memory(
    name: str,
    classes: Sequence[str],
    images: np.ndarray,
    labels: np.ndarray,
    parts: Sequence[np.ndarray],
    source: str,
) -> ClassificationData:
    splits = {
        split: Split(labels[indices], images=images[indices])
        for split, indices in zip(SPLITS, parts, strict=True)
        if len(indices)
    }
    height, width, channels = images.shape[1:]
    return ClassificationData(name, list(classes), splits, channels, (height, width), [], source)


def _find_idx_files(name: str) -> list[Path] | None:
    """The four IDX files from the first searched folder that has them all."""
    return next(filter(None, map(_idx_files_in, data_search_dirs(name))), None)


def _idx_files_in(folder: Path) -> list[Path] | None:
    files = []
    for stem in IDX_FILES:
        path = next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)
        if path is None:
            return None
        files.append(path)
    return files


def _download_idx_files(name: str, download: bool) -> list[Path]:
    if not download:
        raise DataNotFoundError(_missing_message(name))
    source, folder = _IDX_SOURCES[name], cache_dir(name)
    for stem, md5 in zip(IDX_FILES, source.md5s, strict=True):
        target = folder / f"{stem}.gz"
        if not target.is_file():
            _fetch(source.base_url + target.name, target, md5)
    return [folder / f"{stem}.gz" for stem in IDX_FILES]


def _fetch(url: str, target: Path, md5: str) -> None:
    """Download ``url`` to ``target`` atomically, checking its MD5 before it lands."""

    def copy(out: IO[bytes]) -> None:
        digest = hashlib.md5(usedforsecurity=False)
        with urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise DataNotFoundError(
                f"{url}: the download has MD5 {digest.hexdigest()}, expected {md5}; "
                "try again, or get the files another way (see the error without --download)"
            )

    try:
        atomic_write(target, copy)
    except (urllib.error.URLError, OSError) as exc:
        raise DataNotFoundError(f"cannot download {url} to {target}: {exc}") from exc


def _missing_message(name: str) -> str:
    expected = ", ".join(f"{stem}[.gz]" for stem in IDX_FILES)
    looked = "\n".join(f"  {folder}" for folder in data_search_dirs(name))
    env_note = "" if os.environ.get("DEEPIMAGE_DATA") else " (DEEPIMAGE_DATA is not set)"
    apt = (
        "\n  - apt-get install dataset-fashion-mnist (Debian/Ubuntu)"
        if name == "fashion-mnist"
        else ""
    )
    return (
        f"{name}: data files not found. Expected {expected} in one of{env_note}:\n{looked}\n"
        f"Get them by one of:\n"
        f"  - putting them in <dir>/{name}/ and setting DEEPIMAGE_DATA=<dir>, or in "
        f"{cache_dir(name)}/{apt}\n"
        f"  - passing --download (download=True) to fetch them from {_IDX_SOURCES[name].base_url}"
    )


# --- image folders and CSV files ----------------------------------------------------


def _load_folder(root: Path, scan: _Scan, seed: int, val_fraction: float) -> ClassificationData:
    split_dirs = {split: root / split for split in SPLITS if (root / split).is_dir()}
    if split_dirs and "train" not in split_dirs:
        raise DataNotFoundError(
            f"{root}: has {'/, '.join(split_dirs)}/ but no train/ folder; give train/<class>/ "
            "folders, or only class folders to have the data split"
        )
    class_files = {split: _class_files(folder, scan) for split, folder in split_dirs.items()}
    if not split_dirs:
        class_files = {"all": _class_files(root, scan)}
    classes = sorted(set().union(*class_files.values()))
    index = {cls: i for i, cls in enumerate(classes)}
    pools = {
        split: [_Sample(path, index[cls]) for cls, paths in by_class.items() for path in paths]
        for split, by_class in class_files.items()
    }
    return _from_files(root.name, str(root), classes, pools, scan, seed, val_fraction)


def _class_files(folder: Path, scan: _Scan) -> dict[str, list[Path]]:
    """The reader's items per class folder; ``scan.unlabelled``: all of them as ``image``
    when no class folder holds one."""
    found = {
        class_dir.name: scan.reader.find(class_dir)
        for class_dir in sorted(folder.iterdir())
        if class_dir.is_dir() and not class_dir.name.startswith(".")
    }
    if scan.unlabelled and not any(found.values()):
        return {"image": scan.reader.find(folder)}
    return found


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively, hidden ones left out): by extension, or
    by content for files without an image extension (the Yale faces' ``subject01.happy``)."""
    return find_images(folder, by_content=True)[1]


IMAGE_READER = FileReader(
    image_files,
    probe_image,
    "images",
    f"{', '.join(sorted(IMAGE_EXTENSIONS))} files or files of image content",
)
"""Image files, found recursively by extension or content, each decoded once."""


def _load_csv(csv_path: Path, scan: _Scan, seed: int, val_fraction: float) -> ClassificationData:
    rows = read_path_csv(csv_path)
    classes = sorted({label for _, label in rows})
    index = {cls: i for i, cls in enumerate(classes)}
    pool = [_Sample(path, index[label]) for path, label in rows]
    return _from_files(
        csv_path.stem, str(csv_path), classes, {"all": pool}, scan, seed, val_fraction
    )


def read_path_csv(csv_path: Path, column: str = "label") -> list[tuple[Path, str]]:
    """``(path, value)`` rows of a ``path,<column>`` CSV file, paths relative to the file;
    a header row is skipped."""
    rows: list[tuple[Path, str]] = []
    first = True
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                where = f"{csv_path}, line {reader.line_num}"
                if len(cells) != 2 or not all(cells):
                    raise DeepImageError(f"{where}: expected 'path,{column}', got {row!r}")
                is_header, first = first and cells[1] == column, False
                if is_header:
                    continue
                path = csv_path.parent / cells[0]
                if not path.is_file():
                    raise DeepImageError(f"{where}: image file {path} does not exist")
                rows.append((path, cells[1]))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DeepImageError(f"{csv_path}, line {reader.line_num}: {exc}") from exc
    if not rows:
        raise DataNotFoundError(f"{csv_path}: no 'path,{column}' rows")
    return rows


def _from_files(
    name: str,
    source: str,
    classes: list[str],
    pools: dict[str, list[_Sample]],
    scan: _Scan,
    seed: int,
    val_fraction: float,
) -> ClassificationData:
    """Probe every file, drop (or raise on) bad ones, split, and build the data set."""
    infos, skipped = _probe_files([s.path for pool in pools.values() for s in pool], scan)
    good = {split: [s for s in pool if s.path in infos] for split, pool in pools.items()}
    if not any(good.values()):
        raise DataNotFoundError(
            f"{source}: no readable {scan.reader.noun} (looked for {scan.reader.looked_for} "
            "in class folders)"
        )
    splits = {
        split: Split(
            labels=np.array([s.label for s in samples], dtype=np.int64),
            paths=[s.path for s in samples],
            infos=[infos[s.path] for s in samples],
        )
        for split, samples in _assign_splits(good, seed, val_fraction).items()
    }
    all_infos = list(infos.values())
    sizes = {(info.height, info.width) for info in all_infos}
    return ClassificationData(
        name=name,
        classes=classes,
        splits=splits,
        channels=1 if all(info.channels == 1 for info in all_infos) else 3,
        image_size=sizes.pop() if len(sizes) == 1 else None,
        skipped=skipped,
        source=source,
    )


def _probe_files(paths: list[Path], scan: _Scan) -> tuple[dict[Path, Any], list[dict[str, str]]]:
    """Decode every file once, in sorted order; first bad one raises unless skip_bad."""

    def probe(path: Path) -> Any:
        try:
            return scan.reader.probe(path, scan.max_pixels)
        except BadImageError as exc:
            return exc

    ordered = sorted(set(paths))
    workers = scan.workers or min(8, os.cpu_count() or 1)
    if workers > 1 and len(ordered) > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(probe, ordered))
    else:
        results = [probe(path) for path in ordered]
    bad = [result for result in results if isinstance(result, BadImageError)]
    if bad and not scan.skip_bad:
        raise bad[0]
    infos = {r.path: r for r in results if not isinstance(r, BadImageError)}
    return infos, [{"path": exc.path, "reason": exc.reason} for exc in bad]


def _assign_splits(
    pools: dict[str, list[_Sample]], seed: int, val_fraction: float
) -> dict[str, list[_Sample]]:
    """Split an unsplit pool ("all", or "train" without "val") by class; drop empty splits."""
    if "all" in pools:
        pool, names, fractions = pools.pop("all"), SPLITS, (val_fraction, val_fraction)
    elif "val" not in pools:
        pool, names, fractions = pools.pop("train"), SPLITS[:2], (val_fraction,)
    else:
        return {split: pools[split] for split in SPLITS if pools.get(split)}
    labels = np.array([sample.label for sample in pool], dtype=np.int64)
    parts = stratified_split(labels, fractions, seed)
    pools |= {
        split: [pool[i] for i in indices] for split, indices in zip(names, parts, strict=True)
    }
    return _assign_splits(pools, seed, val_fraction)

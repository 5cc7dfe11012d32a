"""Text-line data: line images and their texts, read into memory at one height.

A data set is a folder (or a ``labels.csv`` / ``labels.txt`` file) of line images. Texts
come from ``path,text`` rows when the folder has such a file, and otherwise from each file's
stem (``AB12CDE.png``; ``AB12CDE_2.png`` for a second image of the same text). Folders with
``train/`` (and ``val/``, ``test/``) are split as they are; otherwise ``val_fraction`` of the
lines go to validation and as many to test, by seed. Every image is decoded once, as grey,
scaled to ``height`` pixels with its aspect ratio kept (at most ``max_width`` wide, at least
``height``), so lines of any width train together.

Example:
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i, text in enumerate(["AB1", "C2D", "AB1"]):
    ...     _ = cv2.imwrite(str(root / f"{text}_{i}.png"), np.full((20, 60), 200, np.uint8))
    >>> data = load_text_lines(root, height=32, val_fraction=0.0)
    >>> data.alphabet, data.splits["train"].texts, data.splits["train"].images[0].shape
    ('12ABCD', ['AB1', 'AB1', 'C2D'], (32, 96))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from deepimage.data.classification import image_files, read_path_csv
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError
from deepimage.io import read_image

SPLITS = ("train", "val", "test")
LABEL_FILES = ("labels.csv", "labels.txt")
DUPLICATE_SUFFIX = re.compile(r"_\d+$")


@dataclass
class TextLines:
    """One split: grey uint8 line images (all ``height`` high) and their texts."""

    paths: list[Path]
    texts: list[str]
    images: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class LineData:
    """A text-line data set: its splits, the characters its training texts use, and the
    files left out (``{path, reason}``)."""

    source: str
    splits: dict[str, TextLines]
    alphabet: str
    skipped: list[dict[str, str]] = field(default_factory=list)


def text_from_stem(path: Path) -> str:
    """The text a file name gives: its stem, less a ``_N`` duplicate suffix.

    Example:
        >>> text_from_stem(Path("plates/AB12CDE_3.png")), text_from_stem(Path("K9.jpg"))
        ('AB12CDE', 'K9')
    """
    return DUPLICATE_SUFFIX.sub("", path.stem)


def scale_to_height(image: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """A grey line image ``height`` pixels high, aspect kept, width within
    [height, max_width] (narrower lines are padded on the right with their edge).

    Example:
        >>> scale_to_height(np.zeros((64, 400), np.uint8), 32, 512).shape
        (32, 200)
        >>> scale_to_height(np.zeros((64, 20), np.uint8), 32, 512).shape
        (32, 32)
    """
    h, w = image.shape[:2]
    width = min(max_width, max(1, round(w * height / h)))
    shrinking = h > height
    out = cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )
    if width < height:
        out = np.pad(out, ((0, 0), (0, height - width)), mode="edge")
    return out


def labelled_files(folder: Path) -> list[tuple[Path, str]]:
    """``(image, text)`` pairs of a folder: from its labels file, or from file stems."""
    for name in LABEL_FILES:
        if (folder / name).is_file():
            return read_path_csv(folder / name, column="text")
    return [(path, text_from_stem(path)) for path in image_files(folder)]


def load_text_lines(
    spec: str | Path,
    height: int = 32,
    max_width: int = 512,
    skip_bad: bool = False,
    seed: int = 0,
    val_fraction: float = 0.1,
    alphabet: str | None = None,
) -> LineData:
    """Read a text-line data set (see the module docstring) into memory.

    ``alphabet`` (default: the characters of the training texts) must hold every character
    of the training texts; a bad image raises :class:`BadImageError` unless ``skip_bad``.
    """
    root = Path(spec)
    if root.is_file():
        pools = {"all": read_path_csv(root, column="text")}
    elif root.is_dir():
        named = [split for split in SPLITS if (root / split).is_dir()]
        folders = {split: root / split for split in named} if named else {"all": root}
        pools = {split: labelled_files(folder) for split, folder in folders.items()}
    else:
        raise DataNotFoundError(
            f"{spec}: no such folder or labels file; give a folder of line images named by "
            "their text (AB12CDE.png) or with a labels.csv of path,text rows."
        )
    if not any(pools.values()):
        raise DataNotFoundError(f"{spec}: no line images found (png, jpg, ... files)")
    skipped: list[dict[str, str]] = []
    splits = {
        split: _read_lines(pairs, height, max_width, skip_bad, skipped)
        for split, pairs in _split(pools, seed, val_fraction).items()
    }
    if not splits.get("train"):
        raise DataNotFoundError(f"{spec}: no readable training lines")
    used = "".join(sorted(set("".join(splits["train"].texts))))
    if alphabet is not None:
        _check_alphabet(splits["train"], alphabet)
    return LineData(str(spec), splits, alphabet or used, skipped)


def _split(
    pools: dict[str, list[tuple[Path, str]]], seed: int, val_fraction: float
) -> dict[str, list[tuple[Path, str]]]:
    """Split an unsplit pool ("all": val and test, "train" without "val": val) by seed."""
    if "all" in pools:
        pool, held_out = pools.pop("all"), ("val", "test")
    elif "train" in pools and "val" not in pools:
        pool, held_out = pools.pop("train"), ("val",)
    else:
        return {name: pairs for name, pairs in pools.items() if pairs}
    order, held = (
        np.random.default_rng(seed).permutation(len(pool)),
        round(len(pool) * val_fraction),
    )
    for i, name in enumerate(held_out):
        pools[name] = [pool[j] for j in sorted(order[i * held : (i + 1) * held])]
    pools["train"] = [pool[j] for j in sorted(order[len(held_out) * held :])]
    return {name: pairs for name, pairs in pools.items() if pairs}


def _read_lines(
    pairs: list[tuple[Path, str]],
    height: int,
    max_width: int,
    skip_bad: bool,
    skipped: list[dict[str, str]],
) -> TextLines:
    lines = TextLines([], [], [])
    for path, text in pairs:
        try:
            image = read_image(path, mode="gray")
        except BadImageError as exc:
            if not skip_bad:
                raise
            skipped.append({"path": exc.path, "reason": exc.reason})
            continue
        lines.paths.append(path)
        lines.texts.append(text)
        lines.images.append(scale_to_height(image, height, max_width))
    return lines


def _check_alphabet(lines: TextLines, alphabet: str) -> None:
    for path, text in zip(lines.paths, lines.texts, strict=True):
        unknown = sorted(set(text) - set(alphabet))
        if unknown:
            raise DeepImageError(
                f"{path}: its text {text!r} has {''.join(unknown)!r}, not in --alphabet; "
                "add the characters or leave --alphabet out (the training texts' own)."
            )

"""Finding detection data and recognising its format from the folder layout.

Layouts recognised (each may also sit in ``train/``, ``val/``, ``test/`` subfolders):
VOC ``annotations/*.xml`` (or ``Annotations/``); COCO ``annotations/*.json``, a lone
``*.json`` file, or ``*.json`` beside images; YOLO ``labels/`` + ``images/``. A name
that is no path is looked up by :func:`~deepimage.data.names.find_data`.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> detection_format(root) is None
    True
    >>> _ = (root / "train" / "annotations").mkdir(parents=True)
    >>> _ = (root / "train" / "annotations" / "a.xml").write_text("<annotation/>")
    >>> detection_format(root)
    'voc'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from deepimage.data.detection.items import SPLITS, Format
from deepimage.data.names import data_search_dirs, find_data
from deepimage.errors import DataNotFoundError, DeepImageError
from deepimage.io.headers import IMAGE_EXTENSIONS

ANNOTATION_DIRS = ("annotations", "Annotations")
IMAGE_DIRS = ("images", "JPEGImages")


def detection_format(spec: str | os.PathLike[str]) -> Format | None:
    """The format of the detection data ``spec`` names, or None if it is not detection data."""
    root = find_data(spec)
    return None if root is None else layout_format(root)


def locate(spec: str | os.PathLike[str]) -> tuple[Path, Format]:
    """The data set folder (or COCO file) ``spec`` names and its format; raises when none."""
    root = find_data(spec)
    fmt = None if root is None else layout_format(root)
    if root is None or fmt is None:
        looked = "\n".join(f"  {p}" for p in [Path(spec), *data_search_dirs(os.fspath(spec))])
        raise DataNotFoundError(
            f"no detection data found for {spec!r}; looked for a COCO JSON file or a folder "
            "with VOC annotations/*.xml + images/, COCO annotations/*.json, or YOLO "
            f"labels/*.txt + images/ in:\n{looked}"
        )
    return root, fmt


def layout_format(path: Path) -> Format | None:
    """The format of ``path`` itself, else of its first split subfolder that has one."""
    return own_format(path) or next(
        (fmt for folder in split_dirs(path) if (fmt := own_format(folder))), None
    )


def own_format(path: Path) -> Format | None:
    """The format of ``path`` itself (no split subfolders)."""
    if path.is_file():
        return "coco" if path.suffix.lower() == ".json" else None
    annotations = subdir(path, ANNOTATION_DIRS)
    if annotations is not None and any(annotations.glob("*.xml")):
        return "voc"
    if annotations is not None and any(annotations.glob("*.json")):
        return "coco"
    if (path / "labels").is_dir() and (path / "images").is_dir():
        return "yolo"
    has_images = (path / "images").is_dir() or bool(image_files(path))
    return "coco" if has_images and any(path.glob("*.json")) else None


def split_dirs(path: Path) -> list[Path]:
    """The ``train/``, ``val/``, ``test/`` subfolders of ``path`` that exist."""
    return [path / split for split in SPLITS if (path / split).is_dir()]


def subdir(path: Path, names: Sequence[str]) -> Path | None:
    """The first of the subfolders ``names`` of ``path`` that exists."""
    return next((path / name for name in names if (path / name).is_dir()), None)


def inside(root: Path, name: str) -> bool:
    """Whether the path ``name`` (from an annotation file) stays inside the data set folder
    ``root``: not an absolute path elsewhere, not climbing out with ``..``. Checked on the
    names, so links the data set itself holds are followed.

    Example:
        >>> [inside(Path("data"), name) for name in ("a.jpg", "sub/../b.jpg", "../c.jpg", "/etc/x")]
        [True, True, False, False]
    """
    base = os.path.abspath(root)
    return os.path.commonpath([base, os.path.abspath(os.path.join(base, name))]) == base


def image_files(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted (none when it is no folder)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def listed_classes(root: Path) -> list[str] | None:
    """Class names from ``classes.txt`` or ``data.yaml`` in ``root`` or its parent."""
    for folder in (root, root.parent):
        if (folder / "classes.txt").is_file():
            lines = text_of(folder / "classes.txt").splitlines()
            return [line.strip() for line in lines if line.strip()]
        if (folder / "data.yaml").is_file():
            return _yaml_names(folder / "data.yaml")
    return None


def text_of(path: Path) -> str:
    """The UTF-8 text of a side file of a data set (classes, split lists); a clear error
    naming it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DeepImageError(
            f"{path}: cannot read it as UTF-8 text ({error}); fix or remove it"
        ) from None


def _yaml_names(path: Path) -> list[str]:
    try:
        names = (yaml.safe_load(text_of(path)) or {}).get("names")
    except (yaml.YAMLError, AttributeError) as error:
        raise DeepImageError(f"{path}: not a readable data.yaml ({error})") from None
    except RecursionError:
        raise DeepImageError(f"{path}: not a readable data.yaml: nested too deeply") from None
    if isinstance(names, dict) and all(isinstance(key, (int, str)) for key in names):
        names = [names[key] for key in sorted(names, key=lambda key: (isinstance(key, str), key))]
    if isinstance(names, list) and all(isinstance(name, (str, int, float)) for name in names):
        return [str(name) for name in names]
    raise DeepImageError(
        f'{path}: "names" must be a list of class names or a mapping of class index: name'
    )

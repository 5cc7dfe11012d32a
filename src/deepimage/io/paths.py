"""Finding image files from what a user types: files, folders (recursive) and glob patterns.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "a").mkdir(); (root / "a" / "x.png").touch(); (root / "notes.txt").touch()
    >>> base, files = find_images(root)
    >>> base == root, [f.name for f in files]
    (True, ['x.png'])
"""

from __future__ import annotations

import glob
import os
from itertools import takewhile
from pathlib import Path

from deepimage.errors import DeepImageError
from deepimage.io.images import IMAGE_EXTENSIONS, has_image_signature


def _glob_root(pattern: str) -> Path:
    """The folder a glob pattern starts from: its leading parts without wildcards."""
    fixed = list(takewhile(lambda part: not glob.has_magic(part), Path(pattern).parts))
    return Path(*fixed) if fixed else Path(".")


def find_images(
    item: str | os.PathLike[str], *, by_content: bool = False
) -> tuple[Path, list[Path]]:
    """(root folder, sorted image files) for a file, a folder (recursive) or a glob pattern.

    In folders, ``by_content`` also takes files without an image extension that start like
    an image (:func:`has_image_signature`; the Yale faces are ``subject01.happy``) and
    leaves hidden files out.
    """
    path = Path(item)
    if path.is_dir() and by_content:
        files = (p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        return path, sorted(
            p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS or has_image_signature(p)
        )
    if path.is_dir():
        files = (p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        return path, sorted(p for p in files if p.is_file())
    if path.is_file():
        return path.parent, [path]
    if glob.has_magic(str(item)):
        files = sorted(Path(p) for p in glob.glob(str(item), recursive=True) if Path(p).is_file())
        if files:
            return _glob_root(str(item)), files
    raise DeepImageError(f"{item}: no such file or folder, and no file matches it as a pattern")


def shown_path(path: str | os.PathLike[str]) -> str:
    """How every JSON output spells a path: absolute, symlinks kept as the user named them.

    Example:
        >>> import os
        >>> shown_path("a/b.png") == os.path.join(os.getcwd(), "a", "b.png")
        True
    """
    return os.path.abspath(path)

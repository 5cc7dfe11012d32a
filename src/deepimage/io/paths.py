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
from deepimage.io.images import IMAGE_EXTENSIONS


def _glob_root(pattern: str) -> Path:
    """The folder a glob pattern starts from: its leading parts without wildcards."""
    fixed = list(takewhile(lambda part: not glob.has_magic(part), Path(pattern).parts))
    return Path(*fixed) if fixed else Path(".")


def find_images(item: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """(root folder, sorted image files) for a file, a folder (recursive) or a glob pattern."""
    path = Path(item)
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

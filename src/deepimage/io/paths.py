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
import warnings
from collections.abc import Iterator
from itertools import takewhile
from pathlib import Path

from deepimage.errors import DeepImageError
from deepimage.io.headers import IMAGE_EXTENSIONS, has_image_signature


def _glob_root(pattern: str) -> Path:
    """The folder a glob pattern starts from: its leading parts without wildcards."""
    fixed = list(takewhile(lambda part: not glob.has_magic(part), Path(pattern).parts))
    return Path(*fixed) if fixed else Path(".")


def find_images(
    item: str | os.PathLike[str],
    *,
    by_content: bool = False,
    skipped: list[dict[str, str]] | None = None,
    extensions: frozenset[str] = IMAGE_EXTENSIONS,
) -> tuple[Path, list[Path]]:
    """(root folder, sorted image files) for a file, a folder (recursive) or a glob pattern.

    In folders, ``by_content`` also takes files without an image extension that start like
    an image (:func:`has_image_signature`; the Yale faces are ``subject01.happy``) and
    leaves hidden files out. Symlinked folders are not followed. A folder that cannot be
    read is never passed over in silence: it is added to ``skipped`` as ``{path, reason}``
    when a list is given, and otherwise a warning names it. ``extensions`` (lower case)
    are the names folders are searched for (video files too, for clips).

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "a.png").touch(); (root / ".b.png").touch(); (root / "c.happy").touch()
        >>> left_out = []
        >>> [f.name for f in find_images(root, skipped=left_out)[1]], left_out
        (['.b.png', 'a.png'], [])
    """
    path = Path(item)
    if path.is_dir():
        found = (p for p in _walk(path, skipped) if _is_candidate(p, by_content, extensions))
        return path, sorted(found)
    if path.is_file():
        return path.parent, [path]
    if glob.has_magic(str(item)):
        files = sorted(Path(p) for p in glob.glob(str(item), recursive=True) if Path(p).is_file())
        if files:
            return _glob_root(str(item)), files
    raise DeepImageError(f"{item}: no such file or folder, and no file matches it as a pattern")


def _walk(folder: Path, skipped: list[dict[str, str]] | None) -> Iterator[Path]:
    """The files below ``folder`` (symlinked folders not followed); unreadable folders are
    reported to ``skipped`` or as a warning."""

    def unreadable(error: OSError) -> None:
        where = error.filename or folder
        reason = f"cannot read the folder ({error.strerror or error}); its images were left out"
        if skipped is None:
            warnings.warn(f"{where}: {reason}", UnreadableFolderWarning, stacklevel=4)
        else:
            skipped.append({"path": shown_path(where), "reason": reason})

    for parent, _, names in os.walk(folder, onerror=unreadable):
        for name in names:
            file = Path(parent) / name
            if file.is_file():
                yield file


def _is_candidate(file: Path, by_content: bool, extensions: frozenset[str]) -> bool:
    if not by_content:
        return file.suffix.lower() in extensions
    if file.name.startswith("."):
        return False
    return file.suffix.lower() in extensions or has_image_signature(file)


class UnreadableFolderWarning(UserWarning):
    """A folder below an input could not be read, so its images were left out."""


def shown_path(path: str | os.PathLike[str]) -> str:
    """How every JSON output spells a path: absolute, symlinks kept as the user named them.

    Example:
        >>> import os
        >>> shown_path("a/b.png") == os.path.join(os.getcwd(), "a", "b.png")
        True
    """
    return os.path.abspath(path)

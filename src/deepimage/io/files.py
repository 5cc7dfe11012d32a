"""Atomic writes: a reader sees the old file or the new one, never half of one.

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> write_json(path, {"top1": 0.9})
    >>> json.loads(path.read_text())
    {'top1': 0.9}
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import yaml

from deepimage.errors import DeepImageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone gives 0600


class WriteError(DeepImageError):
    """A file could not be written (disk full, no permission, read-only file system...).

    Not a fault of any one input: a batch command stops on it, even with ``--skip-bad``.
    """


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def write_failure(path: str | os.PathLike[str], error: OSError) -> WriteError:
    """The :class:`WriteError` for ``error`` while writing ``path``: what happened and the fix.

    Example:
        >>> import errno
        >>> print(write_failure("out/a.png", OSError(errno.ENOSPC, "No space left on device")))
        out/a.png was not written: the disk is full (No space left on device); free some space or choose another -o/--out folder
    """
    reason = error.strerror or str(error)
    if error.errno in _FULL:
        return WriteError(
            f"{path} was not written: the disk is full ({reason}); "
            "free some space or choose another -o/--out folder"
        )
    return WriteError(
        f"{path} was not written ({reason}); check that its folder is writable, "
        "or choose another -o/--out folder"
    )


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], durable: bool = True
) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place.

    The temporary file is completed, flushed and closed before the rename, and removed on
    any error, so ``path`` is the old file or the whole new one, never part of one.
    ``durable`` also forces the data to disk before the rename (checkpoints, reports);
    batch image writes skip that and stay atomic.

    Raises:
        WriteError: the folder cannot be created or written, or the disk is full (also
            when ``write`` itself hits a full disk); other errors of ``write`` propagate.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> def broken(handle):
        ...     handle.write(b"half")
        ...     raise ValueError("stopped")
        >>> atomic_write(path, broken)
        Traceback (most recent call last):
        ...
        ValueError: stopped
        >>> sorted(p.name for p in path.parent.iterdir())
        []
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise write_failure(path, error) from None
    written = False  # past ``write``: an OSError now is the file's own (flush, close, rename)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            written = True
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and (written or error.errno in _FULL):
            raise write_failure(path, error) from None
        raise


def check_writable_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (with its parents) and make sure files can be written in it.

    Batch commands call it before their first input, so an unwritable ``-o`` is one clear
    error, not a failure per input.

    Raises:
        WriteError: naming the folder and why.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> check_writable_folder(root / "out").is_dir()
        True
        >>> _ = (root / "file").write_text("")
        >>> check_writable_folder(root / "file" / "out")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepimage.io.files.WriteError: cannot write in the output folder .../file/out (...); choose another -o/--out folder
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise WriteError(
            f"cannot write in the output folder {folder} ({error.strerror or error}); "
            "choose another -o/--out folder"
        ) from None
    return folder


def copy_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Copy ``source`` byte for byte to ``target``, atomically (its folder created).

    Not a hard link: a copy edited in place would change the source through a shared inode.

    Raises:
        DeepImageError: ``source`` cannot be read (a :class:`WriteError` when ``target``
            cannot be written).

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "a.gif").write_bytes(b"GIF89a")
        >>> copy_file(root / "a.gif", root / "sub" / "a.gif")
        >>> (root / "sub" / "a.gif").read_bytes()
        b'GIF89a'
    """
    try:
        source_file = open(source, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise DeepImageError(
            f"{source}: cannot read it to copy it ({error.strerror or error}); check that it "
            "still exists and is readable"
        ) from None
    with source_file:
        atomic_write(target, lambda out: shutil.copyfileobj(source_file, out), durable=False)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8, atomically."""
    atomic_write(path, lambda handle: handle.write(text.encode()))


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Write a header and rows as CSV (UTF-8, ``\\n`` line ends), atomically.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
        >>> write_csv(path, ["path", "label"], [["a, b.png", "cat"]])
        >>> path.read_text()
        'path,label\\n"a, b.png",cat\\n'
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_yaml(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as YAML, atomically."""
    write_text(path, yaml.safe_dump(data, sort_keys=False))


def fresh_dir(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``...: the first that does not exist, created
    (with its parents). Never reuses a folder, even when another process races for it.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> fresh_dir(root / "out").name, fresh_dir(root / "out").name
        ('out', 'out-2')
    """
    candidate, number = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            number += 1
            candidate = base.with_name(f"{base.name}-{number}")

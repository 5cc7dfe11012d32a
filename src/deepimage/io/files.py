"""Atomic writes: a reader sees the old file or the new one, never half of one.

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> write_json(path, {"top1": 0.9})
    >>> json.loads(path.read_text())
    {'top1': 0.9}
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import yaml


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone gives 0600


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], durable: bool = True
) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place.

    ``durable`` also flushes the data to disk first (checkpoints, reports); batch image
    writes skip that and stay atomic.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8, atomically."""
    atomic_write(path, lambda handle: handle.write(text.encode()))


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

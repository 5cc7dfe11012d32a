"""Data set names: the one lookup of ``<name>`` in the data folders, for every kind of data.

A name (``mnist``, ``raccoon``) is looked up, in order, in ``$DEEPIMAGE_DATA/<name>/``,
the cache ``~/.cache/deepimage/<name>/`` (where downloads land) and the system folder
``/usr/share/datasets/<name>/``. A path that exists is taken as it is.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> find_data(root) == root, find_data("no-such-data") is None
    (True, True)
"""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_DATA_DIR = Path("/usr/share/datasets")


def data_search_dirs(name: str) -> list[Path]:
    """Folders searched for data set ``name``, in order.

    Example:
        >>> [str(path) for path in data_search_dirs("mnist")][-1]
        '/usr/share/datasets/mnist'
    """
    env = os.environ.get("DEEPIMAGE_DATA")
    first = [Path(env).expanduser() / name] if env else []
    return [*first, cache_dir(name), SYSTEM_DATA_DIR / name]


def cache_dir(name: str) -> Path:
    """The cache folder of data set ``name``, where downloads are written.

    Example:
        >>> cache_dir("mnist").parts[-3:]
        ('.cache', 'deepimage', 'mnist')
    """
    return Path.home() / ".cache" / "deepimage" / name


def find_data(spec: str | os.PathLike[str]) -> Path | None:
    """The path ``spec`` names when it exists, else the first search folder of that name
    that is a folder (:func:`data_search_dirs`), else None."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    return next((p for p in data_search_dirs(os.fspath(spec)) if p.is_dir()), None)

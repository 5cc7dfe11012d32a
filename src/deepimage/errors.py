"""One exception family for every error a user can fix.

The command line prints a :class:`DeepImageError` without a traceback and exits 2;
anything else is an internal error (exit 1).

Example:
    >>> from deepimage.errors import BadImageError
    >>> str(BadImageError("a.png", "zero-byte file"))
    'a.png: zero-byte file. Remove or replace the file, or pass --skip-bad to skip bad images.'
"""

from __future__ import annotations

from os import PathLike


class DeepImageError(Exception):
    """An error the user can fix; the message says what is wrong and what to do."""


class BadImageError(DeepImageError):
    """An image file that cannot be decoded safely (corrupt, truncated, empty, too big...)."""

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"{self.path}: {reason}. Remove or replace the file, "
            "or pass --skip-bad to skip bad images."
        )


class DataNotFoundError(DeepImageError):
    """A data set name or path that resolves to nothing usable."""


class ModelFileError(DeepImageError):
    """A model or checkpoint file that is missing, corrupt or unsafe to load."""

"""How a face gallery file is laid out, and the checks of what goes in and comes out.

Creating the file (its owner's only) and opening it (the SQLite schema, its version and
pragmas), the encoding of embeddings (little-endian float64 blobs: exact round trips),
and the checks shared by :class:`~deepimage.faces.gallery.Gallery` and its export files
(:mod:`deepimage.faces.gallery_export`): names that may be enrolled, embeddings that may
be stored, and stored embeddings that are damaged.

Example:
    >>> import numpy as np
    >>> blob = np.array([0.5, 1.0]).astype(VECTOR_DTYPE).tobytes()
    >>> stored_damage(blob, 16) is None, stored_damage(blob[:3], 16)
    (True, "3 bytes where the model's embeddings have 16")
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.match import UNKNOWN

SCHEMA_VERSION = 1
NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
"""SQL for the time now, as every ``created`` column holds it."""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT {NOW}
);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    source TEXT,
    created TEXT NOT NULL DEFAULT {NOW},
    UNIQUE (identity_id, model, vector)
);
CREATE INDEX IF NOT EXISTS embeddings_by_model ON embeddings (model);
PRAGMA user_version = {SCHEMA_VERSION};
"""
VECTOR_DTYPE = np.dtype("<f8")  # vectors are stored as little-endian float64: exact round trips


def create_private_file(path: Path) -> None:
    """An empty file readable and writable by its owner only (biometric data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise DeepImageError(f"{path}: cannot create the face gallery ({error.strerror})") from None


def open_database(path: Path) -> sqlite3.Connection:
    """The gallery file ``path`` opened (write-ahead logging, ``synchronous=FULL``, foreign
    keys), its schema created when the file is empty; SQLite's errors pass through.

    Raises when the file is a newer gallery, or an SQLite file that is no gallery.
    """
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DeepImageError(
            f"{path}: gallery format {version} is newer than this deepimage "
            f"understands ({SCHEMA_VERSION}); upgrade deepimage"
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if version == 0 and tables:
        raise DeepImageError(
            f"{path}: an SQLite file that is not a deepimage face gallery; "
            "give another --gallery file"
        )
    if version == 0:
        db.executescript(_SCHEMA)
    return db


def check_name(name: str) -> str:
    """``name`` unchanged if it can be enrolled: any text but blank or ``unknown``."""
    if not isinstance(name, str) or not name.strip():
        raise DeepImageError(f"a person's name must be non-blank text, not {name!r}")
    if name == UNKNOWN:
        raise DeepImageError(f"{UNKNOWN!r} is what unmatched faces are called; choose another name")
    return name


def as_vectors(vectors: Any, what: str) -> np.ndarray:
    """(N, D) finite float64 embeddings, N >= 1."""
    try:
        array = np.asarray(vectors, np.float64)
    except (TypeError, ValueError, OverflowError):
        raise DeepImageError(f"{what}: embeddings must be rows of numbers") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise DeepImageError(f"{what}: expected a non-empty (N, D) array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise DeepImageError(f"{what}: embeddings contain NaN or infinity")
    return array


def stored_damage(blob: Any, size: int | None) -> str | None:
    """What is wrong with a stored vector whose model's vectors are ``size`` bytes long
    (a blob that is not bytes, of another length, with NaN or infinity), or None."""
    if not isinstance(blob, bytes):
        return f"stored as {type(blob).__name__}, not as bytes"
    if len(blob) != size or len(blob) % VECTOR_DTYPE.itemsize:
        return f"{len(blob)} bytes where the model's embeddings have {size}"
    if not np.isfinite(np.frombuffer(blob, VECTOR_DTYPE)).all():
        return "NaN or infinity in its vector"
    return None

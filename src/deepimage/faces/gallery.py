"""The gallery of known people: identities with several embeddings each, in one SQLite file.

Safety first, since a gallery is biometric data that grows over time:

- one file (plus SQLite's ``-wal``/``-shm`` while open), created readable by its owner only;
- write-ahead logging with ``synchronous=FULL``: every :meth:`Gallery.add` is one
  transaction, so a crash or ``kill -9`` loses at most the identity being written and
  never damages those committed before (FULL also keeps them through a power cut; an
  fsync per identity costs nothing next to computing its embeddings);
- names are data: every statement is parameterised, and no name is ever used as a path;
- each embedding is stored with the name of the model that made it, and only embeddings
  of one model are ever compared;
- the same embedding is stored once per identity (re-enrolling the same photo, or running
  an interrupted enrollment again, adds nothing twice).

Large galleries are searched through faiss (see :mod:`deepimage.faces.index`).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "faces.db"
    >>> with Gallery(path) as gallery:
    ...     gallery.add("ann", np.array([[0.0, 0.1], [0.0, 0.2]]), model="toy")
    ...     gallery.add("bob", np.array([[1.0, 0.0]]), model="toy")
    ...     gallery.identify(np.array([[0.0, 0.0], [0.9, 0.9]]), model="toy")
    2
    1
    [Match(name='ann', distance=0.1), Match(name='unknown', distance=0.90...)]
    >>> [(i.name, i.embeddings) for i in Gallery(path).identities()]
    [('ann', 2), ('bob', 1)]
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.index import IndexKind, NeighbourIndex, build_index
from deepimage.faces.match import UNKNOWN, Match, Metric, resolve_threshold, vote
from deepimage.faces.models import EMBEDDING_MODEL
from deepimage.io.files import write_json

SCHEMA_VERSION = 1
EXPORT_FORMAT = "deepimage-face-gallery"
_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT {_NOW}
);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    source TEXT,
    created TEXT NOT NULL DEFAULT {_NOW},
    UNIQUE (identity_id, model, vector)
);
CREATE INDEX IF NOT EXISTS embeddings_by_model ON embeddings (model);
PRAGMA user_version = {SCHEMA_VERSION};
"""
_DTYPE = np.dtype("<f8")  # vectors are stored as little-endian float64: exact round trips


@dataclass(frozen=True)
class Identity:
    """One enrolled person: name, number of embeddings, the models that made them."""

    name: str
    embeddings: int
    models: tuple[str, ...]
    created: str


def default_gallery_path() -> Path:
    """``$XDG_DATA_HOME/deepimage/faces.db``, or ``~/.local/share/deepimage/faces.db``.

    Example:
        >>> default_gallery_path().name
        'faces.db'
    """
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "deepimage" / "faces.db"


def check_name(name: str) -> str:
    """``name`` unchanged if it can be enrolled: any text but blank or ``unknown``."""
    if not isinstance(name, str) or not name.strip():
        raise DeepImageError(f"a person's name must be non-blank text, not {name!r}")
    if name == UNKNOWN:
        raise DeepImageError(f"{UNKNOWN!r} is what unmatched faces are called; choose another name")
    return name


class Gallery:
    """A face gallery in the SQLite file ``path``.

    ``create=False`` refuses a missing file instead of creating an empty gallery (for
    commands that only read). Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise DeepImageError(
                    f"{self.path}: no face gallery here; enroll people first "
                    f"(deepimage face enroll --gallery {self.path} ...)"
                )
            _create_private_file(self.path)
        self._indexes: dict[tuple[str, str, str], tuple[NeighbourIndex, list[str]]] = {}
        with self._errors("open"):
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._check_schema()

    def _check_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DeepImageError(
                f"{self.path}: gallery format {version} is newer than this deepimage "
                f"understands ({SCHEMA_VERSION}); upgrade deepimage"
            )
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if version == 0 and tables:
            raise DeepImageError(
                f"{self.path}: an SQLite file that is not a deepimage face gallery; "
                "give another --gallery file"
            )
        if version == 0:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database (the ``-wal`` file is folded back into the gallery file)."""
        self._db.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """SQLite's errors as DeepImageError naming the gallery file."""
        try:
            yield
        except sqlite3.DatabaseError as error:
            raise DeepImageError(
                f"{self.path}: cannot {action} the face gallery ({error}); "
                "if it is damaged, restore it from an export (deepimage face import)"
            ) from None

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; everything in it is committed together or not at all."""
        with self._errors(action):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self._indexes.clear()

    # --- writing ----------------------------------------------------------------------

    def add(
        self,
        name: str,
        vectors: np.ndarray,
        sources: Sequence[str | None] | None = None,
        model: str = EMBEDDING_MODEL,
    ) -> int:
        """Add embeddings (N, D) of ``name`` (created when new), in one transaction.

        ``sources`` names where each came from (an image path). Returns how many
        embeddings were new: one already stored for this person and model is skipped.
        """
        vectors = _as_vectors(vectors, f"embeddings of {name!r}")
        sources = list(sources) if sources is not None else [None] * len(vectors)
        if len(sources) != len(vectors):
            raise DeepImageError(f"{len(vectors)} embeddings but {len(sources)} sources")
        with self._transaction("write to") as db:
            return self._insert(db, check_name(name), model, vectors, sources)

    def _insert(
        self,
        db: sqlite3.Connection,
        name: str,
        model: str,
        vectors: np.ndarray,
        sources: Sequence[str | None],
        created: Sequence[str | None] | None = None,
    ) -> int:
        self._check_size(db, model, vectors.shape[1])
        db.execute("INSERT OR IGNORE INTO identities (name) VALUES (?)", (name,))
        (identity,) = db.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
        before = db.total_changes
        db.executemany(
            f"INSERT OR IGNORE INTO embeddings (identity_id, model, vector, source, created) "
            f"VALUES (?, ?, ?, ?, coalesce(?, {_NOW}))",
            [
                (identity, model, vector.astype(_DTYPE).tobytes(), source, when)
                for vector, source, when in zip(
                    vectors, sources, created or [None] * len(vectors), strict=True
                )
            ],
        )
        return db.total_changes - before

    def _check_size(self, db: sqlite3.Connection, model: str, size: int) -> None:
        row = db.execute(
            "SELECT length(vector) FROM embeddings WHERE model = ? LIMIT 1", (model,)
        ).fetchone()
        if row is not None and row[0] != size * _DTYPE.itemsize:
            raise DeepImageError(
                f"{self.path}: model {model!r} embeddings have {row[0] // _DTYPE.itemsize} "
                f"values in this gallery, not {size}"
            )

    def rename(self, old: str, new: str) -> None:
        """Give the person ``old`` the name ``new`` (which must be free)."""
        with self._transaction("write to") as db:
            self._require(db, old)
            if db.execute("SELECT 1 FROM identities WHERE name = ?", (new,)).fetchone():
                raise DeepImageError(
                    f"{self.path}: {new!r} is already enrolled; remove it first or choose "
                    "another name"
                )
            db.execute("UPDATE identities SET name = ? WHERE name = ?", (check_name(new), old))

    def remove(self, *names: str) -> dict[str, int]:
        """Remove people and all their embeddings, all of them or (on an error) none.

        Returns how many embeddings each person had.
        """
        removed = {}
        with self._transaction("write to") as db:
            for name in names:
                identity = self._require(db, name)
                (removed[name],) = db.execute(
                    "SELECT count(*) FROM embeddings WHERE identity_id = ?", (identity,)
                ).fetchone()
                db.execute("DELETE FROM identities WHERE id = ?", (identity,))
        return removed

    def _require(self, db: sqlite3.Connection, name: str) -> int:
        row = db.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise DeepImageError(
                f"{self.path}: nobody called {name!r} is enrolled; deepimage face list shows who is"
            )
        return int(row[0])

    # --- reading ----------------------------------------------------------------------

    def _query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._errors("read"):
            return self._db.execute(sql, parameters).fetchall()

    def identities(self) -> list[Identity]:
        """Everyone enrolled, by name."""
        rows = self._query(
            "SELECT i.name, count(e.id), group_concat(DISTINCT e.model), i.created "
            "FROM identities i LEFT JOIN embeddings e ON e.identity_id = i.id "
            "GROUP BY i.id ORDER BY i.name"
        )
        return [
            Identity(name, count, tuple(sorted(models.split(","))) if models else (), created)
            for name, count, models, created in rows
        ]

    def vectors(self, model: str = EMBEDDING_MODEL) -> tuple[np.ndarray, list[str]]:
        """(embeddings (N, D), their names) of every embedding made by ``model``."""
        rows = self._query(
            "SELECT i.name, e.vector FROM embeddings e "
            "JOIN identities i ON i.id = e.identity_id WHERE e.model = ? ORDER BY e.id",
            (model,),
        )
        if not rows:
            return np.zeros((0, 0), np.float64), []
        return np.stack([np.frombuffer(blob, _DTYPE) for _, blob in rows]), [n for n, _ in rows]

    def models(self) -> dict[str, int]:
        """Embedding counts per model."""
        with self._errors("read"):
            return dict(self._db.execute("SELECT model, count(*) FROM embeddings GROUP BY model"))

    def index(
        self, model: str, metric: Metric, kind: IndexKind = "auto"
    ) -> tuple[NeighbourIndex, list[str]]:
        """A search index over ``model``'s embeddings and their names (cached until a write)."""
        key = (model, metric, kind)
        if key not in self._indexes:
            vectors, names = self.vectors(model)
            if not names:
                others = ", ".join(self.models()) or "none"
                raise DeepImageError(
                    f"{self.path}: the gallery holds no {model} embeddings (models in it: "
                    f"{others}); enroll people first (deepimage face enroll)"
                )
            self._indexes[key] = (build_index(vectors, metric, kind), names)
        return self._indexes[key]

    def identify(
        self,
        queries: np.ndarray,
        *,
        model: str = EMBEDDING_MODEL,
        metric: Metric = "euclidean",
        threshold: float | None = None,
        knn: int = 1,
        index: IndexKind = "auto",
    ) -> list[Match]:
        """Who each query embedding (N, D) is: the nearest enrolled person, or ``unknown``.

        See :func:`deepimage.faces.match.vote` for ``knn`` and the threshold.
        """
        limit = resolve_threshold(metric, threshold)
        queries = np.asarray(queries, np.float64)
        if queries.size == 0:
            return []
        search, names = self.index(model, metric, index)
        distances, indices = search.search(np.atleast_2d(queries), knn)
        neighbours = [[names[i] for i in row] for row in indices]
        return vote(neighbours, distances, limit, knn)

    # --- export and import ------------------------------------------------------------

    def export(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Write every identity and embedding to a JSON file (atomically); returns counts."""
        rows = self._query(
            "SELECT i.name, i.created, e.model, e.vector, e.source, e.created "
            "FROM identities i LEFT JOIN embeddings e ON e.identity_id = i.id "
            "ORDER BY i.name, e.id"
        )
        people: dict[str, dict[str, Any]] = {}
        for name, created, model, blob, source, when in rows:
            person = people.setdefault(name, {"name": name, "created": created, "embeddings": []})
            if blob is not None:
                vector = np.frombuffer(blob, _DTYPE).tolist()
                person["embeddings"].append(
                    {"model": model, "vector": vector, "source": source, "created": when}
                )
        write_json(
            path,
            {
                "format": EXPORT_FORMAT,
                "version": SCHEMA_VERSION,
                "identities": list(people.values()),
            },
        )
        embeddings = sum(len(person["embeddings"]) for person in people.values())
        return {"identities": len(people), "embeddings": embeddings}

    def import_file(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Merge an export into this gallery in one transaction; returns counts.

        People already enrolled keep their embeddings and gain the new ones; an embedding
        already stored is skipped. A malformed file changes nothing.
        """
        people = _read_export(Path(path))
        added = 0
        with self._transaction("write to") as db:
            for person in people:
                by_model: dict[str, list[dict[str, Any]]] = {}
                for item in person["embeddings"]:
                    by_model.setdefault(item["model"], []).append(item)
                db.execute(
                    f"INSERT OR IGNORE INTO identities (name, created) VALUES (?, coalesce(?, {_NOW}))",
                    (person["name"], person.get("created")),
                )
                for model, items in by_model.items():
                    vectors = _as_vectors([item["vector"] for item in items], f"{path}: {model}")
                    added += self._insert(
                        db,
                        person["name"],
                        model,
                        vectors,
                        [item.get("source") for item in items],
                        [item.get("created") for item in items],
                    )
        total = sum(len(person["embeddings"]) for person in people)
        return {"identities": len(people), "embeddings": added, "duplicates": total - added}


def _create_private_file(path: Path) -> None:
    """An empty file readable and writable by its owner only (biometric data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise DeepImageError(f"{path}: cannot create the face gallery ({error.strerror})") from None


def _as_vectors(vectors: Any, what: str) -> np.ndarray:
    """(N, D) finite float64 embeddings, N >= 1."""
    try:
        array = np.asarray(vectors, np.float64)
    except (TypeError, ValueError):
        raise DeepImageError(f"{what}: embeddings must be rows of numbers") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise DeepImageError(f"{what}: expected a non-empty (N, D) array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise DeepImageError(f"{what}: embeddings contain NaN or infinity")
    return array


def _read_export(path: Path) -> list[dict[str, Any]]:
    """The identities of an export file, checked field by field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeepImageError(f"{path}: cannot read the file ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DeepImageError(f"{path}: not a gallery export (not JSON: {error})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise DeepImageError(
            f'{path}: not a gallery export (no "format": "{EXPORT_FORMAT}"); '
            "make one with deepimage face export"
        )
    if not isinstance(data.get("version"), int) or data["version"] > SCHEMA_VERSION:
        raise DeepImageError(f"{path}: export version {data.get('version')!r} is not supported")
    people = data.get("identities")
    if not isinstance(people, list):
        raise DeepImageError(f'{path}: "identities" must be a list')
    for number, person in enumerate(people, 1):
        _check_person(path, number, person)
    return people


def _check_person(path: Path, number: int, person: Any) -> None:
    where = f"{path}: identity {number}"
    if not isinstance(person, dict) or not isinstance(person.get("embeddings"), list):
        raise DeepImageError(f'{where}: expected {{"name": ..., "embeddings": [...]}}')
    try:
        check_name(person.get("name"))
    except DeepImageError as error:
        raise DeepImageError(f"{where}: {error}") from None
    for item in person["embeddings"]:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("model"), str)
            and isinstance(item.get("vector"), list)
            and all(isinstance(item.get(key), (str, type(None))) for key in ("source", "created"))
        ):
            raise DeepImageError(
                f'{where} ({person["name"]!r}): every embedding needs a "model" text and a '
                '"vector" list ("source" and "created" are text or null)'
            )

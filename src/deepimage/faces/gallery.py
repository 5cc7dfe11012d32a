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
  an interrupted enrollment again, adds nothing twice);
- a damaged embedding (NaN, a blob of the wrong length) is left out of every search and
  export and listed in :attr:`Gallery.issues`, so export is always the way to a clean copy;
  import leaves out what it cannot use and lists it.

Large galleries are searched through faiss (:mod:`deepimage.faces.index`). The file layout
and the row checks are in :mod:`.gallery_format`, export files in :mod:`.gallery_export`.

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

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.gallery_export import export_target, import_plan, read_export, write_export
from deepimage.faces.gallery_format import (
    NOW,
    VECTOR_DTYPE,
    as_vectors,
    check_name,
    create_private_file,
    open_database,
    stored_damage,
)
from deepimage.faces.index import IndexKind, NeighbourIndex, build_index
from deepimage.faces.match import Match, Metric, resolve_threshold, vote
from deepimage.faces.models import EMBEDDING_MODEL
from deepimage.io.paths import shown_path


@dataclass(frozen=True)
class Identity:
    """One enrolled person: name, number of embeddings, the models that made them."""

    name: str
    embeddings: int
    models: tuple[str, ...]
    created: str


def default_gallery_path() -> Path:
    """``$DEEPIMAGE_GALLERY`` when set, else ``$XDG_DATA_HOME/deepimage/faces.db``, or
    ``~/.local/share/deepimage/faces.db``: the gallery of the command line and of
    ``FaceRecognizer()`` alike.

    Example:
        >>> default_gallery_path().name
        'faces.db'
    """
    if os.environ.get("DEEPIMAGE_GALLERY"):
        return Path(os.environ["DEEPIMAGE_GALLERY"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "deepimage" / "faces.db"


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
            create_private_file(self.path)
        self._indexes: dict[tuple[str, str, str], tuple[NeighbourIndex, list[str]]] = {}
        self._issues: dict[int, dict[str, str]] = {}  # damaged embeddings met, by row id
        with self._errors("open"):
            self._db = open_database(self.path)

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
            if action == "open" and "not a database" in str(error):
                raise DeepImageError(
                    f"{self.path}: not a face gallery (not an SQLite file); give another "
                    "--gallery file"
                ) from None
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
        vectors = as_vectors(vectors, f"embeddings of {name!r}")
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
            f"VALUES (?, ?, ?, ?, coalesce(?, {NOW}))",
            [
                (identity, model, vector.astype(VECTOR_DTYPE).tobytes(), source, when)
                for vector, source, when in zip(
                    vectors, sources, created or [None] * len(vectors), strict=True
                )
            ],
        )
        return db.total_changes - before

    def _check_size(self, db: sqlite3.Connection, model: str, size: int) -> None:
        stored = self._sizes().get(model)
        if stored is not None and stored != size * VECTOR_DTYPE.itemsize:
            raise DeepImageError(
                f"{self.path}: model {model!r} embeddings have {stored // VECTOR_DTYPE.itemsize} "
                f"values in this gallery, not {size}"
            )

    def _sizes(self) -> dict[str, int]:
        """The usual (most common) byte length of each model's stored vectors."""
        rows = self._query(
            "SELECT model, length(vector) FROM embeddings GROUP BY 1, 2 ORDER BY count(*)"
        )
        return dict(rows)  # the most common length comes last, so it is the one kept

    def _usable(self, row_id: int, name: str, model: str, blob: Any, sizes: dict[str, int]) -> bool:
        """Whether a stored vector can be used; a damaged one is noted in :attr:`issues`."""
        damage = stored_damage(blob, sizes.get(model))
        if damage is None:
            return True
        self._issues[row_id] = {
            "path": shown_path(self.path),
            "kind": "damaged-embedding",
            "detail": f"embedding {row_id} of {name!r} ({model}): {damage}; left out",
        }
        return False

    @property
    def issues(self) -> list[dict[str, str]]:
        """The damaged embeddings met so far (by :meth:`vectors`, :meth:`identify`,
        :meth:`export`), each ``{path, kind, detail}``: every result leaves them out. An
        export and an import into a new file give a gallery without them.

        Example:
            >>> import tempfile, pathlib, sqlite3
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "faces.db"
            >>> with Gallery(path) as gallery:
            ...     gallery.add("ann", np.zeros((2, 4)) + [[0], [1]], model="toy")
            2
            >>> with sqlite3.connect(path) as db:
            ...     _ = db.execute("UPDATE embeddings SET vector = x'00' WHERE id = 2")
            >>> with Gallery(path) as gallery:
            ...     gallery.vectors("toy")[0].tolist(), gallery.issues[0]["detail"]
            ([[0.0, 0.0, 0.0, 0.0]], "embedding 2 of 'ann' (toy): 1 bytes where ... 32; left out")
        """
        return list(self._issues.values())

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
        """(embeddings (N, D), their names) of every usable embedding made by ``model``
        (damaged ones are left out and listed in :attr:`issues`)."""
        rows = self._query(
            "SELECT e.id, i.name, e.vector FROM embeddings e "
            "JOIN identities i ON i.id = e.identity_id WHERE e.model = ? ORDER BY e.id",
            (model,),
        )
        sizes = self._sizes()
        usable = [(name, blob) for row_id, name, blob in rows
                  if self._usable(row_id, name, model, blob, sizes)]  # fmt: skip
        if not usable:
            return np.zeros((0, 0), np.float64), []
        vectors = np.stack([np.frombuffer(blob, VECTOR_DTYPE) for _, blob in usable])
        return vectors, [name for name, _ in usable]

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
                damaged = f" but {len(self._issues)} damaged ones" if self._issues else ""
                raise DeepImageError(
                    f"{self.path}: the gallery holds no {model} embeddings{damaged} (models in "
                    f"it: {others}); enroll people first (deepimage face enroll)"
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

    def export(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> dict[str, Any]:
        """Write every identity and usable embedding to a JSON file, atomically (a full
        disk leaves no file behind); returns ``{identities, embeddings, issues}``.

        The gallery's own files are refused, and so is an existing file unless
        ``overwrite``. Damaged embeddings are left out and listed under ``issues``
        (:attr:`issues`), so that an export always works.
        """
        target = export_target(Path(path), self.path, overwrite)
        rows = self._query(
            "SELECT i.name, i.created, e.id, e.model, e.vector, e.source, e.created "
            "FROM identities i LEFT JOIN embeddings e ON e.identity_id = i.id "
            "ORDER BY i.name, e.id"
        )
        usable = partial(self._usable, sizes=self._sizes())
        identities, embeddings = write_export(target, rows, usable)
        return {"identities": identities, "embeddings": embeddings, "issues": self.issues}

    def import_file(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Merge an export into this gallery in one transaction; returns ``{identities,
        embeddings, duplicates, skipped}``.

        People already enrolled keep their embeddings and gain the new ones; an embedding
        already stored is counted under ``duplicates``. A file that is not an export
        changes nothing; an identity or embedding in it that cannot be used (a blank
        name, NaN, a vector of another length than the model's) is left out and listed
        under ``skipped`` as ``{path, reason}``.
        """
        people, skipped = read_export(Path(path))
        plan = import_plan(people, self._sizes(), skipped, shown_path(path))
        added = total = 0
        with self._transaction("write to") as db:
            for name, created, models in plan:
                db.execute(
                    f"INSERT OR IGNORE INTO identities (name, created) VALUES (?, coalesce(?, {NOW}))",
                    (name, created),
                )
                for model, (vectors, sources, when) in models.items():
                    added += self._insert(db, name, model, vectors, sources, when)
                    total += len(vectors)
        return {
            "identities": len(people),
            "embeddings": added,
            "duplicates": total - added,
            "skipped": skipped,
        }

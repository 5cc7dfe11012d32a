"""Nearest-neighbour search over gallery embeddings: exact (NumPy) or approximate (faiss HNSW).

Both kinds answer ``search(queries, k) -> (distances, indices)``, nearest first, in the
metric's own distance (:func:`deepimage.faces.match.distance`). ``kind="auto"`` uses faiss
from :data:`FAISS_FROM` embeddings on when faiss is installed (``pip install
'deepimage[faces-large]'``), the exact search otherwise.

Example:
    >>> import numpy as np
    >>> index = build_index(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]]), "euclidean")
    >>> distances, indices = index.search(np.array([[0.9, 0.0]]), k=2)
    >>> type(index).__name__, indices.tolist(), distances.round(2).tolist()
    ('ExactIndex', [[1, 0]], [[0.1, 0.9]])
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.match import Metric, distance, resolve_threshold

IndexKind = Literal["auto", "exact", "faiss"]
INDEX_KINDS: tuple[IndexKind, ...] = ("auto", "exact", "faiss")
FAISS_FROM = 50_000
"""Gallery size (embeddings) from which ``kind="auto"`` switches to faiss."""
_QUERY_CHUNK = 64  # queries compared at once by the exact search (bounds its memory)


class NeighbourIndex(Protocol):
    """What the gallery needs from an index."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices), each (Q, min(k, size)), nearest first."""
        ...


class ExactIndex:
    """Brute-force search: every query against every embedding."""

    def __init__(self, vectors: np.ndarray, metric: Metric) -> None:
        self.vectors = np.asarray(vectors, np.float64)
        self.metric = metric

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices) of the ``k`` nearest embeddings of each query."""
        k = min(k, len(self.vectors))
        parts = [self._search(chunk, k) for chunk in _chunks(np.atleast_2d(queries))]
        return np.concatenate([d for d, _ in parts]), np.concatenate([i for _, i in parts])

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        table = distance(queries, self.vectors, self.metric)
        if k < table.shape[1]:
            nearest = np.argpartition(table, k - 1, axis=1)[:, :k]
        else:
            nearest = np.broadcast_to(np.arange(table.shape[1]), table.shape)
        near = np.take_along_axis(table, nearest, axis=1)
        order = np.argsort(near, axis=1, kind="stable")
        return np.take_along_axis(near, order, axis=1), np.take_along_axis(nearest, order, axis=1)


class FaissIndex:
    """Approximate search with faiss's HNSW graph (float32; cosine via inner products)."""

    def __init__(self, vectors: np.ndarray, metric: Metric, neighbours: int = 32) -> None:
        faiss = _faiss()
        self.metric = metric
        self._faiss = faiss
        data = self._prepare(vectors)
        kind = faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2
        self.index = faiss.IndexHNSWFlat(data.shape[1], neighbours, kind)
        self.index.add(data)

    def _prepare(self, vectors: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if self.metric == "cosine":
            self._faiss.normalize_L2(data)
        return data

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices) of (about) the ``k`` nearest embeddings of each query."""
        k = min(k, self.index.ntotal)
        self.index.hnsw.efSearch = max(64, 2 * k)
        scores, indices = self.index.search(self._prepare(queries), k)
        scores = scores.astype(np.float64)
        if self.metric == "cosine":
            return np.clip(1.0 - scores, 0.0, 2.0), indices.astype(np.int64)
        return np.sqrt(np.maximum(scores, 0.0)), indices.astype(np.int64)


def _chunks(queries: np.ndarray) -> list[np.ndarray]:
    return [queries[start : start + _QUERY_CHUNK] for start in range(0, len(queries), _QUERY_CHUNK)]


def _faiss() -> Any:
    try:
        import faiss
    except ImportError:
        raise DeepImageError(
            "the faiss index needs faiss: pip install 'deepimage[faces-large]' (faiss-cpu), "
            "or use the exact index (--index exact)"
        ) from None
    return faiss


def faiss_available() -> bool:
    """Whether faiss can be imported."""
    try:
        _faiss()
    except DeepImageError:
        return False
    return True


def build_index(vectors: np.ndarray, metric: Metric, kind: IndexKind = "auto") -> NeighbourIndex:
    """An index over ``vectors`` (N, D): ``exact``, ``faiss``, or ``auto`` (by size)."""
    resolve_threshold(metric, None)
    if kind not in INDEX_KINDS:
        raise DeepImageError(f"unknown index {kind!r}; use one of {', '.join(INDEX_KINDS)}")
    if kind == "faiss" or (kind == "auto" and len(vectors) >= FAISS_FROM and faiss_available()):
        return FaissIndex(vectors, metric)
    return ExactIndex(vectors, metric)

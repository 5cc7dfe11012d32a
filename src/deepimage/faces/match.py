"""Comparing face embeddings: distances, nearest-identity matching with a k-NN vote, 1:1 checks.

Two metrics, each with its own threshold (a distance at or under it means "same person"):
``euclidean`` (dlib's 0.6, set on LFW) and ``cosine`` (1 - cosine similarity; 0.09, what
``deepimage face calibrate`` picks on the labelled in-the-wild photos of faces-fr; see
``docs/faces.md``). ``calibrate`` finds the threshold for your own photos.

Example:
    >>> import numpy as np
    >>> known = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> match(np.array([[0.1, 0.0], [5.0, 5.0]]), known, ["ann", "bob", "cy"])
    [Match(name='ann', distance=0.1), Match(name='unknown', distance=6.40...)]
    >>> verify(known[0], np.array([0.3, 0.4]))
    Verification(same=True, distance=0.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from deepimage.errors import DeepImageError

Metric = Literal["euclidean", "cosine"]
METRICS: tuple[Metric, ...] = ("euclidean", "cosine")
THRESHOLDS: dict[str, float] = {"euclidean": 0.6, "cosine": 0.09}
"""Default "same person" thresholds of the dlib ResNet embeddings, per metric."""
UNKNOWN = "unknown"
"""The name given to a face that matches nobody; it cannot be enrolled."""


class Match(NamedTuple):
    """Who a face is (``"unknown"`` when nobody is close enough) and the distance to them."""

    name: str
    distance: float


class Verification(NamedTuple):
    """Whether two faces are the same person, and their distance."""

    same: bool
    distance: float


def resolve_threshold(metric: str, threshold: float | None) -> float:
    """``threshold``, or the default of ``metric`` when it is None."""
    if metric not in METRICS:
        raise DeepImageError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    return THRESHOLDS[metric] if threshold is None else float(threshold)


def distance(a: np.ndarray, b: np.ndarray, metric: Metric = "euclidean") -> np.ndarray:
    """Distances between embeddings ``a`` (..., D) and ``b`` (..., D).

    Shapes broadcast like a matrix product: (D,) and (D,) give a scalar array, (N, D)
    and (M, D) give (N, M). ``cosine`` is 1 - cosine similarity (0 = same direction).

    Example:
        >>> distance(np.array([3.0, 4.0]), np.array([[0.0, 0.0], [3.0, 4.0]])).tolist()
        [5.0, 0.0]
        >>> float(distance(np.array([1.0, 0.0]), np.array([0.0, 2.0]), "cosine"))
        1.0
    """
    resolve_threshold(metric, None)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape[-1] != b.shape[-1]:
        raise DeepImageError(f"embeddings of sizes {a.shape[-1]} and {b.shape[-1]} differ")
    shape = a.shape[:-1] + b.shape[:-1]
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    if metric == "cosine":
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.clip(1.0 - a @ b.T, 0.0, 2.0).reshape(shape)
    squared = np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1) - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(squared, 0.0)).reshape(shape)


def vote(
    names: Sequence[Sequence[str]], distances: np.ndarray, threshold: float, knn: int = 1
) -> list[Match]:
    """Decide each query from its nearest neighbours, nearest first.

    ``names[q]`` and ``distances[q]`` are the neighbours of query ``q``. Among the first
    ``knn`` of them that lie within ``threshold`` the most frequent name wins (a tie goes
    to the name with the nearer neighbour), reported with its nearest distance; with none
    within it the face is ``unknown`` at the distance of the nearest neighbour.

    Example:
        >>> vote([["a", "b", "b"]], np.array([[0.2, 0.3, 0.4]]), 0.6, knn=3)
        [Match(name='b', distance=0.3)]
    """
    if knn < 1:
        raise DeepImageError(f"knn must be 1 or more, not {knn}")
    matches = []
    for row_names, row in zip(names, np.asarray(distances, np.float64), strict=True):
        counts: dict[str, int] = {}
        first: dict[str, int] = {}  # name -> its nearest neighbour
        for index, (name, value) in enumerate(zip(row_names[:knn], row[:knn], strict=True)):
            if value <= threshold:
                counts[name] = counts.get(name, 0) + 1
                first.setdefault(name, index)
        if not counts:
            matches.append(Match(UNKNOWN, float(row[0]) if len(row) else float("inf")))
            continue
        best = max(counts, key=lambda name: (counts[name], -first[name]))
        matches.append(Match(best, float(row[first[best]])))
    return matches


def match(
    queries: np.ndarray,
    known: np.ndarray,
    names: Sequence[str],
    metric: Metric = "euclidean",
    threshold: float | None = None,
    knn: int = 1,
) -> list[Match]:
    """The identity of each query embedding among ``known`` embeddings labelled ``names``.

    The nearest known embedding names the face when it is within ``threshold`` (the
    metric's default when None); ``knn`` > 1 votes among the ``knn`` nearest (see
    :func:`vote`). Every query is ``unknown`` when nothing is known.
    """
    limit = resolve_threshold(metric, threshold)
    queries = np.atleast_2d(np.asarray(queries, np.float64))
    if len(names) != len(known):
        raise DeepImageError(f"{len(known)} known embeddings but {len(names)} names")
    if len(known) == 0:
        return [Match(UNKNOWN, float("inf")) for _ in queries]
    table = distance(queries, np.atleast_2d(known), metric)
    order = np.argsort(table, axis=1, kind="stable")[:, :knn]
    neighbours = [[names[i] for i in row] for row in order]
    return vote(neighbours, np.take_along_axis(table, order, axis=1), limit, knn)


def verify(
    a: np.ndarray, b: np.ndarray, metric: Metric = "euclidean", threshold: float | None = None
) -> Verification:
    """Whether embeddings ``a`` and ``b`` are the same person (distance within threshold)."""
    value = float(distance(a, b, metric))
    return Verification(value <= resolve_threshold(metric, threshold), value)

"""Choosing a "same person" threshold from labelled embeddings: every pair, every cut.

Every pair of embeddings is a verification trial (same label or not); the threshold is
the cut between two neighbouring pair distances that classifies the most pairs right.
The ROC curve and its area come from scikit-learn.

Example:
    >>> import numpy as np
    >>> vectors = np.array([[0.0], [0.1], [1.0], [1.2]])
    >>> result = calibrate(vectors, ["a", "a", "b", "b"])
    >>> result.threshold, result.accuracy, result.auc, result.pairs
    (0.55, 1.0, 1.0, 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.match import Metric, distance, resolve_threshold


@dataclass(frozen=True)
class Calibration:
    """The chosen threshold, its verification accuracy, and the ROC curve behind them.

    ``operating_point`` is (false accept rate, true accept rate) at the threshold.
    """

    metric: str
    threshold: float
    accuracy: float
    auc: float
    pairs: int
    same_pairs: int
    default_threshold: float
    accuracy_at_default: float
    operating_point: tuple[float, float]
    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray

    def summary(self) -> dict[str, Any]:
        """The figures as plain JSON data (without the curve)."""
        return {
            "metric": self.metric,
            "threshold": round(self.threshold, 6),
            "accuracy": round(self.accuracy, 6),
            "auc": round(self.auc, 6),
            "pairs": self.pairs,
            "same_pairs": self.same_pairs,
            "default_threshold": self.default_threshold,
            "accuracy_at_default": round(self.accuracy_at_default, 6),
            "false_accept_rate": round(self.operating_point[0], 6),
            "true_accept_rate": round(self.operating_point[1], 6),
        }


def pair_distances(
    vectors: np.ndarray, labels: Sequence[str], metric: Metric = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """(distance, same label?) of every unordered pair of embeddings."""
    vectors = np.asarray(vectors, np.float64)
    if len(vectors) != len(labels):
        raise DeepImageError(f"{len(vectors)} embeddings but {len(labels)} labels")
    first, second = np.triu_indices(len(vectors), k=1)
    names = np.asarray(labels, dtype=object)
    return distance(vectors, vectors, metric)[first, second], names[first] == names[second]


def best_threshold(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(threshold, accuracy): the cut maximising right answers of "same iff distance <= t".

    The threshold lies halfway between the two pair distances it separates; of equally
    good cuts the strictest (lowest) wins.

    Example:
        >>> best_threshold(np.array([0.2, 0.4, 0.5, 0.9]), np.array([True, True, False, False]))
        (0.45, 1.0)
    """
    order = np.argsort(distances, kind="stable")
    ranked, matches = np.asarray(distances, np.float64)[order], np.asarray(same, bool)[order]
    total, negatives = len(ranked), int((~matches).sum())
    accepted = np.arange(total + 1)  # cut after the first k pairs
    true_accepts = np.concatenate([[0], np.cumsum(matches)])
    correct = true_accepts + negatives - (accepted - true_accepts)
    valid = np.ones(total + 1, bool)
    valid[1:total] = ranked[1:] > ranked[:-1]  # never cut between equal distances
    best = int(np.argmax(np.where(valid, correct, -1)))
    if best == 0:
        threshold = ranked[0] / 2
    elif best == total:
        threshold = ranked[-1]
    else:
        threshold = (ranked[best - 1] + ranked[best]) / 2
    return float(threshold), float(correct[best] / total)


def calibrate(
    vectors: np.ndarray, labels: Sequence[str], metric: Metric = "euclidean"
) -> Calibration:
    """Calibrate a threshold on embeddings (N, D) labelled by person.

    Needs at least one person with two embeddings and two people.
    """
    from sklearn.metrics import auc, roc_curve  # a slow import, only when asked

    distances, same = pair_distances(vectors, labels, metric)
    if same.all() or not same.any():
        raise DeepImageError(
            "calibration needs pairs of the same person and of different people: give at "
            "least two people, one of them with two or more images"
        )
    threshold, accuracy = best_threshold(distances, same)
    default = resolve_threshold(metric, None)
    at_default = float(((distances <= default) == same).mean())
    accepted = distances <= threshold
    point = (float(accepted[~same].mean()), float(accepted[same].mean()))
    fpr, tpr, _ = roc_curve(same, -distances)
    return Calibration(
        metric=metric,
        threshold=threshold,
        accuracy=accuracy,
        auc=float(auc(fpr, tpr)),
        pairs=len(distances),
        same_pairs=int(same.sum()),
        default_threshold=default,
        accuracy_at_default=at_default,
        operating_point=point,
        false_positive_rate=fpr,
        true_positive_rate=tpr,
    )

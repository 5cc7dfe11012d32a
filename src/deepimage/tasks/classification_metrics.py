"""Evaluation figures of a classifier from its predicted probabilities (torchmetrics).

Example:
    >>> import torch
    >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> m = classification_metrics(probs, torch.tensor([0, 1, 1]), ["cat", "dog"])
    >>> round(m["top1"], 3), m["confusion_matrix"]
    (0.667, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_calibration_error,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)


def classification_metrics(
    probs: torch.Tensor, labels: torch.Tensor, classes: list[str]
) -> dict[str, Any]:
    """top-1, top-5, per-class precision/recall/F1, confusion matrix and calibration error."""
    n = len(classes)
    common = {"num_classes": n, "average": "none"}
    precision = multiclass_precision(probs, labels, **common)
    recall = multiclass_recall(probs, labels, **common)
    f1 = multiclass_f1_score(probs, labels, **common)
    support = torch.bincount(labels, minlength=n)
    return {
        "images": len(labels),
        "top1": multiclass_accuracy(probs, labels, n, average="micro").item(),
        "top5": multiclass_accuracy(probs, labels, n, average="micro", top_k=min(5, n)).item(),
        "ece": multiclass_calibration_error(probs, labels, n, n_bins=15).item(),
        "per_class": [
            {
                "class": name,
                "precision": precision[i].item(),
                "recall": recall[i].item(),
                "f1": f1[i].item(),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        ],
        "confusion_matrix": multiclass_confusion_matrix(probs, labels, n).tolist(),
    }

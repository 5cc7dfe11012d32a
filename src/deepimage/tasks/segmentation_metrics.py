"""Segmentation figures from a pixel confusion matrix (truth down, prediction across),
accumulated by torchmetrics' ``MulticlassConfusionMatrix`` over a whole split (ignored
pixels left out): per class IoU = TP / (TP + FP + FN) and Dice = 2 TP / (2 TP + FP + FN)
(torchmetrics' ``MulticlassJaccardIndex`` and ``MulticlassF1Score`` with ``average=None``),
pixel accuracy = trace / total (``MulticlassAccuracy(average="micro")``). mIoU and mean
Dice average the classes that occur in the truth or the predictions, as torchmetrics'
``average="macro"`` does; a class in neither has no IoU (``None``).

Example:
    >>> import torch
    >>> metrics, per_class = segmentation_metrics(torch.tensor([[3, 1], [1, 5]]), ["a", "b"])
    >>> metrics["miou"], per_class[0]
    (0.657143, {'class': 'a', 'iou': 0.6, 'dice': 0.75, 'pixels': 4, 'predicted': 4})
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from deepimage.data.segmentation import IGNORED


def confusion_metric(classes: int) -> MulticlassConfusionMatrix:
    """The accumulator of a split's pixel confusion matrix (ignored pixels left out)."""
    return MulticlassConfusionMatrix(classes, ignore_index=IGNORED, validate_args=False)


def segmentation_metrics(
    matrix: torch.Tensor, classes: list[str]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """``({miou, mean_dice, pixel_accuracy, pixels}, [{class, iou, dice, pixels, predicted}])``."""
    cm = matrix.double().cpu()
    true_positive = cm.diagonal()
    truth, predicted = cm.sum(1), cm.sum(0)
    union = truth + predicted - true_positive
    present = union > 0
    iou = torch.where(present, true_positive / union.clamp(min=1), torch.nan)
    dice = torch.where(present, 2 * true_positive / (truth + predicted).clamp(min=1), torch.nan)
    total = float(cm.sum())
    metrics = {
        "miou": _rounded(iou[present].mean()) if present.any() else 0.0,
        "mean_dice": _rounded(dice[present].mean()) if present.any() else 0.0,
        "pixel_accuracy": _rounded(true_positive.sum() / total) if total else 0.0,
        "pixels": int(total),
    }
    per_class = [
        {
            "class": name,
            "iou": _rounded(iou[index]) if present[index] else None,
            "dice": _rounded(dice[index]) if present[index] else None,
            "pixels": int(truth[index]),
            "predicted": int(predicted[index]),
        }
        for index, name in enumerate(classes)
    ]
    return metrics, per_class


def _rounded(value: torch.Tensor) -> float:
    return round(float(value), 6)

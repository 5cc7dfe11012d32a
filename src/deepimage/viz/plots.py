"""Plots written as PNG files (matplotlib's Agg backend; no display needed).

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cm.png"
    >>> plot_confusion_matrix([[5, 1], [0, 4]], ["a", "b"], out)
    >>> out.stat().st_size > 0
    True
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from deepimage.io.files import atomic_write, write_text


def _save(fig: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def plot_training_curves(metrics_csv: Path, out: Path) -> None:
    """Losses, and the scores (accuracy, mAP, mIoU, ...), per epoch from ``metrics.csv``."""
    with open(metrics_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    series: dict[str, dict[int, float]] = {}
    for row in rows:
        for key, value in row.items():
            if value and key not in ("epoch", "step") and not key.endswith("_step"):
                series.setdefault(key.removesuffix("_epoch"), {})[int(row["epoch"])] = float(value)
    others = ("loss", "img/s", "skipped", "lr", "seconds")
    panels = [
        ("loss", [k for k in series if "loss" in k]),
        ("scores", [k for k in series if not any(word in k for word in others)]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for key in keys:
            epochs = sorted(series[key])
            ax.plot(
                [e + 1 for e in epochs], [series[key][e] for e in epochs], marker="o", label=key
            )
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
        if keys:
            ax.legend()
    _save(fig, out)


def plot_precision_recall(curves: dict[str, Sequence[float]], out: Path) -> None:
    """Precision against recall per class, from COCO's 101 recall points (IoU 0.5)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    recall = np.linspace(0, 1, 101)
    for name, precision in curves.items():
        ax.plot(recall, precision, label=f"{name} (AP50 {np.mean(precision):.3f})")
    ax.set(title="precision-recall, IoU 0.5", xlabel="recall", ylabel="precision")
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(loc="lower left")
    _save(fig, out)


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]],
    classes: list[str],
    out: Path,
    normalise: bool = False,
    title: str | None = None,
) -> None:
    """A confusion matrix heat map, true classes down, predictions across, counts printed
    (with ``normalise``, each row as percentages of its true class: pixel counts are too
    large to read), under ``title`` when given."""
    cm = np.asarray(matrix)
    if normalise:
        cm = (100 * cm / np.maximum(cm.sum(1, keepdims=True), 1)).round(1)
    side = max(4.0, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    ax.imshow(cm, cmap="Blues")
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    title = title or (
        "confusion matrix (% of each true class)" if normalise else "confusion matrix"
    )
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i, j in np.ndindex(cm.shape):
        colour = "white" if cm[i, j] > cm.max() / 2 else "black"
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=colour, fontsize=8)
    _save(fig, out)


def plot_confidence_curve(
    confidence: Sequence[float],
    per_class: dict[str, Sequence[float]],
    overall: Sequence[float],
    name: str,
    out: Path,
    marked: float | None = None,
) -> None:
    """A figure (precision, recall, F1: ``name``) against the confidence threshold: one thin
    line per class (named in the legend up to 10 classes), ``overall`` thick, with its value
    at confidence ``marked`` (the best F1's, say) in the legend and a dashed line there.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "f1.png"
        >>> f1 = [0.2, 0.6, 0.0]
        >>> plot_confidence_curve([0, 0.5, 1], {"cat": f1}, f1, "F1", out, marked=0.5)
        >>> out.stat().st_size > 0
        True
    """
    x = np.asarray(confidence)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, values in per_class.items():
        shown = label if len(per_class) <= 10 else None
        ax.plot(x, values, linewidth=1, alpha=0.6, label=shown)
    summary = "all classes"
    if marked is not None:
        at = int(np.argmin(np.abs(x - marked)))
        summary += f" {name} {overall[at]:.3f} at {marked:.3f}"
        ax.axvline(marked, color="grey", linestyle="--", linewidth=1)
    ax.plot(x, overall, linewidth=3, color="tab:blue", label=summary)
    ax.set(title=f"{name} against confidence", xlabel="confidence", ylabel=name)
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left" if name != "recall" else "upper right", fontsize=8)
    _save(fig, out)


def plot_box_labels(
    classes: list[str], labels: np.ndarray, boxes: np.ndarray, sizes: np.ndarray, out: Path
) -> None:
    """What the true boxes are: boxes per class, their centres and their width and height
    (as fractions of the image), and the histogram of their side (the square root of the
    area, in pixels) with COCO's small / medium / large limits (32 and 96).

    ``labels`` are 0-based class indices, ``boxes`` N x 4 pixel xyxy, ``sizes`` N x 2 the
    (width, height) of each box's image.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "labels.png"
        >>> boxes = np.array([[0, 0, 50, 40], [10, 10, 20, 20]])
        >>> plot_box_labels(["cat"], np.array([0, 0]), boxes, np.array([[100, 80]] * 2), out)
        >>> out.stat().st_size > 0
        True
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scale = np.tile(np.asarray(sizes, np.float64).reshape(-1, 2), 2)
    relative = boxes / np.maximum(scale, 1)
    centres, extents = (relative[:, :2] + relative[:, 2:]) / 2, relative[:, 2:] - relative[:, :2]
    counts = np.bincount(np.asarray(labels, np.int64), minlength=len(classes))
    fig, axes = plt.subplots(2, 2, figsize=(9, 8))
    bars, places, shapes, sides = axes.flat
    bars.bar(range(len(classes)), counts, color="tab:blue")
    bars.set_xticks(range(len(classes)), classes, rotation=45 if len(classes) > 5 else 0)
    bars.set(title=f"boxes per class ({len(boxes)} in all)", ylabel="boxes")
    places.scatter(*centres.T, s=4, alpha=0.4, rasterized=True)
    places.set(title="box centres", xlabel="x / width", ylabel="y / height")
    places.set(xlim=(0, 1), ylim=(1, 0))  # as in the image: y down
    shapes.scatter(*extents.T, s=4, alpha=0.4, rasterized=True)
    shapes.set(title="box sizes", xlabel="width / image width", ylabel="height / image height")
    shapes.set(xlim=(0, 1), ylim=(0, 1))
    side = np.sqrt(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1).clip(0))
    sides.hist(side, bins=30, color="tab:blue")
    for limit in (32, 96):
        sides.axvline(limit, color="grey", linestyle="--", linewidth=1)
    small, large = int((side < 32).sum()), int((side > 96).sum())
    sides.set(
        title=f"box side: {small} small, {len(side) - small - large} medium, {large} large",
        xlabel="sqrt(area) in pixels (COCO limits 32, 96)",
        ylabel="boxes",
    )
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, out)


def write_confusion_csv(matrix: Sequence[Sequence[int]], classes: list[str], out: Path) -> None:
    """The confusion matrix as CSV: a header of predicted classes, one row per true class."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["true\\predicted", *classes])
    for name, row in zip(classes, matrix, strict=True):
        writer.writerow([name, *row])
    write_text(out, buffer.getvalue())


def plot_image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    out: Path,
    columns: int = 8,
    cell_inches: float = 1.6,
) -> None:
    """HxW or HxWxC uint8 images in a grid with a title above each."""
    rows = max(1, math.ceil(len(images) / columns))
    size = (cell_inches * columns, (cell_inches + 0.3) * rows)
    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 or image.shape[-1] == 1 else None)
        ax.set_title(title, fontsize=7)
    _save(fig, out)


def plot_roc(
    false_positive_rate: Sequence[float],
    true_positive_rate: Sequence[float],
    out: Path,
    title: str,
    point: tuple[float, float] | None = None,
) -> None:
    """A ROC curve (true against false positive rate) with its area, and a chosen point."""
    fpr, tpr = np.asarray(false_positive_rate), np.asarray(true_positive_rate)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"AUC {np.trapezoid(tpr, fpr):.4f}")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    if point is not None:
        ax.plot(*point, marker="o", color="red", label="chosen threshold")
    ax.set(title=title, xlabel="false positive rate", ylabel="true positive rate")
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, out)

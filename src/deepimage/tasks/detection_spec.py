"""The detection task's light half: its settings per verb and its registry entry.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> make_settings(DetectTrain, {"data": "raccoon"}).ema_decay
    0.995
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepimage.engine.settings import setting
from deepimage.errors import DeepImageError
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import (
    MAX_IMG_SIZE,
    EvaluateSettings,
    PredictSettings,
    TrainSettings,
    augmentation_choices,
)

DEFAULT_CONF = 0.05
"""Score threshold of ``predict`` and ``evaluate`` alike (torchvision's own default), so
that predict's output reproduces evaluate's numbers."""
CONF_HELP = (
    "Score threshold. 0.05 (torchvision's default) in predict and evaluate alike, so "
    "predict's JSON reproduces evaluate's numbers."
)
DATA_HELP = "COCO, VOC or YOLO folder, COCO JSON file, or data set name."
DRAW_CONF = 0.25
"""Least score drawn (predict's copies, evaluate's examples) and counted in evaluate's
confusion matrix (Ultralytics' 0.25)."""


@dataclass
class DetectTrain(TrainSettings):
    """Everything a detection run is made from; saved as the run's ``config.yaml``."""

    data: str = setting("", DATA_HELP, short="-d")
    model: str = setting(
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "torchvision builder name (see `deepimage detect models`).",
        short="-m",
    )
    epochs: int = setting(300, "Most epochs to train.", low=1, short="-e")
    batch_size: int = setting(
        8, "Images per batch (2 or more: BatchNorm needs them).", low=2, short="-b"
    )
    img_size: int = setting(
        320, "Side of the square the images are letterboxed into.", low=32, high=MAX_IMG_SIZE
    )
    lr: float = setting(2e-3, "Peak AdamW learning rate.", low=0.0)
    weight_decay: float = setting(0.05, "Weight decay (not on norms and biases).", low=0.0)
    warmup_steps: int = setting(100, "Steps of linear learning-rate warm-up.", low=0)
    ema_decay: float = setting(
        0.995,
        "Decay of the weight average that validation, best.ckpt and inference use (0: off).",
        low=0.0,
        high=0.99999,
    )
    gradient_clip: float | None = setting(10.0, "Clip the gradients' total norm to this.", low=0.0)
    augment: str = setting(
        "detect",
        "Augmentation preset for training: detect or none (see `deepimage augment list`).",
        choices=augmentation_choices("detect"),
    )
    val_fraction: float | None = setting(
        0.2, "Share held out as 'val' when the data has no split.", low=0.0, high=0.9
    )
    classes: list[str] | None = setting(
        None,
        "The class names, in order (repeat the option); boxes of other classes are errors. "
        "Default: the data's own list (COCO categories, YOLO/VOC classes.txt) or the names found.",
    )


@dataclass
class DetectEvaluate(EvaluateSettings):
    """``detect evaluate`` options."""

    data: str = setting("", DATA_HELP, short="-d")
    split: str = setting("val", "The split to score: train, val, test or all.")
    batch_size: int = setting(8, "Images per batch.", low=1, short="-b")
    conf: float = setting(DEFAULT_CONF, CONF_HELP, low=0.0, high=1.0)
    iou: float = setting(0.5, "IoU of non-maximum suppression.", low=0.0, high=1.0)
    draw_conf: float = setting(
        DRAW_CONF,
        "Least score drawn in the examples plot and counted in the confusion matrix; the "
        "metrics and the P, R and F1 curves keep every detection above --conf.",
        low=0.0,
        high=1.0,
    )


@dataclass
class DetectPredict(PredictSettings):
    """``detect predict`` options."""

    batch_size: int = setting(8, "Images per batch.", low=1, short="-b")
    conf: float = setting(DEFAULT_CONF, CONF_HELP, low=0.0, high=1.0)
    iou: float = setting(0.5, "IoU of non-maximum suppression.", low=0.0, high=1.0)
    classes: list[str] | None = setting(None, "Keep only these class names (repeat the option).")
    out: str | None = setting(
        None,
        "Write annotated copies (boxes, labels, scores) into this folder, and the "
        "--save-txt and --save-crops files.",
        short="-o",
    )
    overwrite: bool = setting(
        False, "Replace files already in the -o folder (without it they are refused)."
    )
    draw_conf: float = setting(
        0.25,
        "Least score drawn on the -o copies, so they stay legible; the JSON keeps every "
        "detection above --conf.",
        low=0.0,
        high=1.0,
    )
    save_txt: bool = setting(
        False,
        "Also write YOLO label files, -o/labels/<image stem>.txt: a line 'class cx cy w h "
        "score' per detection above --conf, the box normalised to the image's size, the "
        "class its line in -o/labels/classes.txt (from 0); the last column is the score "
        "(Ultralytics' save_conf format). Needs -o.",
    )
    save_crops: bool = setting(
        False,
        "Also write each detection scoring at least --draw-conf, cropped from the original "
        "image, as -o/crops/<class>/<image stem>_<n>.jpg (n: its place in the JSON's "
        "detections, from 0). Needs -o.",
    )

    def __post_init__(self) -> None:
        """Refuse --save-txt or --save-crops without a folder to write into."""
        flags = {"--save-txt": self.save_txt, "--save-crops": self.save_crops}
        wanted = [flag for flag, on in flags.items() if on]
        if wanted and not self.out:
            raise DeepImageError(
                f"{' and '.join(wanted)} need{'s' if len(wanted) == 1 else ''} -o/--out: "
                "pass -o FOLDER to write the files into"
            )


def _row_summary(row: dict[str, Any]) -> dict[str, str]:
    found = row["detections"]
    best = max(found, key=lambda d: d["score"], default=None)
    return {
        "objects": str(len(found)),
        "best": f"{best['label']} {best['score']:.2f}" if best else "-",
    }


SPEC = register_task(
    TaskSpec(
        name="detect",
        noun="detector",
        help="Object detection: two-stage (Faster R-CNN) and one-stage (RetinaNet, FCOS, SSD) "
        "detectors on COCO, Pascal VOC or YOLO data.",
        train=DetectTrain,
        evaluate=DetectEvaluate,
        predict=DetectPredict,
        hooks_module="deepimage.tasks.detection_hooks",
        monitor="val/map50",
        headline=("map", "map50"),
        row_summary=_row_summary,
        models_example={"num_classes": 20},
    )
)

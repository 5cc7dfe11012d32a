"""The segmentation task's light half: its settings per verb and its registry entry.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> run = make_settings(SegmentTrain, {"data": "membrane"})
    >>> run.model, run.crop, run.loss
    ('small-unet', 256, 'ce-dice')
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

LOSSES = ("ce", "dice", "focal", "ce-dice")
DATA_HELP = (
    "Images with masks: images/ + masks/, train/image + train/label, SegNet's "
    "train/ + trainannot/, Pascal VOC, a COCO JSON, or a data set name."
)
IGNORE_HELP = (
    "A mask value that is not a class (void): not trained on, not scored. 255 is always "
    "ignored in class-index masks."
)
TILE_HELP = (
    "Images larger than this (after --img-size) are predicted in overlapping tiles of this "
    "side, in bounded memory."
)
TTA_HELP = "Average the predictions of the image and its left-right mirror."


@dataclass
class SegmentTrain(TrainSettings):
    """Everything a segmentation run is made from; saved as the run's ``config.yaml``."""

    data: str = setting("", DATA_HELP, short="-d")
    model: str = setting("small-unet", "Model name (see `deepimage segment models`).", short="-m")
    epochs: int = setting(100, "Most epochs to train.", low=1, short="-e")
    batch_size: int = setting(
        8, "Crops per batch (2 or more: batch norm needs them).", low=2, short="-b"
    )
    lr: float = setting(2e-3, "Peak AdamW learning rate.", low=0.0)
    weight_decay: float = setting(1e-4, "Weight decay (not on norms and biases).", low=0.0)
    warmup_steps: int = setting(50, "Steps of linear learning-rate warm-up.", low=0)
    crop: int = setting(
        256,
        "Side of the random square crops training sees (smaller images are padded with "
        "ignored pixels).",
        low=32,
        high=MAX_IMG_SIZE,
    )
    img_size: int | None = setting(
        None,
        "Resize every image so its longer side is this many pixels, in training and "
        "inference (masks come back at the original size). Default: the data's own size.",
        low=32,
        high=MAX_IMG_SIZE,
    )
    loss: str = setting(
        "ce-dice",
        "Training loss: ce (cross-entropy), dice, focal, or ce-dice (their sum).",
        choices=LOSSES,
    )
    class_weights: str = setting(
        "none",
        "Cross-entropy and focal class weights: none, balanced (median frequency "
        "balancing over the training masks) or one number per class ('1,2.5,1').",
    )
    ignore_index: int | None = setting(None, IGNORE_HELP, low=0, high=65535)
    classes: list[str] | None = setting(
        None,
        "The class names, in mask-value order (repeat the option). Default: classes.txt, "
        "the data set's own list, or the values found.",
    )
    augment: str = setting(
        "segment",
        "Augmentation preset for training: segment (scenes), segment-any-angle (microscopy, "
        "aerial) or none (see `deepimage augment list`).",
        choices=augmentation_choices("segment"),
    )
    val_fraction: float | None = setting(
        0.2, "Share held out as 'val' when the data has no split.", low=0.0, high=0.9
    )
    tile: int = setting(512, TILE_HELP, low=32, high=MAX_IMG_SIZE)


@dataclass
class SegmentEvaluate(EvaluateSettings):
    """``segment evaluate`` options."""

    data: str = setting("", DATA_HELP, short="-d")
    split: str = setting("val", "The split to score: train, val, test or all.")
    batch_size: int = setting(
        4,
        "Tiles per batch (4 tiles of 512 px through small-unet: about 0.5 GB).",
        low=1,
        short="-b",
    )
    ignore_index: int | None = setting(None, IGNORE_HELP + " Default: the run's.", low=0)
    tile: int | None = setting(None, TILE_HELP + " Default: the run's.", low=32, high=MAX_IMG_SIZE)
    tta: bool = setting(False, TTA_HELP)


@dataclass
class SegmentPredict(PredictSettings):
    """``segment predict`` options."""

    batch_size: int = setting(
        4,
        "Tiles per batch (4 tiles of 512 px through small-unet: about 0.5 GB).",
        low=1,
        short="-b",
    )
    tile: int | None = setting(None, TILE_HELP + " Default: the run's.", low=32, high=MAX_IMG_SIZE)
    tta: bool = setting(False, TTA_HELP)
    out: str | None = setting(
        None,
        "Write each image's mask (a PNG of class indices with a palette) and a colour "
        "overlay (in overlays/) into this folder.",
        short="-o",
    )
    overwrite: bool = setting(
        False, "Replace files already in the -o folder (without it they are refused)."
    )
    alpha: float = setting(0.5, "Opacity of the class colours on the overlays.", low=0.0, high=1.0)


def _row_summary(row: dict[str, Any]) -> dict[str, str]:
    areas = sorted(row["areas"], key=lambda area: -area["fraction"])
    return {
        "size": f"{row['width']}x{row['height']}",
        "classes": ", ".join(f"{a['class']} {100 * a['fraction']:.1f}%" for a in areas[:3]),
    }


SPEC = register_task(
    TaskSpec(
        name="segment",
        noun="segmenter",
        help="Semantic segmentation: a class for every pixel (U-Net, FCN, DeepLabV3, LR-ASPP) "
        "on images with masks.",
        train=SegmentTrain,
        evaluate=SegmentEvaluate,
        predict=SegmentPredict,
        hooks_module="deepimage.tasks.segmentation_hooks",
        monitor="val/miou",
        headline=("miou", "pixel_accuracy"),
        row_summary=_row_summary,
        models_example={"num_classes": 2},
    )
)

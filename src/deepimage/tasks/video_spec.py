"""The clip classification task's light half (gestures, actions, short videos): its
settings per verb and its registry entry. No torch here.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> run = make_settings(VideoTrain, {"data": "clips"})
    >>> run.model, run.frames, run.stride, run.augment
    ('cnn-gru', 16, 1, 'video')
"""

from __future__ import annotations

from dataclasses import dataclass

from deepimage.engine.settings import setting
from deepimage.tasks.classification_spec import LabelPredict, label_summary
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import (
    MAX_IMG_SIZE,
    EvaluateSettings,
    TrainSettings,
    augmentation_choices,
)

MAX_FRAMES = 512
DATA_HELP = (
    "Folder of clips: root/train/<class>/<clip> (val/ and test/ optional) or "
    "root/<class>/<clip>; a clip is a video file (.avi .mp4 .mov .mkv .webm) or a folder "
    "of frame images."
)


@dataclass
class VideoTrain(TrainSettings):
    """Everything a clip classification run is made from; saved as its ``config.yaml``."""

    data: str = setting("", DATA_HELP, short="-d")
    model: str = setting("cnn-gru", "Model name (see `deepimage video models`).", short="-m")
    epochs: int = setting(
        30,
        "Most epochs to train (--time, when it comes first, ends the run sooner).",
        low=1,
        short="-e",
    )
    batch_size: int = setting(32, "Clips per training batch.", low=1, short="-b")
    lr: float = setting(3e-3, "Peak learning rate.", low=0.0)
    frames: int = setting(
        16,
        "Frames of a clip the model sees (a shorter clip repeats its last frame).",
        low=1,
        high=MAX_FRAMES,
    )
    stride: int = setting(1, "Frames between two frames the model sees.", low=1, high=64)
    img_size: int | None = setting(
        None,
        "Frame side in pixels (default: the clips' own when they all share one, else 112).",
        low=16,
        high=MAX_IMG_SIZE,
    )
    augment: str = setting(
        "video",
        "none, video (one shift, zoom and brightness for all a clip's frames; no flips, "
        "which reverse motions) or video-flip (and left-right flips).",
        choices=augmentation_choices("video"),
    )
    label_smoothing: float = setting(0.0, "Label smoothing of the loss.", low=0.0, high=0.5)
    val_fraction: float | None = setting(
        None,
        "Share held out for validation when the data has no val split (and as much for test "
        "when it has no test split). Default: 0.1.",
        low=0.0,
        high=0.5,
    )
    pretrained: bool = setting(
        False, "Start r3d-18, mc3-18 or r2plus1d-18 from torchvision's Kinetics-400 weights."
    )


@dataclass
class VideoEvaluate(EvaluateSettings):
    """``video evaluate`` options."""

    data: str = setting("", DATA_HELP, short="-d")
    batch_size: int = setting(32, "Clips per batch.", low=1, short="-b")


@dataclass
class VideoPredict(LabelPredict):
    """``video predict`` options."""

    batch_size: int = setting(16, "Clips per batch.", low=1, short="-b")
    skip_bad: bool = setting(False, "Leave out unreadable clips (listed as skipped).")


SPEC = register_task(
    TaskSpec(
        name="video",
        noun="clip classifier",
        help="Train, evaluate and run clip classifiers (gestures, actions, short videos).",
        train=VideoTrain,
        evaluate=VideoEvaluate,
        predict=VideoPredict,
        hooks_module="deepimage.tasks.video_hooks",
        monitor="val/top1",
        headline=("top1",),
        row_summary=label_summary,
        models_example={"num_classes": 10, "in_channels": 3, "img_size": 112},
        predict_help="Run a trained clip classifier on clips: video files, frame folders, "
        "folders of clips or glob patterns; --json prints {{task, model, results, skipped, "
        "out_dir}}.\n\nExample: deepimage video predict --model runs/video/NAME clips/ --json",
    )
)

"""The clip classification LightningModule: N x C x T x H x W uint8 clips in, normalised
per channel and augmented on the device (one transform for all the frames of a clip),
cross-entropy, top-1 accuracy per epoch (``train/top1``, ``val/top1``, the monitored
figure); optimizer, schedule, EMA and the non-finite-loss guard come from
:class:`~deepimage.engine.module.TaskModule`, the rest from
:class:`~deepimage.tasks.classification.LabelTask`.

Example:
    >>> import torch
    >>> task = VideoTask(model="cnn-gru", classes=list("ab"), in_channels=1, img_size=32,
    ...                  frames=8, stride=1, mean=[0.5], std=[0.25])
    >>> task(torch.zeros(2, 1, 8, 32, 32, dtype=torch.uint8)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from typing import Any

from deepimage.models import create_model
from deepimage.tasks.classification import LabelTask
from deepimage.tasks.video_spec import VideoTrain


class VideoTask(LabelTask):
    """Trains and runs a registered clip classifier (``deepimage video models``)."""

    task_name = "video"
    settings_classes = (VideoTrain,)
    accuracy_name = "top1"

    def __init__(
        self,
        model: str,
        classes: list[str],
        in_channels: int,
        img_size: int,
        frames: int,
        stride: int,
        mean: list[float],
        std: list[float],
        lr: float = 3e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.0,
        augment: str = "video",
        seed: int = 0,
        pretrained: bool = False,
        warmup_steps: int = 0,
        ema_decay: float = 0.0,
        time_budget_s: float | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "video",
            model,
            num_classes=len(classes),
            in_channels=in_channels,
            img_size=img_size,
            pretrained=pretrained,
        )
        self.init_labels(classes, mean, std, input_dims=5)

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "classes": list(hp.classes),
            "input": {
                "size": hp.img_size,
                "channels": hp.in_channels,
                "frames": hp.frames,
                "stride": hp.stride,
                "layout": "N x C x T x H x W",
            },
            "normalise": {"mean": list(hp.mean), "std": list(hp.std)},
        }

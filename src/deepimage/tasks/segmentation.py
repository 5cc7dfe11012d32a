"""The segmentation LightningModule: uint8 crops in, normalised on the device, a loss of
:mod:`~deepimage.tasks.segmentation_losses`; validation segments every val image whole
(or tiled) at its original size exactly as ``evaluate`` and ``predict`` do, so the mIoU
that picks ``best.ckpt`` is the one they reproduce. Optimizer, schedule, EMA and the
non-finite-loss guard come from :class:`~deepimage.engine.module.TaskModule`.

Example:
    >>> import numpy as np
    >>> task = SegmentationTask("small-unet", ["background", "cell"], in_channels=1,
    ...                         mean=[0.5], std=[0.25])
    >>> task.segment(np.zeros((40, 60), np.uint8)).shape
    torch.Size([40, 60])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepimage.data.segmentation_batches import resized_pair
from deepimage.engine.module import TaskModule, check_normalisation
from deepimage.models import create_model, model_info
from deepimage.tasks.segmentation_inference import class_mask
from deepimage.tasks.segmentation_losses import segmentation_loss
from deepimage.tasks.segmentation_metrics import confusion_metric, segmentation_metrics
from deepimage.tasks.segmentation_spec import SegmentPredict, SegmentTrain

Batch = tuple[torch.Tensor, torch.Tensor]


class SegmentationTask(TaskModule):
    """Trains and runs a registry segmenter; ``classes`` are the mask values 0..K-1."""

    task_name = "segment"
    settings_classes = (SegmentTrain, SegmentPredict)
    decay_norms_and_biases = False

    def __init__(
        self,
        model: str,
        classes: list[str],
        in_channels: int,
        mean: list[float],
        std: list[float],
        img_size: int | None = None,
        tile: int = 512,
        loss: str = "ce-dice",
        class_weights: list[float] | None = None,
        colours: list[list[int]] | None = None,
        ignore_index: int | None = None,
        lr: float = 2e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 1e-4,
        warmup_steps: int = 50,
        ema_decay: float = 0.0,
        time_budget_s: float | None = None,
        pretrained: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "segment",
            model,
            num_classes=len(classes),
            in_channels=in_channels,
            pretrained=pretrained,
        ).to(memory_format=torch.channels_last)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        weights = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.register_buffer("class_weight", weights, persistent=False)
        self.val_confusion = confusion_metric(len(classes))
        self.init_engine()

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """The engine's checks, and: a registered model, 1 to 4 channels with one mean and
        positive std each, one positive weight and one RGB colour per class if any.

        Example:
            >>> SegmentationTask.check_hyperparameters(dict(model="small-unet",
            ...     classes=["a", "b"], in_channels=1, mean=[0.5], std=[0.2],
            ...     class_weights=[1.0]))
            Traceback (most recent call last):
            ...
            ValueError: 'class_weights' has 1 number(s) for 2 classes
        """
        super().check_hyperparameters(hparams)
        model_info("segment", hparams["model"])
        count = len(hparams["classes"])
        check_normalisation(hparams)
        if count > 255:
            raise ValueError(f"{count} classes; at most 255 (255 marks ignored pixels)")
        weights = hparams.get("class_weights")
        if weights is not None and (len(weights) != count or min(weights) < 0):
            raise ValueError(f"'class_weights' has {len(weights)} number(s) for {count} classes")
        colours = hparams.get("colours")
        if colours is not None and (
            len(colours) != count
            or any(len(c) != 3 or not all(0 <= v <= 255 for v in c) for c in colours)
        ):
            raise ValueError(f"'colours' must be one RGB triple (0-255) per class ({count})")

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "classes": list(hp.classes),
            "input": {"size": hp.img_size, "channels": hp.in_channels, "tile": hp.tile},
            "normalise": {"mean": list(hp.mean), "std": list(hp.std)},
        }

    # ---------------------------------------------------------------- inference
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the weights inference runs, for a normalised float batch."""
        return self.inference_net(x.contiguous(memory_format=torch.channels_last))

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """N x C x H x W uint8 -> the float batch the network takes."""
        return (images.float().div_(255) - self.mean) / self.std

    @torch.no_grad()
    def segment(
        self,
        image: np.ndarray,
        tile: int | None = None,
        tta: bool = False,
        batch_size: int = 4,
    ) -> torch.Tensor:
        """The H x W uint8 class mask of one uint8 image (HxW grey or HxWx3 RGB, as the
        model's channels), at the image's own size whatever the training size."""
        resized, _ = resized_pair(image, None, self.hparams.img_size)
        pixels = torch.from_numpy(np.ascontiguousarray(resized)).to(self.device)
        pixels = pixels.reshape(*resized.shape[:2], -1).permute(2, 0, 1)
        return class_mask(
            lambda windows: self(self.normalise(windows)),  # uint8 kept whole, floats per window
            pixels,
            len(self.hparams.classes),
            tile or self.hparams.tile,
            size=image.shape[:2],
            batch_size=batch_size,
            tta=tta,
        )

    # ----------------------------------------------------------------- training
    def compute_loss(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        images, masks = batch
        logits = self.net(self.normalise(images).contiguous(memory_format=torch.channels_last))
        return segmentation_loss(self.hparams.loss, logits, masks.long(), self.class_weight)

    def on_train_epoch_start(self) -> None:
        # dropout (in some encoders) draws from the global generator: seeded per epoch
        torch.manual_seed(hash((self.hparams.seed, self.current_epoch, self.global_rank)) % 2**63)

    # --------------------------------------------------------------- validation
    def validation_step(self, batch: list[tuple[Any, Any]], batch_idx: int) -> None:
        # the DataLoader hands the arrays over as tensors
        for image, mask in batch:
            predicted = self.segment(np.asarray(image))
            self.val_confusion.update(predicted.long(), torch.as_tensor(mask).to(self.device))

    def on_validation_epoch_end(self) -> None:
        metrics, _ = segmentation_metrics(self.val_confusion.compute(), self.hparams.classes)
        self.val_confusion.reset()
        self.log("val/miou", metrics["miou"], prog_bar=True)
        self.log("val/pixel_accuracy", metrics["pixel_accuracy"])
        self.log("val/mean_dice", metrics["mean_dice"])

"""The classification LightningModule: uint8 batches in, normalised and augmented on the
device, cross-entropy with optional label smoothing, AdamW or SGD, cosine or one-cycle.

Its hyperparameters (plain data only) are everything needed to rebuild the model, so a
checkpoint is a complete model file.

Example:
    >>> import torch
    >>> task = ClassificationTask(model="small-cnn", classes=list("abc"), in_channels=1,
    ...                           img_size=28, mean=[0.5], std=[0.25])
    >>> task(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from deepimage.engine.checkpoints import rebuild_task
from deepimage.errors import DeepImageError
from deepimage.models import create_model
from deepimage.transforms.batch import augment_batch, preset

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "onecycle", "none")


class ClassificationTask(pl.LightningModule):
    """Trains and runs a registry classifier on N x C x H x W uint8 batches."""

    def __init__(
        self,
        model: str,
        classes: list[str],
        in_channels: int,
        img_size: int,
        mean: list[float],
        std: list[float],
        lr: float = 1e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.0,
        augment: str = "none",
        seed: int = 0,
        pretrained: bool = False,
    ) -> None:
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise DeepImageError(
                f"unknown optimizer {optimizer!r}: choose {', '.join(OPTIMIZERS)}."
            )
        if schedule not in SCHEDULES:
            raise DeepImageError(f"unknown schedule {schedule!r}: choose {', '.join(SCHEDULES)}.")
        preset(augment)
        self.save_hyperparameters()
        self.net = create_model(
            "classify",
            model,
            num_classes=len(classes),
            in_channels=in_channels,
            img_size=img_size,
            pretrained=pretrained,
        ).to(memory_format=torch.channels_last)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        self.train_acc = MulticlassAccuracy(len(classes), average="micro")
        self.val_acc = MulticlassAccuracy(len(classes), average="micro")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for a uint8 batch (or a float batch already in [0, 1])."""
        return self.net(self._normalise(self._to_unit(images)))

    @staticmethod
    def _to_unit(images: torch.Tensor) -> torch.Tensor:
        if images.dtype == torch.uint8:
            images = images.float().div_(255)
        return images.contiguous(memory_format=torch.channels_last)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def _augment(self, images: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """[0, 1] floats, randomly transformed with numbers fixed by (seed, epoch, batch)."""
        x = self._to_unit(images)
        generator = torch.Generator().manual_seed(
            hash((self.hparams.seed, self.current_epoch, batch_idx, self.global_rank)) % 2**63
        )
        return augment_batch(x, self.hparams.augment, generator)

    def on_train_epoch_start(self) -> None:
        # dropout draws from the global generator: seed it per epoch so resuming repeats it
        torch.manual_seed(hash((self.hparams.seed, self.current_epoch, self.global_rank)) % 2**63)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        images, labels = batch
        logits = self.net(self._normalise(self._augment(images, batch_idx)))
        loss = F.cross_entropy(logits, labels, label_smoothing=self.hparams.label_smoothing)
        self.train_acc(logits, labels)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.val_acc(logits, labels)
        self.log("val/loss", F.cross_entropy(logits, labels), sync_dist=True)
        self.log("val/acc", self.val_acc, prog_bar=True)

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        if hp.optimizer == "sgd":
            opt = torch.optim.SGD(
                self.parameters(),
                lr=hp.lr,
                momentum=0.9,
                nesterov=True,
                weight_decay=hp.weight_decay,
            )
        else:
            opt = torch.optim.AdamW(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        if hp.schedule == "none":
            return opt
        steps = max(1, int(self.trainer.estimated_stepping_batches))
        if hp.schedule == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp.lr, total_steps=steps)
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def task_from_checkpoint(checkpoint: dict[str, Any], source: str) -> ClassificationTask:
    """Rebuild a trained classifier from a checkpoint loaded with ``load_checkpoint``."""
    return rebuild_task(ClassificationTask, checkpoint, source, "classifier")

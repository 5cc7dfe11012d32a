"""The classification LightningModule: uint8 batches in, normalised and augmented on the
device, cross-entropy with optional label smoothing; optimizer, schedule, EMA and the
non-finite-loss guard come from :class:`~deepimage.engine.module.TaskModule`.

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

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from deepimage.engine.module import TaskModule, check_normalisation
from deepimage.models import create_model, model_info
from deepimage.tasks.classification_spec import ClassifyTrain
from deepimage.transforms.batch import augment_batch


class LabelTask(TaskModule):
    """What classifiers of any input share: uint8 batches in (N x C x H x W images, or
    N x C x T x H x W clips), normalised per channel and augmented on the device (one
    transform per item, for all its channels and frames), cross-entropy with optional
    label smoothing, and accuracy logged as ``train/`` and ``val/`` + ``accuracy_name``.

    A subclass builds ``self.net`` in ``__init__`` and ends it with :meth:`init_labels`;
    its hyperparameters include ``classes``, ``mean``, ``std``, ``in_channels``,
    ``img_size``, ``model`` (registered under the task's name), ``augment``,
    ``label_smoothing`` and ``seed``.
    """

    accuracy_name: ClassVar[str] = "acc"

    def init_labels(
        self, classes: list[str], mean: list[float], std: list[float], input_dims: int = 4
    ) -> None:
        """Normalisation buffers for ``input_dims``-D batches, the accuracy counters, then
        the engine (:meth:`~deepimage.engine.module.TaskModule.init_engine`)."""
        shape = (1, -1, *[1] * (input_dims - 2))
        self.register_buffer("mean", torch.tensor(mean).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(shape), persistent=False)
        self.register_buffer("train_hits", torch.zeros(2, dtype=torch.int64), persistent=False)
        self.val_acc = MulticlassAccuracy(len(classes), average="micro")
        self.init_engine()

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """The engine's checks, and: a registered model that takes the image size, 1 to 4
        channels, and one mean and one positive standard deviation per channel.

        Example:
            >>> hparams = dict(model="small-cnn", classes=["a", "b"], in_channels=1,
            ...                img_size=28, mean=[0.5], std=[0.25, 0.25])
            >>> ClassificationTask.check_hyperparameters(hparams)
            Traceback (most recent call last):
            ...
            ValueError: 'std' has 2 number(s) for 1 channel(s)
        """
        super().check_hyperparameters(hparams)
        info = model_info(cls.task_name, hparams["model"])
        check_normalisation(hparams)
        if hparams["img_size"] < info.min_size:
            raise ValueError(
                f"'img_size' is {hparams['img_size']}, below {info.name}'s {info.min_size}"
            )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for a uint8 batch (or a float batch already in [0, 1])."""
        return self.inference_net(self._normalise(self._to_unit(images)))

    @staticmethod
    def _to_unit(images: torch.Tensor) -> torch.Tensor:
        if images.dtype == torch.uint8:
            images = images.float().div_(255)
        if images.dim() == 4:
            return images.contiguous(memory_format=torch.channels_last)
        return images.contiguous()

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def _augment(self, images: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """[0, 1] floats, randomly transformed with numbers fixed by (seed, epoch, batch);
        a clip's frames are stacked as channels, so all of them move together."""
        x = self._to_unit(images)
        if self.hparams.augment == "none":
            return x
        generator = torch.Generator().manual_seed(
            hash((self.hparams.seed, self.current_epoch, batch_idx, self.global_rank)) % 2**63
        )
        moved = augment_batch(x.flatten(1, -3), self.hparams.augment, generator, self.task_name)
        return moved.reshape(x.shape)

    def on_train_epoch_start(self) -> None:
        # dropout draws from the global generator: seed it per epoch so resuming repeats it
        torch.manual_seed(hash((self.hparams.seed, self.current_epoch, self.global_rank)) % 2**63)

    def compute_loss(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        images, labels = batch
        logits = self.net(self._normalise(self._augment(images, batch_idx)))
        loss = F.cross_entropy(logits, labels, label_smoothing=self.hparams.label_smoothing)
        with torch.no_grad():  # right and seen, two tensor ops: a metric object's update
            self.train_hits += torch.stack(  # costs 4% of a small-CNN step
                [(logits.argmax(1) == labels).sum(), labels.new_tensor(len(labels))]
            )
        return loss

    def on_train_epoch_end(self) -> None:
        right, seen = self.train_hits.tolist()
        self.log(f"train/{self.accuracy_name}", right / max(seen, 1), sync_dist=True)
        self.train_hits.zero_()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.val_acc(logits, labels)
        self.log("val/loss", F.cross_entropy(logits, labels), sync_dist=True)
        self.log(f"val/{self.accuracy_name}", self.val_acc, prog_bar=True)


class ClassificationTask(LabelTask):
    """Trains and runs a registry classifier on N x C x H x W uint8 batches."""

    task_name = "classify"
    settings_classes = (ClassifyTrain,)

    def __init__(
        self,
        model: str,
        classes: list[str],
        in_channels: int,
        img_size: int,
        mean: list[float],
        std: list[float],
        lr: float = 2e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.0,
        augment: str = "none",
        seed: int = 0,
        pretrained: bool = False,
        warmup_steps: int = 0,
        ema_decay: float = 0.0,
        time_budget_s: float | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "classify",
            model,
            num_classes=len(classes),
            in_channels=in_channels,
            img_size=img_size,
            pretrained=pretrained,
        ).to(memory_format=torch.channels_last)
        self.init_labels(classes, mean, std)

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "classes": list(hp.classes),
            "input": {"size": hp.img_size, "channels": hp.in_channels},
            "normalise": {"mean": list(hp.mean), "std": list(hp.std)},
        }

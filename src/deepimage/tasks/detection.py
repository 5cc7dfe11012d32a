"""The detection LightningModule: torchvision detectors trained on uint8 square batches with
AdamW, linear warm-up then cosine decay over the run (steps or ``--time``, whichever ends
first), an exponential moving average of the weights (what validation and inference use),
a guard that skips non-finite losses, and COCO mAP from pycocotools on every validation.

Example:
    >>> import torch
    >>> task = DetectionTask("ssdlite320_mobilenet_v3_large", ["raccoon"], img_size=320)
    >>> out = task.predict_batch(torch.zeros(1, 3, 320, 320, dtype=torch.uint8))
    >>> sorted(out[0])
    ['boxes', 'labels', 'scores']
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from deepimage.data.detection_batches import to_original
from deepimage.engine.checkpoints import load_matching_weights, rebuild_task
from deepimage.models import create_model
from deepimage.tasks.detection_metrics import GroundTruth, Prediction, coco_metrics

Batch = tuple[torch.Tensor, list[dict[str, Any]]]


class DetectionTask(pl.LightningModule):
    """Trains and runs a registry detector; ``classes`` exclude the background."""

    def __init__(
        self,
        model: str,
        classes: list[str],
        img_size: int = 320,
        lr: float = 2e-3,
        weight_decay: float = 0.05,
        warmup_steps: int = 100,
        ema_decay: float = 0.995,
        time_budget_s: float | None = None,
        pretrained: bool = False,
        conf: float = 0.001,
        iou: float = 0.5,
        max_detections: int = 100,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "detect", model, num_classes=len(classes), pretrained=pretrained, img_size=img_size
        )
        self.ema = copy.deepcopy(self.net).requires_grad_(False)
        self.set_thresholds(conf, iou, max_detections)
        self.skipped_steps = 0
        self._elapsed = 0.0  # training seconds before this process (resumed runs)
        self._started: float | None = None
        self._total_steps = 1  # optimizer steps of the whole run, known once training starts
        self._truths: list[GroundTruth] = []
        self._predictions: list[Prediction] = []

    # ---------------------------------------------------------------- inference
    def set_thresholds(self, conf: float, iou: float, max_detections: int = 100) -> None:
        """Score threshold, NMS IoU and detections per image, for every model family."""
        for net in (self.net, self.ema):
            heads = net.roi_heads if hasattr(net, "roi_heads") else net
            heads.score_thresh, heads.nms_thresh = conf, iou
            heads.detections_per_img = max_detections

    @torch.no_grad()
    def predict_batch(self, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """Detections (boxes in batch pixels, 1-based labels) for an N x 3 x S x S uint8 batch."""
        self.ema.eval()
        return self.ema(list(images.to(self.device).float().div_(255)))

    def load_initial_weights(self, path: Path) -> None:
        """Start from a weights file: a detector checkpoint's averaged ``ema.`` weights (or
        its ``net.`` ones, or a plain state dict); the average starts from them too."""
        load_matching_weights(self.net, path, ("ema.", "net."), self.hparams.model)
        self.ema.load_state_dict(self.net.state_dict())

    # ----------------------------------------------------------------- training
    def on_train_start(self) -> None:
        self._started = time.monotonic()
        self._total_steps = max(1, int(self.trainer.estimated_stepping_batches))

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor | None:
        images, targets = batch
        inputs = list(images.float().div_(255))
        losses = self.net(inputs, [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets])
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            self.skipped_steps += 1
            self.log("train/skipped", float(self.skipped_steps))
            return None
        self.log("train/loss", loss, prog_bar=True, batch_size=len(targets))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Batch, batch_idx: int) -> None:
        decay = self.hparams.ema_decay * (1 - math.exp(-self.global_step / 50))
        with torch.no_grad():
            for average, current in zip(
                self.ema.state_dict().values(), self.net.state_dict().values(), strict=True
            ):
                if average.dtype.is_floating_point:
                    average.lerp_(current, 1 - decay)
                else:
                    average.copy_(current)

    def progress(self) -> float:
        """Fraction of the run done: by steps, or by time when a budget is set."""
        done = self.global_step / self._total_steps
        if self.hparams.time_budget_s and self._started is not None:
            elapsed = self._elapsed + time.monotonic() - self._started
            done = max(done, elapsed / self.hparams.time_budget_s)
        return min(done, 1.0)

    def _lr_factor(self, _: int) -> float:
        warmup = self.hparams.warmup_steps
        if self.global_step < warmup:
            return 0.001 + 0.999 * self.global_step / warmup
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * self.progress()))

    def configure_optimizers(self) -> Any:
        decay, no_decay = [], []
        for name, parameter in self.net.named_parameters():
            if parameter.requires_grad:
                (no_decay if parameter.ndim <= 1 or name.endswith(".bias") else decay).append(
                    parameter
                )
        groups = [
            {"params": decay, "weight_decay": self.hparams.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, self._lr_factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        started = self._started if self._started is not None else time.monotonic()
        checkpoint["train_seconds"] = self._elapsed + time.monotonic() - started
        if "optimizer_states" not in checkpoint:  # weights only: inference runs the EMA alone
            state = checkpoint["state_dict"]
            checkpoint["state_dict"] = {k: v for k, v in state.items() if not k.startswith("net.")}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._elapsed = float(checkpoint.get("train_seconds", 0.0))

    # --------------------------------------------------------------- validation
    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        images, targets = batch
        for output, target in zip(self.predict_batch(images), targets, strict=True):
            index = target["index"] + 1
            width, height = target["size"]
            boxes, labels = target["truth"]
            self._truths.append(GroundTruth(index, width, height, boxes, labels + 1))
            self._predictions.append(
                Prediction(
                    index,
                    to_original(output["boxes"].cpu().numpy(), target["scale"], (width, height)),
                    output["scores"].cpu().numpy(),
                    output["labels"].cpu().numpy(),
                )
            )

    def on_validation_epoch_end(self) -> None:
        truths, predictions = self._gather_validation()
        metrics = coco_metrics(truths, predictions, self.hparams.classes)
        self.log("val/map", metrics["map"])
        self.log("val/map50", metrics["map50"], prog_bar=True)

    def _gather_validation(self) -> tuple[list[GroundTruth], list[Prediction]]:
        """This epoch's truths and predictions from every DDP rank, so that each rank scores
        the whole validation set (and logs the same mAP); cleared for the next epoch."""
        local = (self._truths, self._predictions)
        self._truths, self._predictions = [], []
        if self.trainer.world_size == 1:
            return local
        shards: list[Any] = [None] * self.trainer.world_size
        torch.distributed.all_gather_object(shards, local)
        truths = sorted((t for shard in shards for t in shard[0]), key=lambda t: t.image_id)
        predictions = sorted((p for shard in shards for p in shard[1]), key=lambda p: p.image_id)
        return truths, predictions


def task_from_checkpoint(checkpoint: dict[str, Any], source: str) -> DetectionTask:
    """Rebuild a trained detector from a checkpoint loaded with ``load_checkpoint``.

    A weights-only ``best.ckpt`` holds just the EMA weights; they stand in for the
    training weights too.
    """
    state = checkpoint.get("state_dict")
    if isinstance(state, dict) and not any(key.startswith("net.") for key in state):
        averaged = {"net." + key[4:]: value for key, value in state.items() if key[:4] == "ema."}
        checkpoint = {**checkpoint, "state_dict": {**state, **averaged}}
    return rebuild_task(DetectionTask, checkpoint, source, "detector")

"""The detection LightningModule: torchvision detectors trained on uint8 square batches.
The engine (:class:`~deepimage.engine.module.TaskModule`) gives it AdamW without decay on
norms and biases, warm-up then a cosine down to 2% over the run (steps or ``--time``), the
weight average that validation and inference run, and the non-finite-loss guard; COCO mAP
comes from pycocotools on every validation, over the whole val set on every DDP rank.

Example:
    >>> import torch
    >>> task = DetectionTask("ssdlite320_mobilenet_v3_large", ["raccoon"], img_size=320)
    >>> out = task.predict_batch(torch.zeros(1, 3, 320, 320, dtype=torch.uint8))
    >>> sorted(out[0])
    ['boxes', 'labels', 'scores']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepimage.data.detection_batches import to_original
from deepimage.engine.module import TaskModule
from deepimage.models import create_model, model_info
from deepimage.tasks.detection_metrics import GroundTruth, Prediction, coco_metrics
from deepimage.tasks.detection_spec import DEFAULT_CONF, DetectPredict, DetectTrain

Batch = tuple[torch.Tensor, list[dict[str, Any]]]


def original_detections(
    output: dict[str, torch.Tensor], scale: Any, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes, scores, labels) of one image's detections in its original ``size`` pixels,
    boxes rounded to a thousandth of a pixel. Boxes left without area there (found in the
    letterbox padding and clipped to the image's edge) are dropped: predict and validation
    never score or return them.

    Example:
        >>> found = {"boxes": torch.tensor([[10.0, 10, 50, 40], [0, 60, 64, 64]]),
        ...          "scores": torch.tensor([0.5, 0.25]), "labels": torch.tensor([1, 1])}
        >>> boxes, scores, _ = original_detections(found, (0.5, 0.5), (128, 100))
        >>> boxes.tolist(), scores.tolist()
        ([[20.0, 20.0, 100.0, 80.0]], [0.5])
    """
    boxes = np.round(to_original(output["boxes"].cpu().numpy(), scale, size), 3)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[keep], output["scores"].cpu().numpy()[keep], output["labels"].cpu().numpy()[keep]


class DetectionTask(TaskModule):
    """Trains and runs a registry detector; ``classes`` exclude the background."""

    task_name = "detect"
    settings_classes = (DetectTrain, DetectPredict)
    decay_norms_and_biases = False
    lr_floor = 0.02

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
        conf: float = DEFAULT_CONF,
        iou: float = 0.5,
        max_detections: int = 100,
        optimizer: str = "adamw",
        schedule: str = "cosine",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "detect", model, num_classes=len(classes), pretrained=pretrained, img_size=img_size
        )
        self.init_engine()
        self.set_thresholds(conf, iou, max_detections)
        self._truths: list[GroundTruth] = []
        self._predictions: list[Prediction] = []

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """The engine's checks (``conf`` and ``iou`` bounded as predict's), and: a
        registered model and at least one detection per image."""
        super().check_hyperparameters(hparams)
        model_info("detect", hparams["model"])
        if hparams.get("max_detections", 1) < 1:
            raise ValueError(f"'max_detections' is {hparams['max_detections']}, expected 1 or more")

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "classes": list(hp.classes),
            "input": {"size": hp.img_size, "channels": 3, "letterbox": True},
            "normalise": "inside the torchvision model",
        }

    # ---------------------------------------------------------------- inference
    def set_thresholds(self, conf: float, iou: float, max_detections: int = 100) -> None:
        """Score threshold, NMS IoU and detections per image, for every model family."""
        for net in (self.net, self.ema):
            if net is None:
                continue
            heads = net.roi_heads if hasattr(net, "roi_heads") else net
            heads.score_thresh, heads.nms_thresh = conf, iou
            heads.detections_per_img = max_detections

    @torch.no_grad()
    def predict_batch(self, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """Detections (boxes in batch pixels, 1-based labels) for an N x 3 x S x S uint8 batch."""
        net = self.inference_net.eval()
        return net(list(images.to(self.device).float().div_(255)))

    # ----------------------------------------------------------------- training
    def compute_loss(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        images, targets = batch
        inputs = list(images.float().div_(255))
        losses = self.net(inputs, [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets])
        return sum(losses.values())

    # --------------------------------------------------------------- validation
    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        images, targets = batch
        for output, target in zip(self.predict_batch(images), targets, strict=True):
            index = target["index"] + 1
            width, height = target["size"]
            boxes, labels = target["truth"]
            self._truths.append(GroundTruth(index, width, height, boxes, labels + 1))
            found = original_detections(output, target["scale"], (width, height))
            self._predictions.append(Prediction(index, *found))

    def on_validation_epoch_end(self) -> None:
        # every rank scores the whole val set (and logs the same mAP)
        shards = self.gather((self._truths, self._predictions))
        self._truths, self._predictions = [], []
        truths = sorted((t for shard in shards for t in shard[0]), key=lambda t: t.image_id)
        predictions = sorted((p for shard in shards for p in shard[1]), key=lambda p: p.image_id)
        metrics = coco_metrics(truths, predictions, self.hparams.classes)
        # a val set without a single box has no mAP (None): logged as 0, nothing found
        self.log("val/map", metrics["map"] or 0.0)
        self.log("val/map50", metrics["map50"] or 0.0, prog_bar=True)

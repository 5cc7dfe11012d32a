"""``Detector``: train, evaluate, predict and load object detectors.

Predictions are in original-image pixels whatever the image size; ``evaluate`` scores
exactly what ``predict`` returns for the split's images, with pycocotools.

Example:
    >>> from deepimage.api import Detector
    >>> det = Detector("ssdlite320_mobilenet_v3_large")
    >>> report = det.fit("raccoon", epochs=1, quiet=True)  # doctest: +SKIP
    >>> det.predict(["photo.jpg"], conf=0.3)[0]["detections"]  # doctest: +SKIP
    [{'box': [12.5, 30.0, 220.25, 310.0], 'label': 'raccoon', 'score': 0.91}]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.api.base import RunSettings, TrainedModel
from deepimage.api.run_files import (
    expand_image_paths,
    run_config,
)
from deepimage.data.detection import load_detection_data
from deepimage.data.detection_batches import DetectionBatches, letterbox, shrink, to_original
from deepimage.data.module import BatchDataModule
from deepimage.engine.devices import torch_device
from deepimage.errors import BadImageError, DeepImageError
from deepimage.io import read_image, write_image
from deepimage.tasks.detection import DetectionTask, task_from_checkpoint
from deepimage.tasks.detection_metrics import GroundTruth, Prediction, coco_metrics
from deepimage.viz.draw import draw_boxes
from deepimage.viz.plots import plot_image_grid, plot_precision_recall

DEFAULT_CONF = 0.05
"""Score threshold of ``predict`` and ``evaluate`` alike (torchvision's own default), so
that predict's output reproduces evaluate's numbers."""
DEFAULT_IOU = 0.5
DRAW_CONF = 0.25
"""Least score drawn on pictures (annotated copies, example grids), so they stay legible."""
TRUTH_COLOUR = (255, 255, 255)
EXAMPLES_SHOWN = 8
EXAMPLE_SIDE = 480  # longest side of an image in the example grid


@dataclass
class DetectSettings(RunSettings):
    """Everything a detection run is made from; saved as the run's ``config.yaml``."""

    model: str = "fasterrcnn_mobilenet_v3_large_320_fpn"
    epochs: int = 300
    batch_size: int = 8
    img_size: int = 320
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    ema_decay: float = 0.995
    gradient_clip: float = 10.0
    augment: str = "detect"
    val_split: float = 0.2
    classes: list[str] | None = None


class Detector(TrainedModel):
    """An object detector: ``fit`` on COCO / VOC / YOLO data, then ``evaluate`` / ``predict``."""

    kind = "detector"
    task_name = "detect"
    restore = staticmethod(task_from_checkpoint)
    task: DetectionTask | None

    def __init__(self, model: str = "fasterrcnn_mobilenet_v3_large_320_fpn") -> None:
        super().__init__(model)

    # ----------------------------------------------------------------- training
    def fit(
        self, data: str, *, quiet: bool = False, resume: str | None = None, **settings: Any
    ) -> dict:
        """Train on ``data`` (a COCO / VOC / YOLO folder or file) and return the report.

        Keyword settings are the fields of :class:`DetectSettings`; ``resume`` names a run
        folder to continue from its ``last.ckpt``.
        """
        config = DetectSettings(data=str(data), model=self.model, **settings)
        loaded = load_detection_data(
            config.data,
            skip_bad=config.skip_bad,
            val_split=config.val_split,
            seed=config.seed,
            classes=config.classes,
        )
        train, val = loaded.splits.get("train", []), loaded.splits.get("val", [])
        if not train or not val:
            raise DeepImageError(
                f"{data}: training needs a 'train' and a 'val' split; found "
                f"{', '.join(f'{k} {len(v)}' for k, v in loaded.splits.items())}. "
                "Pass --val-split 0.2 to hold out a seeded fifth of the images."
            )
        torch.manual_seed(config.seed)
        task = DetectionTask(
            config.model,
            loaded.classes,
            img_size=config.img_size,
            lr=config.lr,
            weight_decay=config.weight_decay,
            warmup_steps=config.warmup_steps,
            ema_decay=config.ema_decay,
            time_budget_s=config.time_minutes * 60 if config.time_minutes else None,
            pretrained=config.pretrained,
            conf=DEFAULT_CONF,
            iou=DEFAULT_IOU,
        )
        if config.weights:
            task.load_initial_weights(Path(config.weights))
        module = BatchDataModule(
            DetectionBatches(train, config.img_size, config.augment, config.seed),
            DetectionBatches(val, config.img_size),
            config.batch_size,
            config.seed,
            config.workers,
            drop_last=True,  # a batch of one breaks BatchNorm in training
            with_epoch=True,
        )
        report = self._train(
            task,
            module,
            config,
            resume=resume,
            quiet=quiet,
            monitor="val/map50",
            gradient_clip=config.gradient_clip,
        )
        if report is None:  # a DDP worker process
            return {}
        val_metrics = self._score(val, Path(report["run_dir"]) / "plots", "val", config.device)
        return self._save_report(
            {
                **report,
                "classes": loaded.classes,
                "train_images": len(train),
                "val_images": len(val),
                "skipped_steps": task.skipped_steps,
                "map": val_metrics["map"],
                "map50": val_metrics["map50"],
                "val": val_metrics,
                "issues": loaded.issues,
            }
        )

    # --------------------------------------------------------------- evaluation
    def evaluate(
        self,
        data: str,
        split: str = "val",
        *,
        out_dir: str | None = None,
        conf: float = DEFAULT_CONF,
        iou: float = DEFAULT_IOU,
        batch_size: int = 8,
        device: str = "auto",
        skip_bad: bool = False,
    ) -> dict:
        """The 12 COCO numbers, AP per class and a precision-recall plot for a split
        (``all`` for every image). Data without a split is split as in training."""
        trained = run_config(self.run_dir) if self.run_dir else {}
        classes = self._require_task().hparams.classes
        loaded = load_detection_data(
            data,
            skip_bad=skip_bad,
            val_split=trained.get("val_split", DetectSettings.val_split),
            seed=trained.get("seed", DetectSettings.seed),
            classes=classes,
        )
        if split == "all":
            items = [item for part in loaded.splits.values() for item in part]
        elif split in loaded.splits:
            items = loaded.splits[split]
        else:
            raise DeepImageError(
                f"{data} has no {split!r} split; it has {', '.join(loaded.splits)} (or use 'all')."
            )
        target = Path(out_dir) if out_dir else (self.run_dir or Path(".")) / "plots"
        return self._score(items, target, split, device, conf, iou, batch_size)

    def _score(
        self,
        items: Sequence[Any],
        out_dir: Path,
        split: str,
        device: str,
        conf: float = DEFAULT_CONF,
        iou: float = DEFAULT_IOU,
        batch_size: int = 8,
    ) -> dict:
        classes = self._require_task().hparams.classes
        results = self.predict(
            [str(item.image) for item in items],
            conf=conf,
            iou=iou,
            batch_size=batch_size,
            device=device,
        )
        index = {name: i + 1 for i, name in enumerate(classes)}
        truths, predictions = [], []
        for image_id, (item, result) in enumerate(zip(items, results, strict=True), start=1):
            truths.append(
                GroundTruth(image_id, item.width, item.height, item.boxes, item.labels + 1)
            )
            found = result["detections"]
            predictions.append(
                Prediction(
                    image_id,
                    np.array([d["box"] for d in found], np.float64).reshape(-1, 4),
                    np.array([d["score"] for d in found], np.float64),
                    np.array([index[d["label"]] for d in found], np.int64),
                )
            )
        metrics = coco_metrics(truths, predictions, classes)
        curves = metrics.pop("pr_curves")
        plot = out_dir / f"precision_recall_{split}.png"
        plot_precision_recall(curves, plot)
        examples = out_dir / f"predictions_{split}.png"
        self._plot_examples(items[:EXAMPLES_SHOWN], results, examples)
        plots = [str(plot), str(examples)]
        return {**metrics, "images": len(items), "conf": conf, "iou": iou, "plots": plots}

    def _plot_examples(self, items: Sequence[Any], results: list[dict], out: Path) -> None:
        """A grid of ``items``: true boxes in white, detections scoring ``DRAW_CONF`` or
        more in their class colours, each image shrunk to at most ``EXAMPLE_SIDE`` pixels."""
        pictures, titles = [], []
        for item, result in zip(items, results, strict=False):
            image = read_image(item.image, mode="rgb")
            scale = np.ones(4)
            if max(image.shape[:2]) > EXAMPLE_SIDE:
                image, (x_scale, y_scale) = shrink(image, EXAMPLE_SIDE)
                scale = np.array([x_scale, y_scale, x_scale, y_scale])
            image = draw_boxes(image, item.boxes * scale, colour=TRUTH_COLOUR)
            found = [d for d in result["detections"] if d["score"] >= DRAW_CONF]
            pictures.append(self._draw(image, found, scale))
            titles.append(f"{Path(item.image).name}\n{len(item.boxes)} true, {len(found)} found")
        plot_image_grid(pictures, titles, out, columns=min(4, len(pictures)), cell_inches=3.0)

    def _draw(
        self, image: np.ndarray, detections: list[dict], scale: float | np.ndarray = 1.0
    ) -> np.ndarray:
        """``image`` with ``detections`` (boxes times ``scale``) labelled in class colours."""
        classes = self._require_task().hparams.classes
        labels = [f"{d['label']} {d['score']:.2f}" for d in detections]
        keys = [classes.index(d["label"]) for d in detections]
        boxes = np.array([d["box"] for d in detections], np.float64).reshape(-1, 4) * scale
        return draw_boxes(image, boxes, labels, colour_keys=keys)

    # ---------------------------------------------------------------- inference
    def predict(
        self,
        images: list[str] | str,
        *,
        conf: float = DEFAULT_CONF,
        iou: float = DEFAULT_IOU,
        classes: Sequence[str] | None = None,
        batch_size: int = 8,
        device: str = "auto",
        skip_bad: bool = False,
        on_image: Callable[[], None] | None = None,
    ) -> list[dict]:
        """Detect objects in image files (paths, folders or globs):
        ``[{path, detections: [{box: [x1, y1, x2, y2], label, score}]}]`` in original pixels.

        A bad image file raises :class:`BadImageError`; with ``skip_bad`` it is left out
        and listed in ``self.skipped`` (``[{path, reason}]``). ``on_image`` is called after
        each image (a progress bar, say).
        """
        task = self._require_task()
        names = task.hparams.classes
        wanted = _class_filter(classes, names)
        task.set_thresholds(conf, iou)
        task.to(torch_device(device))
        self.skipped = []
        results = []
        paths = expand_image_paths(images)
        for chunk in _batches(self._images(paths, skip_bad, on_image), batch_size):
            batch = torch.from_numpy(np.stack([image for _, image, _, _ in chunk]))
            outputs = task.predict_batch(batch.permute(0, 3, 1, 2))
            for (path, _, scale, size), output in zip(chunk, outputs, strict=True):
                boxes = to_original(output["boxes"].cpu().numpy(), scale, size)
                detections = [
                    {
                        "box": [round(float(v), 3) for v in box],
                        "label": names[int(label) - 1],
                        "score": round(float(score), 6),
                    }
                    for box, label, score in zip(
                        boxes, output["labels"].tolist(), output["scores"].tolist(), strict=True
                    )
                    if wanted is None or int(label) in wanted
                ]
                results.append({"path": str(path), "detections": detections})
        return results

    def _images(
        self, paths: list[Path], skip_bad: bool, on_image: Callable[[], None] | None
    ) -> Iterator[tuple[Path, np.ndarray, tuple[float, float], tuple[int, int]]]:
        """(path, letterboxed image, scale, original size) per readable image."""
        size = self._require_task().hparams.img_size
        for path in paths:
            if on_image:
                on_image()
            try:
                image = read_image(path, mode="rgb")
            except BadImageError as error:
                if not skip_bad:
                    raise
                self.skipped.append({"path": error.path, "reason": error.reason})
                continue
            boxed, scale = letterbox(image, size)
            yield path, boxed, scale, (image.shape[1], image.shape[0])

    def save_annotated(
        self, results: list[dict], out_dir: str | os.PathLike[str], min_score: float = DRAW_CONF
    ) -> list[Path]:
        """Copies of the predicted images with the boxes, labels and scores of detections
        scoring at least ``min_score`` drawn, in ``out_dir`` (an input is never overwritten;
        same-named inputs get numbered names)."""
        out = Path(out_dir)
        written: list[Path] = []
        used: set[str] = set()
        for result in results:
            source = Path(result["path"])
            name = source.name
            for number in range(1, len(results) + 1):
                if name not in used:
                    break
                name = f"{source.stem}-{number}{source.suffix}"
            used.add(name)
            target = out / name
            if target.resolve() == source.resolve():
                raise DeepImageError(
                    f"{out}: holds the input {source}; pass an -o folder apart from the inputs."
                )
            found = [d for d in result["detections"] if d["score"] >= min_score]
            write_image(target, self._draw(read_image(source, mode="rgb"), found))
            written.append(target)
        return written


def _class_filter(wanted: Sequence[str] | None, names: list[str]) -> set[int] | None:
    """1-based indices of the wanted class names; None keeps every class."""
    if not wanted:
        return None
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise DeepImageError(f"unknown class {unknown[0]!r}: this model knows {', '.join(names)}.")
    return {names.index(name) + 1 for name in wanted}


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

"""``Classifier``: train, evaluate, predict and load image classifiers.

Example:
    >>> from deepimage.api import Classifier
    >>> clf = Classifier("small-cnn")
    >>> report = clf.fit("digits", epochs=1, img_size=16, quiet=True, runs_root=tmp_runs)  # doctest: +SKIP
    >>> clf.evaluate("digits")["top1"] > 0.5  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from deepimage.api.prepare import PreparedData, prepare_data
from deepimage.data.batches import load_for_model, to_chw_tensor
from deepimage.data.classification import load_classification_data
from deepimage.data.module import BatchDataModule, batch_loader
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.engine.devices import torch_device
from deepimage.engine.runs import new_run_dir
from deepimage.engine.trainer import ThroughputMeter, TrainerOptions, build_trainer
from deepimage.errors import BadImageError, DeepImageError, ModelFileError
from deepimage.io.files import write_json, write_yaml
from deepimage.io.paths import find_images
from deepimage.tasks.classification import ClassificationTask, task_from_checkpoint
from deepimage.tasks.classification_metrics import classification_metrics
from deepimage.viz.plots import (
    plot_confusion_matrix,
    plot_image_grid,
    plot_training_curves,
    write_confusion_csv,
)


@dataclass
class FitSettings:
    """Everything a training run is made from; saved as the run's ``config.yaml``."""

    data: str
    model: str = "small-cnn"
    epochs: int = 10
    batch_size: int = 64
    img_size: int | None = None
    lr: float = 1e-3
    optimizer: str = "adamw"
    schedule: str = "cosine"
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: str = "none"
    pretrained: bool = False
    weights: str | None = None
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    devices: int = 1
    workers: int = 0
    patience: int | None = None
    time_minutes: float | None = None
    val_fraction: float = 0.1
    skip_bad: bool = False
    download: bool = False
    name: str | None = None
    runs_root: str = "runs"


class Classifier:
    """An image classifier: ``fit`` on a data set, then ``evaluate`` / ``predict``."""

    def __init__(self, model: str = "small-cnn") -> None:
        self.model = model
        self.task: ClassificationTask | None = None
        self.checkpoint: Path | None = None
        self.run_dir: Path | None = None
        self.skipped: list[dict[str, str]] = []  # bad files left out by the last predict

    # ----------------------------------------------------------------- training
    def fit(
        self, data: str, *, quiet: bool = False, resume: str | None = None, **settings: Any
    ) -> dict:
        """Train on ``data`` (a built-in name, an image folder or a CSV) and return the report.

        Keyword settings are the fields of :class:`FitSettings`; ``resume`` names a run
        folder whose ``last.ckpt`` and ``config.yaml`` the training continues from.
        """
        config = FitSettings(data=str(data), model=self.model, **settings)
        loaded = load_classification_data(
            config.data,
            skip_bad=config.skip_bad,
            seed=config.seed,
            val_fraction=config.val_fraction,
            workers=config.workers,
            download=config.download,
        )
        prepared = prepare_data(loaded, config.model, config.img_size)
        task = self._new_task(config, prepared)
        if resume:
            run_dir, ckpt = Path(resume), _resume_checkpoint(Path(resume))
        else:
            run_dir, ckpt = (
                new_run_dir("classify", config.name or config.model, config.runs_root),
                None,
            )
        write_yaml(run_dir / "config.yaml", {**asdict(config), "img_size": prepared.img_size})
        meter = ThroughputMeter()
        options = TrainerOptions(
            epochs=config.epochs,
            device=config.device,
            devices=config.devices,
            deterministic=config.deterministic,
            time_minutes=config.time_minutes,
            patience=config.patience,
            quiet=quiet,
        )
        trainer = build_trainer(run_dir, options, [meter])
        module = BatchDataModule(
            prepared.train, prepared.val, config.batch_size, config.seed, config.workers
        )
        started = time.perf_counter()
        trainer.fit(task, datamodule=module, ckpt_path=ckpt, weights_only=True)
        if not trainer.is_global_zero:
            return {}
        self.run_dir, self.checkpoint = run_dir, run_dir / "checkpoints" / "best.ckpt"
        self.task = task_from_checkpoint(load_checkpoint(self.checkpoint), str(self.checkpoint))
        report = {
            "run_dir": str(run_dir),
            "best_checkpoint": str(self.checkpoint),
            "last_checkpoint": str(run_dir / "checkpoints" / "last.ckpt"),
            "model": config.model,
            "data": config.data,
            "epochs": trainer.current_epoch,
            "img_size": prepared.img_size,
            "train_images": len(prepared.train),
            "train_seconds": round(time.perf_counter() - started, 2),
            "train_images_per_s": round(meter.images_per_s, 1),
            "val": self._evaluate_prepared(prepared.val, run_dir / "plots", "val", config.device),
            "bad_files": loaded.bad_files,
        }
        if prepared.test is not None:
            report["test"] = self._evaluate_prepared(
                prepared.test, run_dir / "plots", "test", config.device
            )
        plot_training_curves(run_dir / "metrics.csv", run_dir / "plots" / "training_curves.png")
        write_json(run_dir / "report.json", report)
        return report

    @classmethod
    def resume(
        cls, run_dir: str | os.PathLike[str], *, quiet: bool = False, **overrides: Any
    ) -> dict:
        """Continue a killed run from its ``last.ckpt`` with the settings in its ``config.yaml``.

        ``overrides`` may change only how it runs (``device``, ``workers``), not what it learns.
        """
        config = _run_config(Path(run_dir))
        data, model = config.pop("data"), config.pop("model")
        return cls(model).fit(data, quiet=quiet, resume=str(run_dir), **{**config, **overrides})

    def _new_task(self, config: FitSettings, prepared: PreparedData) -> ClassificationTask:
        torch.manual_seed(config.seed)
        task = ClassificationTask(
            model=config.model,
            classes=prepared.classes,
            in_channels=prepared.channels,
            img_size=prepared.img_size,
            mean=prepared.mean,
            std=prepared.std,
            lr=config.lr,
            optimizer=config.optimizer,
            schedule=config.schedule,
            weight_decay=config.weight_decay,
            label_smoothing=config.label_smoothing,
            augment=config.augment,
            seed=config.seed,
            pretrained=config.pretrained,
        )
        if config.weights:
            _load_weights(task, Path(config.weights))
        return task

    # --------------------------------------------------------------- evaluation
    def evaluate(
        self,
        data: str,
        split: str = "test",
        *,
        out_dir: str | None = None,
        batch_size: int = 256,
        device: str = "auto",
        skip_bad: bool = False,
        download: bool = False,
    ) -> dict:
        """Top-1/top-5, per-class figures, confusion matrix, calibration; plots into ``out_dir``.

        Data sets split by seed (folders of classes, CSVs) are split as in training: the
        seed comes from the model, the validation fraction from its run's ``config.yaml``.
        """
        task = self._require_task()
        trained = _run_config(self.run_dir) if self.run_dir else {}
        loaded = load_classification_data(
            data,
            skip_bad=skip_bad,
            seed=task.hparams.seed,
            val_fraction=trained.get("val_fraction", 0.1),
            download=download,
        )
        if split not in loaded.splits:
            raise DeepImageError(
                f"{data} has no {split!r} split; it has {', '.join(loaded.splits)}."
            )
        prepared = prepare_data(loaded, task.hparams.model, task.hparams.img_size, task.hparams)
        target = (
            Path(out_dir) if out_dir else (self.run_dir / "plots" if self.run_dir else Path("."))
        )
        metrics = self._evaluate_prepared(prepared.splits[split], target, split, device, batch_size)
        metrics["bad_files"] = loaded.bad_files
        return metrics

    def _evaluate_prepared(
        self,
        dataset: Any,
        out_dir: Path,
        split: str,
        device: str,
        batch_size: int = 256,
    ) -> dict:
        task = self._require_task()
        probs, labels = _predict_dataset(task, dataset, batch_size, torch_device(device))
        metrics = classification_metrics(probs, labels, task.hparams.classes)
        out_dir.mkdir(parents=True, exist_ok=True)
        cm, classes = metrics["confusion_matrix"], task.hparams.classes
        plot_confusion_matrix(cm, classes, out_dir / f"confusion_{split}.png")
        write_confusion_csv(cm, classes, out_dir / f"confusion_{split}.csv")
        _plot_mistakes(dataset, probs, labels, classes, out_dir / f"misclassified_{split}.png")
        plots = [out_dir / f"{kind}_{split}.png" for kind in ("confusion", "misclassified")]
        metrics["plots"] = [str(p) for p in plots if p.is_file()]  # no mistakes, no grid
        return metrics

    # ---------------------------------------------------------------- inference
    def predict(
        self,
        images: list[str] | str,
        *,
        top_k: int = 5,
        batch_size: int = 64,
        device: str = "auto",
        skip_bad: bool = False,
    ) -> list[dict]:
        """Label image files (paths, folders or globs): ``[{path, label, score, top}]``.

        A bad image file raises :class:`BadImageError`; with ``skip_bad`` it is left out
        and listed in ``self.skipped`` (``[{path, reason}]``).
        """
        task = self._require_task()
        paths = expand_image_paths(images)
        hp = task.hparams
        self.skipped = []
        dev = torch_device(device)
        task.to(dev)
        results = []
        k = min(top_k, len(hp.classes))
        for start in range(0, len(paths), batch_size):
            loaded = [self._load(p, skip_bad) for p in paths[start : start + batch_size]]
            chunk = [path for path, image in loaded if image is not None]
            if not chunk:
                continue
            batch = to_chw_tensor(np.stack([image for _, image in loaded if image is not None]))
            with torch.inference_mode():
                probs = task(batch.to(dev)).float().softmax(1).cpu()
            scores, indices = probs.topk(k, dim=1)
            for path, row_scores, row_indices in zip(chunk, scores, indices, strict=True):
                top = [
                    {"label": hp.classes[int(i)], "score": round(float(s), 6)}
                    for s, i in zip(row_scores, row_indices, strict=True)
                ]
                results.append(
                    {
                        "path": str(path),
                        "label": top[0]["label"],
                        "score": top[0]["score"],
                        "top": top,
                    }
                )
        return results

    def _load(self, path: Path, skip_bad: bool) -> tuple[Path, np.ndarray | None]:
        """The image as the model takes it; None for a bad file recorded in ``self.skipped``."""
        hp = self._require_task().hparams
        try:
            return path, load_for_model(path, hp.in_channels, hp.img_size)
        except BadImageError as error:
            if not skip_bad:
                raise
            self.skipped.append({"path": error.path, "reason": error.reason})
            return path, None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Classifier:
        """Load a trained classifier from a ``.ckpt`` file or a run folder (safely)."""
        checkpoint = resolve_model_path(Path(path))
        task = task_from_checkpoint(load_checkpoint(checkpoint), str(checkpoint))
        clf = cls(task.hparams.model)
        clf.task, clf.checkpoint = task, checkpoint
        clf.run_dir = checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else None
        return clf

    def _require_task(self) -> ClassificationTask:
        if self.task is None:
            raise DeepImageError(
                "this classifier has no weights yet: call fit() or Classifier.load(path)."
            )
        return self.task


def resolve_model_path(path: Path) -> Path:
    """A run folder means its best checkpoint; a file is taken as it is."""
    if path.is_dir():
        for candidate in (path / "checkpoints" / "best.ckpt", path / "checkpoints" / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise ModelFileError(f"{path}: run folder without checkpoints/best.ckpt or last.ckpt.")
    return path


def _run_config(run_dir: Path) -> dict[str, Any]:
    """The settings a run was started with."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise DeepImageError(
            f"{run_dir}: not a run folder (no config.yaml). Pass a folder that `classify train` made."
        )
    config = yaml.safe_load(path.read_text())
    return config


def _resume_checkpoint(run_dir: Path) -> str:
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise DeepImageError(
            f"{run_dir}: nothing to resume (no checkpoints/last.ckpt). Start a new run instead."
        )
    load_checkpoint(
        last
    )  # a clear error for unsafe files; Lightning then reads it weights-only too
    return str(last)


def _load_weights(task: ClassificationTask, path: Path) -> None:
    """Initialise from a state dict or a deepimage checkpoint, taking tensors whose shapes fit."""
    checkpoint = load_checkpoint(path)
    state = checkpoint.get("state_dict", checkpoint)
    own = task.net.state_dict()
    matched = {}
    for key, value in state.items():
        key = key.removeprefix("net.")
        if key in own and isinstance(value, torch.Tensor) and value.shape == own[key].shape:
            matched[key] = value
    if not matched:
        raise ModelFileError(f"{path}: no tensor in this file fits model {task.hparams.model!r}.")
    task.net.load_state_dict(matched, strict=False)


def _predict_dataset(
    task: ClassificationTask, dataset: Any, batch_size: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    task.to(device).eval()
    probs, labels = [], []
    with torch.inference_mode():
        for images, targets in batch_loader(dataset, batch_size, shuffle=False):
            probs.append(task(images.to(device)).float().softmax(1).cpu())
            labels.append(targets)
    return torch.cat(probs), torch.cat(labels)


def _plot_mistakes(
    dataset: Any,
    probs: torch.Tensor,
    labels: torch.Tensor,
    classes: list[str],
    out: Path,
    count: int = 32,
) -> None:
    wrong = torch.nonzero(probs.argmax(1) != labels).flatten()[:count].tolist()
    if not wrong:
        return
    images, _ = dataset[wrong]
    pictures = [img.permute(1, 2, 0).numpy() for img in images]
    titles = [f"{classes[int(probs[i].argmax())]} (true {classes[int(labels[i])]})" for i in wrong]
    plot_image_grid(pictures, titles, out)


def expand_image_paths(inputs: list[str] | str) -> list[Path]:
    """Files, folders (recursive) and glob patterns -> sorted image paths."""
    items = [inputs] if isinstance(inputs, str) else inputs
    found = [path for item in items for path in find_images(item)[1]]
    if not found:
        raise DeepImageError(f"no images found in {inputs}.")
    return found

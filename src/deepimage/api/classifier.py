"""``Classifier``: train, evaluate, predict and load image classifiers.

Example:
    >>> from deepimage.api import Classifier
    >>> clf = Classifier("small-cnn")
    >>> report = clf.fit("digits", epochs=1, img_size=16, quiet=True, runs_root=tmp_runs)  # doctest: +SKIP
    >>> clf.evaluate("digits")["top1"] > 0.5  # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.api.base import RunSettings, TrainedModel
from deepimage.api.prepare import PreparedData, prepare_data
from deepimage.api.run_files import (
    expand_image_paths,
    run_config,
)
from deepimage.data.batches import load_for_model, to_chw_tensor
from deepimage.data.classification import load_classification_data
from deepimage.data.module import BatchDataModule, batch_loader
from deepimage.engine.checkpoints import load_matching_weights
from deepimage.engine.devices import torch_device
from deepimage.errors import BadImageError, DeepImageError
from deepimage.tasks.classification import ClassificationTask, task_from_checkpoint
from deepimage.tasks.classification_metrics import classification_metrics
from deepimage.viz.plots import (
    plot_confusion_matrix,
    plot_image_grid,
    write_confusion_csv,
)


@dataclass
class FitSettings(RunSettings):
    """Everything a classification run is made from; saved as the run's ``config.yaml``."""

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
    val_fraction: float | None = None  # the data set's default
    download: bool = False


class Classifier(TrainedModel):
    """An image classifier: ``fit`` on a data set, then ``evaluate`` / ``predict``."""

    kind = "classifier"
    task_name = "classify"
    restore = staticmethod(task_from_checkpoint)
    task: ClassificationTask | None

    def __init__(self, model: str = "small-cnn") -> None:
        super().__init__(model)

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
        config = replace(config, img_size=prepared.img_size)  # config.yaml records the size used
        module = BatchDataModule(
            prepared.train, prepared.val, config.batch_size, config.seed, config.workers
        )
        report = self._train(task, module, config, resume=resume, quiet=quiet)
        if report is None:  # a DDP worker process
            return {}
        plots = Path(report["run_dir"]) / "plots"
        report["img_size"] = prepared.img_size
        report["train_images"] = len(prepared.train)
        report["val"] = self._evaluate_prepared(prepared.val, plots, "val", config.device)
        report["bad_files"] = loaded.bad_files
        if prepared.test is not None:
            report["test"] = self._evaluate_prepared(prepared.test, plots, "test", config.device)
        return self._save_report(report)

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
            load_matching_weights(task.net, Path(config.weights), name=config.model)
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
        trained = run_config(self.run_dir) if self.run_dir else {}
        loaded = load_classification_data(
            data,
            skip_bad=skip_bad,
            seed=task.hparams.seed,
            val_fraction=trained.get("val_fraction"),
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

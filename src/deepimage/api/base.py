"""What ``Classifier``, ``Detector`` and the other model APIs share: loading a trained
model from a checkpoint or a run folder, resuming a run, and the state in between.

Example:
    >>> from deepimage.api import Detector
    >>> Detector().predict(["a.jpg"])
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: this detector has no weights yet: call fit() or Detector.load(path).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import lightning.pytorch as pl

from deepimage.api.run_files import resolve_model_path, resume_checkpoint, run_config
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.engine.runs import new_run_dir
from deepimage.engine.trainer import ThroughputMeter, TrainerOptions, build_trainer
from deepimage.errors import DeepImageError
from deepimage.io.files import write_json, write_yaml
from deepimage.viz.plots import plot_training_curves

M = TypeVar("M", bound="TrainedModel")


@dataclass
class RunSettings:
    """What every training run has; each task's settings add their own fields (and their
    own defaults for ``model`` and ``epochs``). Saved as the run's ``config.yaml``."""

    data: str
    model: str
    epochs: int
    pretrained: bool = False
    weights: str | None = None
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    devices: int = 1
    workers: int = 0
    patience: int | None = None
    time_minutes: float | None = None
    skip_bad: bool = False
    name: str | None = None
    runs_root: str = "runs"


class TrainedModel:
    """A model name, and once trained or loaded its task, checkpoint and run folder.

    Subclasses set ``kind`` (the noun in messages), ``task_name`` (the runs subfolder) and
    ``restore`` (their task module's ``task_from_checkpoint``) and implement
    ``fit(data, *, quiet, resume, **settings)``, training through :meth:`_train`.
    """

    kind: ClassVar[str] = "model"
    task_name: ClassVar[str] = "model"  # runs go to runs/<task_name>/
    restore: ClassVar[Callable[[dict[str, Any], str], Any]]

    def __init__(self, model: str) -> None:
        self.model = model
        self.task: Any = None
        self.checkpoint: Path | None = None
        self.run_dir: Path | None = None
        self.skipped: list[dict[str, str]] = []  # bad files left out by the last predict

    def fit(
        self, data: str, *, quiet: bool = False, resume: str | None = None, **settings: Any
    ) -> dict:
        """Train on ``data`` and return the run's report (each subclass has its own)."""
        raise NotImplementedError

    @classmethod
    def resume(
        cls, run_dir: str | os.PathLike[str], *, quiet: bool = False, **overrides: Any
    ) -> dict:
        """Continue a killed run from its ``last.ckpt`` with the settings in its ``config.yaml``.

        ``overrides`` may change only how it runs (``device``, ``workers``), not what it learns.
        """
        config = run_config(Path(run_dir))
        data, model = config.pop("data"), config.pop("model")
        return cls(model).fit(data, quiet=quiet, resume=str(run_dir), **{**config, **overrides})

    @classmethod
    def load(cls: type[M], path: str | os.PathLike[str]) -> M:
        """Load a trained model from a ``.ckpt`` file or a run folder (safely)."""
        checkpoint = resolve_model_path(Path(path))
        task = cls.restore(load_checkpoint(checkpoint), str(checkpoint))
        trained = cls(task.hparams.model)
        trained.task, trained.checkpoint = task, checkpoint
        in_run = checkpoint.parent.name == "checkpoints"
        trained.run_dir = checkpoint.parent.parent if in_run else None
        return trained

    def _train(
        self,
        task: pl.LightningModule,
        data: pl.LightningDataModule,
        config: RunSettings,
        *,
        resume: str | None,
        quiet: bool,
        **trainer_options: Any,
    ) -> dict | None:
        """Fit ``task`` in a new run folder (or the ``resume`` one) whose ``config.yaml``
        records ``config``, then adopt the best checkpoint.

        Returns the report's common head, or None in a DDP worker process.
        ``trainer_options`` add to the :class:`TrainerOptions` taken from ``config``.
        """
        if resume:
            run_dir, ckpt = Path(resume), resume_checkpoint(Path(resume))
        else:
            run_dir = new_run_dir(self.task_name, config.name or config.model, config.runs_root)
            ckpt = None
        write_yaml(run_dir / "config.yaml", asdict(config))
        meter = ThroughputMeter()
        options = TrainerOptions(
            epochs=config.epochs,
            device=config.device,
            devices=config.devices,
            deterministic=config.deterministic,
            time_minutes=config.time_minutes,
            patience=config.patience,
            quiet=quiet,
            **trainer_options,
        )
        trainer = build_trainer(run_dir, options, [meter])
        started = time.perf_counter()
        trainer.fit(task, datamodule=data, ckpt_path=ckpt, weights_only=True)
        if not trainer.is_global_zero:
            return None
        self._adopt_best(run_dir)
        return {
            "run_dir": str(run_dir),
            "best_checkpoint": str(self.checkpoint),
            "last_checkpoint": str(run_dir / "checkpoints" / "last.ckpt"),
            "model": config.model,
            "data": config.data,
            "epochs": trainer.current_epoch,
            "train_seconds": round(time.perf_counter() - started, 2),
            "train_images_per_s": round(meter.images_per_s, 1),
        }

    @staticmethod
    def _save_report(report: dict) -> dict:
        """Write the run's training curves and ``report.json``; return ``report``."""
        run_dir = Path(report["run_dir"])
        plot_training_curves(run_dir / "metrics.csv", run_dir / "plots" / "training_curves.png")
        write_json(run_dir / "report.json", report)
        return report

    def _adopt_best(self, run_dir: Path) -> None:
        """Take the best checkpoint of a finished run as this model's weights."""
        self.run_dir, self.checkpoint = run_dir, run_dir / "checkpoints" / "best.ckpt"
        self.task = self.restore(load_checkpoint(self.checkpoint), str(self.checkpoint))

    def _require_task(self) -> Any:
        if self.task is None:
            raise DeepImageError(
                f"this {self.kind} has no weights yet: call fit() or "
                f"{type(self).__name__}.load(path)."
            )
        return self.task

"""``Model``: one object that trains, evaluates, predicts, loads and resumes a model of any
registered task (``deepimage.tasks.registry``). ``Classifier`` and ``Detector`` are this
object with their task named.

Example:
    >>> from deepimage.api.model import Model
    >>> Model("small-cnn", task="classify").predict(["a.jpg"])
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: this classifier has no weights yet: call fit() or Model.load(path).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import deepimage.tasks  # noqa: F401  (registers the tasks)
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.engine.devices import precision_for, resolve_accelerator, torch_device
from deepimage.engine.module import CARD_KEY, TaskModule
from deepimage.engine.run_files import resolve_model_path, resume_checkpoint
from deepimage.engine.runs import check_run_name, new_run_dir
from deepimage.engine.settings import make_settings, read_config
from deepimage.engine.trainer import ThroughputMeter, TrainerOptions, build_trainer, stop_reason
from deepimage.errors import DeepImageError, ModelFileError
from deepimage.io.files import check_writable_folder, write_json, write_yaml
from deepimage.io.paths import shown_path
from deepimage.tasks.hooks import EvalData, TaskHooks, Training
from deepimage.tasks.predict import Predictions, run_predict
from deepimage.tasks.registry import TaskSpec, task_spec
from deepimage.viz.plots import plot_training_curves

M = TypeVar("M", bound="Model")

HOW_IT_RUNS = ("device", "precision", "devices", "num_nodes", "workers")
"""What ``resume`` may change: how a run runs, never what it learns."""


class Model:
    """A model of one task: ``fit`` on data, then ``evaluate`` / ``predict``; or ``load``."""

    task_name: ClassVar[str | None] = None  # set by Classifier, Detector, ...

    def __init__(self, model: str | None = None, *, task: str | None = None) -> None:
        name = task or self.task_name
        if not name:
            raise DeepImageError("Model needs task=, e.g. Model('small-cnn', task='classify').")
        self.spec: TaskSpec = task_spec(name)
        self.model = model or self.spec.train.__dataclass_fields__["model"].default
        self.task: TaskModule | None = None  # the trained LightningModule
        self.checkpoint: Path | None = None
        self.run_dir: Path | None = None

    @property
    def hooks(self) -> TaskHooks:
        return self.spec.hooks()

    # ----------------------------------------------------------------- training
    def fit(
        self,
        data: str | None = None,
        *,
        quiet: bool = False,
        resume: str | os.PathLike[str] | None = None,
        config: str | os.PathLike[str] | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Train on ``data`` and return the run's report (the ``train`` JSON document).

        ``settings`` are the fields of the task's train settings (``spec.train``);
        ``config`` replays a run's ``config.yaml`` (``settings`` override it); ``resume``
        names a run folder to continue from its ``last.ckpt``. Returns ``{}`` in DDP
        worker processes.
        """
        values = read_config(config) if config else {}
        values = {**values, "model": values.get("model", self.model), **settings}
        if data is not None:
            values["data"] = str(data)
        run = make_settings(self.spec.train, values, str(config or ""))
        if not run.data:
            raise DeepImageError(
                f"{self.spec.name} train needs data (--data), a --config or --resume RUN_DIR."
            )
        if run.patience and not self.spec.monitor:
            raise DeepImageError(
                f"--patience needs a validation figure; {self.spec.name} has none."
            )
        precision_for(resolve_accelerator(run.device), run.precision)  # before any data is read
        if not resume:
            check_run_name(run.name or run.model)
        self.model = run.model
        training = self.hooks.prepare_training(run)
        if run.fraction < 1 and "fraction" not in training.extras:  # else the task did
            kept = training.data.keep_fraction(run.fraction, run.seed)
            training.extras.update(train_images=kept, fraction=run.fraction)
        training.module.data_card = _data_card(training.settings)
        if training.settings.weights:
            training.module.load_initial_weights(Path(training.settings.weights))
        return self._train(training, resume, quiet)

    @classmethod
    def resume(
        cls: type[M],
        run_dir: str | os.PathLike[str],
        *,
        quiet: bool = False,
        task: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Continue a killed run from its ``last.ckpt`` with the settings in its
        ``config.yaml``; ``overrides`` may change only how it runs (``HOW_IT_RUNS``).
        ``task`` defaults to the class's, else the run's folder (``runs/<task>/<name>``)."""
        wrong = sorted(set(overrides) - set(HOW_IT_RUNS))
        if wrong:
            raise DeepImageError(
                f"--resume keeps the run's settings; {wrong[0]!r} cannot change (only "
                f"{', '.join(HOW_IT_RUNS)} can). Start a new run with --config instead."
            )
        config = Path(run_dir) / "config.yaml"
        if not config.is_file():
            raise DeepImageError(
                f"{run_dir}: not a run folder (no config.yaml). Pass a folder a `train` made."
            )
        trained = cls() if cls.task_name else cls(task=task or Path(run_dir).parent.name)
        return trained.fit(config=config, quiet=quiet, resume=run_dir, **overrides)

    def _train(self, training: Training, resume: Any, quiet: bool) -> dict[str, Any]:
        """Fit in a new run folder (or the ``resume`` one), adopt the best checkpoint,
        score the held-out splits and write ``report.json``."""
        run = training.settings
        if resume:
            run_dir, ckpt = Path(resume), resume_checkpoint(Path(resume), training.module)
        else:
            run_dir = new_run_dir(self.spec.name, run.name or run.model, run.runs_root)
            ckpt = None
        write_yaml(run_dir / "config.yaml", asdict(run))
        meter = ThroughputMeter()
        options = TrainerOptions(
            epochs=run.epochs,
            monitor=self.spec.monitor,
            mode=self.spec.mode,
            device=run.device,
            precision=run.precision,
            devices=run.devices,
            num_nodes=run.num_nodes,
            deterministic=run.deterministic,
            time_minutes=run.time_minutes,
            patience=run.patience,
            gradient_clip=run.gradient_clip,
            logger=run.logger,
            unused_parameters=training.module.ddp_unused_parameters,
            quiet=quiet,
        )
        trainer = build_trainer(run_dir, options, [meter])
        started = time.perf_counter()
        trainer.fit(training.module, datamodule=training.data, ckpt_path=ckpt, weights_only=True)
        if not trainer.is_global_zero:
            return {}
        seconds = time.perf_counter() - started
        self._adopt(run_dir / "checkpoints" / "best.ckpt")
        report: dict[str, Any] = {
            "task": self.spec.name,
            "model": run.model,
            "data": run.data,
            "out_dir": shown_path(run_dir),
            "best_checkpoint": shown_path(run_dir / "checkpoints" / "best.ckpt"),
            "last_checkpoint": shown_path(run_dir / "checkpoints" / "last.ckpt"),
            "epochs": trainer.current_epoch,
            "stopped_by": stop_reason(trainer, run.epochs),
            "train_seconds": round(seconds, 2),
            "train_images_per_s": round(meter.images_per_s or meter.all_images / seconds, 1),
            "precision": trainer.precision,
            "skipped_steps": training.module.skipped_steps,
            **training.extras,
            "skipped": training.skipped,
        }
        evaluate = {"data": run.data, "device": run.device}
        for split, data in training.scored.items():
            scoring = make_settings(self.spec.evaluate, {**evaluate, "split": split})
            report[split] = self._score(data, run_dir / "plots", scoring)
        plot_training_curves(run_dir / "metrics.csv", run_dir / "plots" / "training_curves.png")
        write_json(run_dir / "report.json", report)
        return report

    # --------------------------------------------------------------- evaluation
    def evaluate(
        self,
        data: str,
        split: str | None = None,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Score the model on a split of ``data`` (the ``evaluate`` JSON document).

        ``options`` are the fields of the task's evaluate settings (``spec.evaluate``).
        Data without splits of its own is split exactly as the model's run split it (the
        seed and fraction are in the checkpoint); class names are matched by name.
        """
        values = {"data": str(data), **options}
        if split is not None:
            values["split"] = split
        if out_dir is not None:
            values["out"] = str(out_dir)
        settings = make_settings(self.spec.evaluate, values)
        module = self._require_task()
        module.to(torch_device(settings.device))
        target = Path(settings.out) if settings.out else (self.run_dir or Path(".")) / "plots"
        check_writable_folder(target)  # before the data is read
        loaded = self.hooks.load_split(module, settings)
        return self._score(loaded, target, settings)

    def _score(self, data: EvalData, out_dir: Path, settings: Any) -> dict[str, Any]:
        module = self._require_task()
        module.to(torch_device(settings.device))
        scored = self.hooks.score(module, data, out_dir, settings.split, settings)
        return {
            "task": self.spec.name,
            "model": module.hparams.model,
            "checkpoint": shown_path(self.checkpoint) if self.checkpoint else None,
            "data": settings.data,
            "split": settings.split,
            **scored,
            "plots": [shown_path(path) for path in scored["plots"]],
            "out_dir": shown_path(out_dir),
            "skipped": data.skipped,
        }

    # ---------------------------------------------------------------- inference
    def predict(
        self, inputs: Any, *, on_image: Callable[[], None] | None = None, **options: Any
    ) -> Predictions:
        """Run the model on image files, folders, globs, NumPy arrays or PIL images.

        Returns the result rows (``[{path, ...}]``, ``path`` None for arrays) with the
        inputs left out as ``.skipped`` (``[{path, reason}]``; bad files raise
        :class:`~deepimage.errors.BadImageError` unless ``skip_bad=True``). ``options`` are
        the fields of the task's predict settings; ``on_image`` is called per input.
        """
        settings = make_settings(self.spec.predict, options)
        module = self._require_task()
        module.to(torch_device(settings.device))
        rows = run_predict(self.hooks, module, inputs, settings, on_image)
        writer = self.hooks.write_outputs
        rows.out_dir = (
            shown_path(out)
            if writer and (out := writer(module, [r for r in rows if "frame" not in r], settings))
            else None
        )
        return rows

    # -------------------------------------------------------------------- files
    @classmethod
    def load(cls: type[M], path: str | os.PathLike[str], *, task: str | None = None) -> M:
        """A trained model from a ``.ckpt`` file or a run folder (loaded safely). Without a
        task (``Model.load``), the checkpoint says which it is."""
        checkpoint_path = resolve_model_path(Path(path))
        checkpoint = load_checkpoint(checkpoint_path)
        name = task or cls.task_name or _card_task(checkpoint, checkpoint_path)
        trained = cls(task=name) if not cls.task_name else cls()
        trained._adopt(checkpoint_path, checkpoint)
        trained.model = trained._require_task().hparams.model
        return trained

    def _adopt(self, path: Path, checkpoint: dict[str, Any] | None = None) -> None:
        """Take the checkpoint at ``path`` as this model's weights."""
        checkpoint = checkpoint if checkpoint is not None else load_checkpoint(path)
        self.task = self.hooks.module.from_checkpoint(checkpoint, str(path))
        self.checkpoint = path
        self.run_dir = path.parent.parent if path.parent.name == "checkpoints" else None

    def _require_task(self) -> TaskModule:
        if self.task is None:
            raise DeepImageError(
                f"this {self.spec.noun} has no weights yet: call fit() or "
                f"{type(self).__name__}.load(path)."
            )
        return self.task


def _data_card(settings: Any) -> dict[str, Any]:
    """How the run read and split its data: saved in every checkpoint, so that a model
    file moved out of its run folder is evaluated on exactly the same images."""
    names = {item.name for item in fields(settings)}
    return {key: getattr(settings, key) for key in ("data", "seed", "val_fraction") if key in names}


def _card_task(checkpoint: dict[str, Any], path: Path) -> str:
    card = checkpoint.get(CARD_KEY)
    if not isinstance(card, dict) or not card.get("task"):
        raise ModelFileError(
            f"{path}: this checkpoint does not say its task (written before deepimage 0.2?); "
            "load it with Classifier.load or Detector.load."
        )
    return str(card["task"])

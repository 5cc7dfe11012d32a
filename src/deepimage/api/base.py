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
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from deepimage.api.run_files import resolve_model_path, run_config
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.errors import DeepImageError

M = TypeVar("M", bound="TrainedModel")


class TrainedModel:
    """A model name, and once trained or loaded its task, checkpoint and run folder.

    Subclasses set ``kind`` (the noun in messages) and ``restore`` (their task module's
    ``task_from_checkpoint``) and implement ``fit(data, *, quiet, resume, **settings)``.
    """

    kind: ClassVar[str] = "model"
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

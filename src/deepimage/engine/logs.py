"""Experiment logs: ``metrics.csv`` with one row per epoch (train and validation columns
side by side), the epoch-mean training loss, and TensorBoard event files on request.

Lightning's CSV logger writes a row whenever something is logged, so train and validation
values sit on separate rows and the training loss appears every 50 steps. Here each
epoch's values are merged into one row, and the whole file is rewritten atomically
(a run has at most thousands of rows). A value logged as ``NAME_epoch`` (an epoch mean) is
written as ``NAME``, in place of the last step's value.

Example:
    >>> import tempfile, pathlib
    >>> log = EpochCSVLogger(tempfile.mkdtemp())
    >>> log.log_metrics({"train/loss": 0.9, "epoch": 0}, step=49)
    >>> log.log_metrics({"val/acc": 0.7, "epoch": 0}, step=99)
    >>> log.log_metrics({"train/loss_epoch": 0.8, "epoch": 0}, step=99)
    >>> print(log.path.read_text().strip())
    epoch,step,train/loss,val/acc
    0,99,0.8,0.7
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from deepimage.io.files import write_text, write_yaml


class EpochCSVLogger(Logger):
    """``run_dir/metrics.csv``, one row per epoch; a resumed run keeps the earlier rows."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "metrics.csv"
        self.rows: dict[int, dict[str, Any]] = {}
        self._epoch_means: dict[int, set[str]] = {}
        if self.path.is_file():
            with open(self.path, newline="") as handle:
                for row in csv.DictReader(handle):
                    kept = {key: value for key, value in row.items() if value not in ("", None)}
                    self.rows[int(row["epoch"])] = kept

    @property
    def name(self) -> str:
        return "csv"

    @property
    def version(self) -> str:
        return ""

    @property
    def save_dir(self) -> str:
        return str(self.run_dir)

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        write_yaml(self.run_dir / "hparams.yaml", _plain(dict(params or {})))

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        epoch = int(metrics.get("epoch", 0))
        row = self.rows.setdefault(epoch, {"epoch": epoch})
        means = self._epoch_means.setdefault(epoch, set())
        if step is not None:
            row["step"] = step
        for key, value in metrics.items():
            if key == "epoch":
                continue
            value = float(value.item() if isinstance(value, torch.Tensor) else value)
            if key.endswith("_epoch"):
                key = key.removesuffix("_epoch")
                means.add(key)
            elif key in means:
                continue  # the epoch's mean stands
            row[key] = value
        self._write()

    def _write(self) -> None:
        seen = {key: None for row in self.rows.values() for key in row}  # first-seen order
        columns = sorted(seen, key=_column_rank)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows[epoch] for epoch in sorted(self.rows))
        write_text(self.path, out.getvalue())


def _column_rank(key: str) -> int:
    """epoch, step, the train columns, the validation ones, then the rest."""
    prefixes = ("train/", "val/")
    if key in ("epoch", "step"):
        return ("epoch", "step").index(key)
    return 2 + next((i for i, p in enumerate(prefixes) if key.startswith(p)), len(prefixes))


def _plain(value: Any) -> Any:
    """Hyperparameters as YAML's plain types (tuples as lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class EpochLoss(Callback):
    """Logs ``train/loss_epoch``, the mean of the epoch's training losses: summed on the
    device step by step (no synchronisation), read once at the epoch's end."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.steps = 0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.total, self.steps = None, 0

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            loss = loss.detach().float()
            self.total = loss if self.total is None else self.total + loss
            self.steps += 1

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.total is not None:
            pl_module.log("train/loss_epoch", self.total / self.steps, sync_dist=True)


def make_loggers(run_dir: Path, kind: str = "csv") -> list[Logger]:
    """The run's loggers: metrics.csv always, and TensorBoard event files in
    ``run_dir/tensorboard/`` with ``kind="tensorboard"``."""
    loggers: list[Logger] = [EpochCSVLogger(run_dir)]
    if kind == "tensorboard":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=run_dir, name="tensorboard", version=""))
    return loggers

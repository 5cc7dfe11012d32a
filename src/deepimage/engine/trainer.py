"""The Lightning Trainer every task trains with: run-folder checkpoints and metrics,
early stopping, a time budget, gradient clipping, a rich progress bar (on stderr), device,
DDP and multi-node selection.

Example:
    >>> import tempfile
    >>> trainer = build_trainer(tempfile.mkdtemp(), TrainerOptions(epochs=1, quiet=True))
    >>> trainer.max_epochs
    1
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    RichProgressBar,
    Timer,
)

from deepimage.engine.checkpoints import AtomicCheckpointIO
from deepimage.engine.devices import precision_for, resolve_accelerator
from deepimage.engine.logs import EpochLoss, make_loggers
from deepimage.engine.module import step_is_logged

for _name in ("lightning.pytorch", "lightning.fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")
warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")


@dataclass
class TrainerOptions:
    """How to train, independent of the task."""

    epochs: int = 10
    monitor: str | None = None  # the metric that picks best.ckpt; None: the latest epoch
    mode: str = "max"
    device: str = "auto"
    precision: str = "auto"  # auto, 32, bf16 or 16 (see engine.devices.precision_for)
    devices: int = 1
    num_nodes: int = 1
    deterministic: bool = False
    time_minutes: float | None = None
    patience: int | None = None
    quiet: bool = False
    gradient_clip: float | None = None  # max gradient norm
    logger: str = "csv"  # or "tensorboard": event files beside metrics.csv
    unused_parameters: bool = False  # DDP: some steps leave parameters out (a GAN's)


class ThroughputMeter(Callback):
    """Steady-state training images per second: skips the run's first batches, each
    epoch's first (the loader starting) and the time spent validating; shows the live
    figure on the progress bar."""

    WARMUP_BATCHES = 5

    def __init__(self) -> None:
        self.images = 0
        self.seconds = 0.0
        self.all_images = 0  # every batch's, for runs too short to reach a steady state
        self.batches = 0
        self._last: float | None = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = None

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        now = time.perf_counter()
        self.batches += 1
        self.all_images += pl_module.batch_size(batch) * trainer.world_size
        if self.batches > self.WARMUP_BATCHES and self._last is not None:
            self.images += pl_module.batch_size(batch) * trainer.world_size
            self.seconds += now - self._last
            if step_is_logged(trainer):
                pl_module.log("img/s", self.images_per_s, prog_bar=True, rank_zero_only=True)
        self._last = now

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


def stop_reason(trainer: pl.Trainer, epochs: int) -> str:
    """Why training ended: "epochs" (all of them), "patience" (early stopping) or "time"
    (the --time budget)."""
    if trainer.current_epoch >= epochs:
        return "epochs"
    if any(isinstance(c, EarlyStopping) and c.stopped_epoch for c in trainer.callbacks):
        return "patience"
    return "time" if any(isinstance(c, Timer) for c in trainer.callbacks) else "interrupted"


def build_trainer(
    run_dir: str | Path, options: TrainerOptions, callbacks: list[Callback] | None = None
) -> pl.Trainer:
    """A Trainer writing ``metrics.csv`` and ``checkpoints/{best,last}.ckpt`` into ``run_dir``.

    ``best.ckpt`` holds the weights and hyperparameters of the best epoch, ``last.ckpt``
    the full training state of the latest one (optimizer, schedule, callbacks) for resuming.
    """
    run_dir = Path(run_dir)
    accelerator = resolve_accelerator(options.device)
    best = ModelCheckpoint(  # what load/predict/evaluate use: weights only, no optimizer state
        dirpath=run_dir / "checkpoints",
        filename="best",
        monitor=options.monitor,
        mode=options.mode,
        save_weights_only=True,
        enable_version_counter=False,
    )
    last = ModelCheckpoint(  # everything resume needs, replaced every epoch (no monitor)
        dirpath=run_dir / "checkpoints", filename="last", enable_version_counter=False
    )
    all_callbacks: list[Callback] = [best, last, EpochLoss(), *(callbacks or [])]
    if options.patience and options.monitor:
        all_callbacks.append(
            EarlyStopping(options.monitor, patience=options.patience, mode=options.mode)
        )
    if not options.quiet:
        all_callbacks.append(RichProgressBar(leave=True, console_kwargs={"stderr": True}))
    return pl.Trainer(
        default_root_dir=run_dir,
        max_epochs=options.epochs,
        max_time={"minutes": options.time_minutes} if options.time_minutes else None,
        accelerator=accelerator,
        devices=options.devices,
        num_nodes=options.num_nodes,
        strategy=_strategy(options),
        precision=precision_for(accelerator, options.precision),
        deterministic=options.deterministic,
        gradient_clip_val=options.gradient_clip,
        callbacks=all_callbacks,
        logger=make_loggers(run_dir, options.logger),
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=not options.quiet,
        enable_model_summary=False,
        use_distributed_sampler=False,
        log_every_n_steps=50,
        num_sanity_val_steps=0,
    )


def _strategy(options: TrainerOptions) -> str:
    if options.devices * options.num_nodes == 1:
        return "auto"
    return "ddp_find_unused_parameters_true" if options.unused_parameters else "ddp"

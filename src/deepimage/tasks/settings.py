"""The settings every task shares, per verb: what a training run is made from
(:class:`TrainSettings`, saved as the run's ``config.yaml``), and the options of
``evaluate`` and ``predict``. Each task subclasses them, adding its own fields and its own
defaults; the command line is generated from the result. No torch is imported here, so
``deepimage --help`` stays fast.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> make_settings(TrainSettings, {"data": "digits", "model": "small-cnn"}).val_fraction
    0.1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepimage.engine.settings import setting
from deepimage.transforms.registry import augmentation_names

OPTIMIZERS = ("adamw", "sgd")
MAX_IMG_SIZE = 4096
"""The largest ``--img-size`` (a checkpoint's too): 4096 x 4096 x 3 floats are 200 MB an image."""
MAX_SEED = 2**32 - 1
SCHEDULES = ("cosine", "onecycle", "none")
PRECISIONS = ("auto", "32", "bf16", "16")
LOGGERS = ("csv", "tensorboard")  # metrics.csv is always written: the plots read it


def augmentation_choices(task: str) -> Callable[[], list[str]]:
    """The ``--augment`` choices of ``task``, read from the registry when checked."""
    return lambda: augmentation_names(task)


@dataclass
class TrainSettings:
    """What every training run has; a task's subclass adds fields and sets its defaults."""

    data: str = setting(
        "", "Data set: a built-in name (see the task's docs), a folder or a file.", short="-d"
    )
    model: str = setting("", "Model name (see `deepimage TASK models`).", short="-m")
    epochs: int = setting(10, "Most epochs to train.", low=1, short="-e")
    batch_size: int = setting(64, "Images per training batch.", low=1, short="-b")
    lr: float = setting(1e-3, "Peak learning rate.", low=0.0)
    optimizer: str = setting("adamw", "adamw or sgd (Nesterov momentum 0.9).", choices=OPTIMIZERS)
    schedule: str = setting(
        "cosine",
        "cosine (after the warm-up, ending with --epochs or --time), onecycle or none.",
        choices=SCHEDULES,
    )
    weight_decay: float = setting(5e-4, "Weight decay (AdamW's decoupled kind).", low=0.0)
    warmup_steps: int = setting(0, "Steps of linear learning-rate warm-up.", low=0)
    ema_decay: float = setting(
        0.0,
        "Keep an exponential moving average of the weights with this decay (0: off); "
        "validation, best.ckpt and inference then use the average.",
        low=0.0,
        high=0.99999,
    )
    gradient_clip: float | None = setting(
        None, "Clip the gradients' total norm to this (default: no clipping).", low=0.0
    )
    augment: str = setting("none", "Augmentation preset (see `deepimage augment list`).")
    val_fraction: float | None = setting(
        0.1, "Share of the images held out as 'val' when the data has no val split.", low=0.0
    )
    pretrained: bool = setting(False, "Start from torchvision's weights (needs internet).")
    weights: str | None = setting(None, "Start from a state dict or checkpoint file.")
    seed: int = setting(
        0, "Seed of the split, the batch order, augmentation and the weights.", low=0, high=MAX_SEED
    )
    deterministic: bool = setting(False, "Deterministic kernels: the same numbers on every run.")
    device: str = setting("auto", "auto, cpu, cuda or mps (checked by engine.devices).")
    precision: str = setting(
        "auto",
        "Training arithmetic: auto (bf16 mixed on GPUs and on CPUs with native bf16, else "
        "float32), 32, bf16 or 16 (CUDA only). Weights stay float32.",
        choices=PRECISIONS,
    )
    logger: str = setting(
        "csv",
        "csv: metrics.csv, one row per epoch; tensorboard: also TensorBoard event files in "
        "the run's tensorboard/ folder (tensorboard --logdir runs/).",
        choices=LOGGERS,
    )
    devices: int = setting(1, "Processes per node for DDP (CPU: gloo).", low=1, high=64)
    num_nodes: int = setting(
        1, "Nodes for multi-node DDP, launched by torchrun or SLURM (see README).", low=1
    )
    workers: int = setting(0, "Data loading processes.", low=0, high=64)
    patience: int | None = setting(
        None, "Stop after this many epochs without a better validation figure.", low=1
    )
    time_minutes: float | None = setting(
        None,
        "Stop after this many minutes of training (the schedule fits itself).",
        low=0.0,
        flag="--time",
    )
    skip_bad: bool = setting(False, "Skip unreadable inputs and list them in the report.")
    fraction: float = setting(
        1.0,
        "Train on this seeded share of the training images (quick experiments); "
        "validation and test stay whole.",
        low=0.001,
        high=1.0,
    )
    name: str | None = setting(None, "Run name (default: the model name).")
    runs_root: str = setting("runs", "Folder that holds run folders.", flag="--runs")


def engine_arguments(settings: TrainSettings) -> dict[str, Any]:
    """The training recipe a run's settings give the engine's ``TaskModule`` (every task
    module takes these arguments), written once for all tasks.

    Example:
        >>> from deepimage.engine.settings import make_settings
        >>> run = make_settings(TrainSettings, {"data": "d", "time_minutes": 2})
        >>> engine_arguments(run)["time_budget_s"]
        120.0
    """
    return {
        "lr": settings.lr,
        "optimizer": settings.optimizer,
        "schedule": settings.schedule,
        "weight_decay": settings.weight_decay,
        "warmup_steps": settings.warmup_steps,
        "ema_decay": settings.ema_decay,
        "time_budget_s": settings.time_minutes * 60 if settings.time_minutes else None,
        "pretrained": settings.pretrained,
    }


@dataclass
class EvaluateSettings:
    """The options of ``evaluate`` every task has."""

    data: str = setting("", "The data to score the model on.", short="-d")
    split: str = setting("test", "The split to score: train, val or test.")
    out: str | None = setting(None, "Folder for plots (default: the run's plots/).", short="-o")
    batch_size: int = setting(64, "Images per batch.", low=1, short="-b")
    device: str = setting("auto", "auto, cpu, cuda or mps (checked by engine.devices).")
    skip_bad: bool = setting(False, "Skip unreadable inputs and list them.")
    class_map: str | None = setting(
        None,
        "When the data names its classes differently from the model: a YAML/JSON file or "
        "'data=model,...' pairs mapping data class names to the model's.",
    )


@dataclass
class PredictSettings:
    """The options of ``predict`` every task has."""

    batch_size: int = setting(64, "Images per batch.", low=1, short="-b")
    device: str = setting("auto", "auto, cpu, cuda or mps (checked by engine.devices).")
    skip_bad: bool = setting(False, "Leave out unreadable images (listed as skipped).")
    vid_stride: int = setting(
        1, "Videos (.mp4, .avi, .mov, .mkv, .webm): predict every N-th frame, a row each.", low=1
    )

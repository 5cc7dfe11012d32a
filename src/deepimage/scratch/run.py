"""``deepimage scratch train`` as a function: data, model and optimizer from the settings,
the training loop with a progress bar, and a run folder (``runs/scratch/<name>/``) holding
config.yaml, metrics.csv (one row per epoch), checkpoints/model.npz, plots (training curves,
confusion matrix) and report.json.

Example:
    >>> import tempfile
    >>> report = train_run(ScratchTrain(data="digits", epochs=1, runs=tempfile.mkdtemp()), quiet=True)
    >>> report["task"], report["model"], 0.5 < report["test"]["metrics"]["top1"] <= 1
    ('scratch', 'small-cnn', True)
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.engine.runs import new_run_dir
from deepimage.engine.settings import setting
from deepimage.errors import DeepImageError
from deepimage.io.files import write_json, write_text, write_yaml
from deepimage.scratch.data import ArrayData, load_arrays
from deepimage.scratch.models import MODELS, build_model, save_model
from deepimage.scratch.optim import OPTIMIZERS, SCHEDULES
from deepimage.scratch.train import evaluate, fit


@dataclass
class ScratchTrain:
    """``scratch train`` options; saved as the run's ``config.yaml``."""

    data: str = setting(
        "", "Built-in name (digits, fashion-mnist, mnist), image folder or CSV.", short="-d"
    )
    model: str = setting(
        "small-cnn", "NumPy model: small-cnn, mlp or rnn.", choices=tuple(MODELS), short="-m"
    )
    epochs: int = setting(
        20,
        "Epochs to train (small-cnn on digits: test top1 0.974 after 10, 0.989 after 20).",
        low=1,
        high=100_000,
        short="-e",
    )
    batch_size: int = setting(64, "Images per training batch.", low=1, high=65_536, short="-b")
    optimizer: str = setting("adam", "adam, momentum (0.9) or sgd.", choices=tuple(OPTIMIZERS))
    lr: float = setting(2e-3, "Peak learning rate.", low=0.0, high=10.0)
    schedule: str = setting(
        "cosine",
        "Learning-rate schedule after the warm-up: cosine, step or constant.",
        choices=tuple(SCHEDULES),
    )
    warmup_steps: int = setting(0, "Steps of linear learning-rate warm-up.", low=0)
    weight_decay: float = setting(0.0, "L2 weight decay.", low=0.0, high=1.0)
    img_size: int | None = setting(
        None,
        "Input side in pixels (default: the data's own, at least the model's).",
        low=1,
        high=1024,
    )
    val_fraction: float | None = setting(
        None,
        "Share held out for validation (and as much for test) when the data has no such "
        "split. Default: 0.15 for digits, 0.1 otherwise.",
        low=0.0,
        high=0.5,
    )
    seed: int = setting(0, "Seed of the initial weights, the split and the batch order.")
    skip_bad: bool = setting(False, "Skip unreadable images (listed in the report).")
    download: bool = setting(False, "Download a missing built-in data set.")
    export_torch: str = setting(
        "", "Also write the trained small-cnn as a classify checkpoint (.ckpt) here."
    )
    name: str = setting("", "Run folder name (default: the model's).")
    runs: str = setting("runs", "Folder that holds the run folders.")


def train_run(settings: ScratchTrain, quiet: bool = False) -> dict[str, Any]:
    """Train as ``settings`` say, write the run folder and return its report."""
    if not settings.data:
        raise DeepImageError(
            "scratch train needs --data: digits, fashion-mnist, a folder or a CSV."
        )
    if settings.export_torch and settings.model != "small-cnn":
        raise DeepImageError(
            "--export-torch needs --model small-cnn: the only one with a classify twin."
        )
    from rich.console import Console
    from rich.progress import Progress

    info = MODELS[settings.model]
    with Progress(console=Console(stderr=True), disable=quiet, transient=True) as bar:
        reading = bar.add_task("decoding images", total=None)
        data = load_arrays(
            settings.data,
            info.min_size,
            settings.img_size,
            settings.seed,
            settings.val_fraction,
            settings.skip_bad,
            settings.download,
            on_file=lambda: bar.advance(reading),
            model=settings.model,
        )
        bar.remove_task(reading)
        model = build_model(
            settings.model, len(data.classes), data.channels, data.img_size, settings.seed
        )
        run_dir = new_run_dir("scratch", settings.name or settings.model, settings.runs)
        write_yaml(run_dir / "config.yaml", asdict(settings))
        optimizer = OPTIMIZERS[settings.optimizer](
            model.layers, lr=settings.lr, weight_decay=settings.weight_decay
        )
        train = data.splits["train"]
        batches = bar.add_task("training", total=settings.epochs * len(train[1]))
        rows: list[dict[str, float]] = []

        def epoch_done(row: dict[str, float]) -> None:
            rows.append(row)
            _write_metrics(run_dir / "metrics.csv", rows)
            shown = f"epoch {row['epoch'] + 1}/{settings.epochs}: loss {row['train/loss']:.4f}"
            bar.update(
                batches,
                description=shown + (f", val acc {row['val/acc']:.4f}" if "val/acc" in row else ""),
            )

        started = time.perf_counter()
        fit(
            model,
            optimizer,
            train,
            data.splits.get("val"),
            data.mean,
            data.std,
            settings.epochs,
            settings.batch_size,
            settings.schedule,
            settings.warmup_steps,
            settings.seed,
            on_batch=lambda count: bar.advance(batches, count),
            on_epoch=epoch_done,
        )
        seconds = time.perf_counter() - started
    meta = {"classes": data.classes, "mean": data.mean, "std": data.std}
    model_file = run_dir / "checkpoints" / "model.npz"
    save_model(model, model_file, **meta, data=_data_card(settings))
    report = {
        "task": "scratch",
        "model": settings.model,
        "data": settings.data,
        "out_dir": str(run_dir.resolve()),
        "model_file": str(model_file.resolve()),
        "epochs": settings.epochs,
        "train_seconds": round(seconds, 2),
        "train_images_per_s": round(settings.epochs * len(train[1]) / max(seconds, 1e-9), 1),
        "img_size": data.img_size,
        "train_images": len(train[1]),
        "parameters": model.parameter_count(),
        "skipped": data.skipped,
        "history": rows,
    }
    plots = [run_dir / "plots" / "training_curves.png"]
    from deepimage.viz.plots import plot_confusion_matrix, plot_training_curves

    plot_training_curves(run_dir / "metrics.csv", plots[0])
    for split in ("val", "test"):
        if split in data.splits:
            report[split] = _score(model, data, split, run_dir, plot_confusion_matrix)
            plots.append(Path(report[split]["plot"]))
    report["plots"] = [str(path.resolve()) for path in plots]
    if settings.export_torch:
        from deepimage.scratch.export import export_torch

        exported = export_torch(model, meta, settings.export_torch, _data_card(settings))
        report["exported"] = str(exported.resolve())
    write_json(run_dir / "report.json", report)
    return report


def _data_card(settings: ScratchTrain) -> dict[str, Any]:
    """How the data was read and split: what ``classify evaluate`` needs to score the same
    images from an exported checkpoint."""
    return {"data": settings.data, "seed": settings.seed, "val_fraction": settings.val_fraction}


def _score(model: Any, data: ArrayData, split: str, run_dir: Path, plot: Any) -> dict[str, Any]:
    images, labels = data.splits[split]
    scores = evaluate(model, images, labels, data.mean, data.std)
    k = len(data.classes)
    matrix = np.bincount(labels * k + scores["predictions"], minlength=k * k).reshape(k, k)
    path = run_dir / "plots" / f"confusion_{split}.png"
    plot(matrix.tolist(), data.classes, path)
    return {
        "split": split,
        "images": len(labels),
        "metrics": {"top1": scores["top1"], "loss": scores["loss"]},
        "confusion_matrix": matrix.tolist(),
        "plot": str(path.resolve()),
    }


def _write_metrics(path: Path, rows: list[dict[str, float]]) -> None:
    """metrics.csv, one row per epoch, rewritten whole after each epoch."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[-1]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, out.getvalue())

"""``deepimage classify``: models, train, evaluate, predict."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from deepimage.cli.output import (
    DEVICE,
    DEVICES,
    JSON,
    QUIET,
    console,
    emit,
    files_table,
    plot_lines,
    print_models,
    print_skipped,
)
from deepimage.errors import DeepImageError

app = typer.Typer(help="Train, evaluate and run image classifiers.", no_args_is_help=True)

DOWNLOAD = typer.Option(
    False, "--download", help="Download a missing built-in data set (fashion-mnist, mnist)."
)


@app.command("models")
def models(as_json: bool = JSON) -> None:
    """List the classification models with their sizes."""
    print_models("classify", {"num_classes": 10, "in_channels": 1, "img_size": 28}, as_json)


@app.command("train")
def train(
    data: str = typer.Option(
        "",
        "--data",
        "-d",
        help="Built-in name (fashion-mnist, mnist, digits), image folder or CSV.",
    ),
    model: str = typer.Option(
        "small-cnn", "--model", "-m", help="Model name (see `deepimage classify models`)."
    ),
    epochs: int = typer.Option(10, "--epochs", "-e", min=1, help="Training epochs."),
    batch_size: int = typer.Option(64, "--batch-size", "-b", min=1),
    img_size: int | None = typer.Option(
        None, "--img-size", help="Input side in pixels (default: the data's own)."
    ),
    lr: float = typer.Option(1e-3, "--lr", help="Peak learning rate."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw or sgd."),
    schedule: str = typer.Option("cosine", "--schedule", help="cosine, onecycle or none."),
    weight_decay: float = typer.Option(5e-4, "--weight-decay"),
    label_smoothing: float = typer.Option(0.0, "--label-smoothing", min=0.0, max=0.5),
    augment: str = typer.Option(
        "none", "--augment", help="none, light (shifts) or strong (+zoom, rotate, flip, erase)."
    ),
    pretrained: bool = typer.Option(
        False, "--pretrained", help="Start from torchvision's weights (needs internet)."
    ),
    weights: Path | None = typer.Option(
        None, "--weights", help="Start from a state dict or checkpoint file."
    ),
    name: str | None = typer.Option(None, "--name", help="Run name (default: the model name)."),
    runs_root: str = typer.Option("runs", "--runs", help="Folder that holds run folders."),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue the run in this run folder."
    ),
    seed: int = typer.Option(0, "--seed"),
    deterministic: bool = typer.Option(False, "--deterministic", help="Same numbers on every run."),
    device: str = DEVICE,
    devices: int = DEVICES,
    workers: int = typer.Option(0, "--workers", min=0, help="Data loading processes."),
    patience: int | None = typer.Option(
        None, "--patience", help="Stop after this many epochs without improvement."
    ),
    time_minutes: float | None = typer.Option(
        None, "--time", help="Stop after this many minutes of training."
    ),
    val_fraction: float | None = typer.Option(
        None,
        "--val-fraction",
        min=0.0,
        max=0.5,
        help="Share held out for validation when the data has no val split (and as much "
        "for test when it has no test split). Default: 0.15 for digits, 0.1 otherwise.",
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip unreadable images and list them in the report."
    ),
    download: bool = DOWNLOAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Train a classifier; writes a run folder with checkpoints, metrics, plots and a report."""
    from deepimage.api.classifier import Classifier

    if not data and not resume:
        raise DeepImageError(
            "classify train needs --data (a built-in name, image folder or CSV) or --resume RUN_DIR."
        )
    settings = dict(
        epochs=epochs,
        batch_size=batch_size,
        img_size=img_size,
        lr=lr,
        optimizer=optimizer,
        schedule=schedule,
        weight_decay=weight_decay,
        label_smoothing=label_smoothing,
        augment=augment,
        pretrained=pretrained,
        weights=str(weights) if weights else None,
        name=name,
        runs_root=runs_root,
        seed=seed,
        deterministic=deterministic,
        device=device,
        devices=devices,
        workers=workers,
        patience=patience,
        time_minutes=time_minutes,
        val_fraction=val_fraction,
        skip_bad=skip_bad,
        download=download,
    )
    if resume:
        report = Classifier.resume(resume, quiet=quiet, device=device, workers=workers)
    else:
        report = Classifier(model).fit(data, quiet=quiet, **settings)
    if not report:  # a DDP worker process
        return
    emit(report, as_json, _train_summary(report))


def _train_summary(report: dict) -> str:
    val = report["val"]
    lines = [
        f"[bold]trained[/] {report['model']} on {report['data']} for {report['epochs']} epochs "
        f"({report['train_images_per_s']:.0f} images/s)",
        f"val top1 {val['top1']:.4f}",
    ]
    if "test" in report:
        lines.append(f"test top1 {report['test']['top1']:.4f}  top5 {report['test']['top5']:.4f}")
    if report["bad_files"]:
        lines.append(f"skipped {len(report['bad_files'])} bad files (listed in report.json)")
    lines.append(f"run folder: {report['run_dir']}  (plots in {report['run_dir']}/plots)")
    return "\n".join(lines)


@app.command("evaluate")
def evaluate(
    model: Path = typer.Option(..., "--model", "-m", help="A .ckpt file or a run folder."),
    data: str = typer.Option(..., "--data", "-d", help="Built-in name, image folder or CSV."),
    split: str = typer.Option("test", "--split", help="train, val or test."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for plots (default: the run's plots/)."
    ),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1),
    device: str = DEVICE,
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip unreadable images and list them."
    ),
    download: bool = DOWNLOAD,
    as_json: bool = JSON,
) -> None:
    """Top-1/top-5, per-class precision/recall/F1, confusion matrix, calibration error."""
    from deepimage.api.classifier import Classifier

    result = Classifier.load(model).evaluate(
        data,
        split,
        out_dir=str(out) if out else None,
        batch_size=batch_size,
        device=device,
        skip_bad=skip_bad,
        download=download,
    )
    table = Table("class", "precision", "recall", "f1", "support", title=f"{data} [{split}]")
    for row in result["per_class"]:
        table.add_row(
            row["class"],
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            str(row["support"]),
        )
    if not as_json:
        console.print(table)
    emit(
        result,
        as_json,
        f"top1 {result['top1']:.4f}  top5 {result['top5']:.4f}  ECE {result['ece']:.4f}\n"
        + plot_lines(result["plots"]),
    )


@app.command("predict")
def predict(
    images: list[str] = typer.Argument(..., help="Image files, folders or glob patterns."),
    model: Path = typer.Option(..., "--model", "-m", help="A .ckpt file or a run folder."),
    top_k: int = typer.Option(5, "--top-k", "-k", min=1),
    batch_size: int = typer.Option(64, "--batch-size", "-b", min=1),
    device: str = DEVICE,
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Leave out unreadable images (listed on stderr)."
    ),
    as_json: bool = JSON,
) -> None:
    """Label images: prints a JSON array of {path, label, score, top} with --json."""
    from deepimage.api.classifier import Classifier

    classifier = Classifier.load(model)
    results = classifier.predict(
        images, top_k=top_k, batch_size=batch_size, device=device, skip_bad=skip_bad
    )
    print_skipped(classifier.skipped, shown=None)
    if as_json:
        emit(results, True)
        return
    table, shown = files_table([row["path"] for row in results], "image", "label", "score")
    for row, path in zip(results, shown, strict=True):
        table.add_row(path, row["label"], f"{row['score']:.3f}")
    console.print(table)

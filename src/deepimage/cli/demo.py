"""``deepimage demo``: the whole classification workflow on data that ships with scikit-learn.

Training progress and the banner go to stderr; the summary (test accuracy, the labelled
samples, the run folder and its plots) to stdout, or with ``--json`` the training report
plus the samples' predictions under ``results``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from deepimage.cli.output import JSON, QUIET, console, emit, plot_lines
from deepimage.data.classification import load_classification_data
from deepimage.io import write_image


def demo(
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Training epochs."),
    runs_root: str = typer.Option("runs", "--runs", help="Folder that holds run folders."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Train small-cnn on scikit-learn's 8x8 digits, evaluate it and label a few images.

    Example: deepimage demo --epochs 5 --json
    """
    from deepimage.api.classifier import Classifier

    console.print("[bold]deepimage demo[/]: small-cnn on scikit-learn's handwritten digits")
    clf = Classifier("small-cnn")
    report = clf.fit(
        "digits",
        epochs=epochs,
        img_size=16,
        name="demo",
        runs_root=runs_root,
        quiet=quiet,
        device="cpu",
    )
    run_dir = Path(report["out_dir"])
    samples = _write_samples(run_dir / "samples")
    predictions = clf.predict([str(p) for p in samples], top_k=3)
    lines = [
        f"test top1 {report['test']['metrics']['top1']:.4f} on {report['test']['images']} images "
        f"({report['train_images_per_s']:.0f} training images/s)",
        *(f"  {Path(p['path']).name}: {p['label']} ({p['score']:.2f})" for p in predictions),
        f"run folder: {run_dir}",
        plot_lines(sorted((run_dir / "plots").glob("*.png"))),
    ]
    emit({**report, "results": list(predictions)}, as_json, "\n".join(lines))


def _write_samples(folder: Path, count: int = 6) -> list[Path]:
    """Save a few test digits as PNG files, named after their true label."""
    test = load_classification_data("digits").splits["test"]
    paths = []
    for index in range(count):
        path = folder / f"digit{index}_true{test.labels[index]}.png"
        write_image(path, test.images[index].squeeze(-1))
        paths.append(path)
    return paths

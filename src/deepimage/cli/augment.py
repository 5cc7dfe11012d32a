"""``deepimage augment``: look at what an augmentation pipeline does to a data set."""

from __future__ import annotations

from pathlib import Path

import typer

from deepimage.api.augment_preview import preview as write_preview
from deepimage.cli.output import JSON, emit
from deepimage.transforms.presets import PRESETS, build_pipeline, load_pipeline

app = typer.Typer(help="Augmentation pipelines.", no_args_is_help=True)


@app.command("preview")
def preview(
    data: str = typer.Option(
        ...,
        "--data",
        "-d",
        help="Data set name or folder: VOC (boxes), image + mask folders, or classification.",
    ),
    count: int = typer.Option(16, "-n", "--count", min=1, max=256, help="Samples in the grid."),
    preset: str | None = typer.Option(
        None, "--preset", "-p", help=f"Preset: {', '.join(PRESETS)} (default: by data kind)."
    ),
    pipeline: Path | None = typer.Option(
        None, "--pipeline", help="YAML file: a list of {name: ..., params} steps."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same picture)."),
    out: Path = typer.Option(Path("augment-preview.png"), "--out", "-o", help="PNG file to write."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Leave unreadable images out instead of stopping."
    ),
    as_json: bool = JSON,
) -> None:
    """Write a grid of augmented samples with their boxes and masks drawn."""
    if preset and pipeline:
        raise typer.BadParameter("give --preset or --pipeline, not both")
    chosen = load_pipeline(pipeline) if pipeline else build_pipeline(preset) if preset else None
    report = write_preview(data, out, count=count, pipeline=chosen, seed=seed, skip_bad=skip_bad)
    emit(report, as_json, f"wrote {report['samples']} {report['kind']} samples to {out}")

"""``deepimage augment``: the augmentation registry, and what an augmentation does to data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table
from rich.text import Text

from deepimage.cli.groups import GROUP_HELP
from deepimage.cli.output import JSON, emit, print_skipped
from deepimage.transforms.registry import AUGMENTATIONS, catalog

app = typer.Typer(help=GROUP_HELP["augment"], no_args_is_help=True)


@app.command("list")
def list_command(as_json: bool = JSON) -> None:
    """Show the presets (with their tasks) and the steps a pipeline YAML can use.

    Example: deepimage augment list --json
    """
    rows = catalog()
    table = Table(Column("name", no_wrap=True), "kind", "tasks", "runs", "what it does", "options")
    for row in rows:
        cells = [row["name"], row["kind"], ", ".join(row["tasks"]), row["runs"], row["help"]]
        table.add_row(*map(Text, cells), Text(_options_text(row)))
    emit({"items": rows}, as_json, table)


def _options_text(row: dict[str, Any]) -> str:
    """A step's ``option=default`` pairs, a batch preset's ranges that are on, or a
    pipeline preset's steps, one a line."""
    options = row["options"]
    if isinstance(options, dict):
        shown = {k: v for k, v in options.items() if row["kind"] == "step" or v}
        return " ".join(f"{key}={value}" for key, value in shown.items())
    return "\n".join(
        " ".join([step["op"], *(f"{k}={v}" for k, v in step.items() if k != "op")])
        for step in options
    )


@app.command("preview")
def preview(
    data: str = typer.Option(
        ...,
        "--data",
        "-d",
        help="Data set name or folder: COCO / VOC / YOLO (boxes), image + mask folders, "
        "or classification.",
    ),
    count: int = typer.Option(16, "-n", "--count", min=1, max=256, help="Samples in the grid."),
    preset: str | None = typer.Option(
        None,
        "--preset",
        "-p",
        help=f"Preset: {', '.join(AUGMENTATIONS)} (see 'augment list'; default: "
        "classify-strong, detect or segment by data kind).",
    ),
    pipeline: Path | None = typer.Option(
        None,
        "--pipeline",
        help="YAML file: a list of steps such as '- {op: hflip, p: 0.5}' or presets "
        "('- {op: detect}'), as in 'augment list'.",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same picture)."),
    out: Path = typer.Option(Path("augment-preview.png"), "--out", "-o", help="PNG file to write."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Leave unreadable images out instead of stopping."
    ),
    as_json: bool = JSON,
) -> None:
    """Write a grid of augmented samples with their boxes and masks drawn: what training
    runs for the same preset (classification: one batch, seeded by --seed).

    Example: deepimage augment preview --data fashion-mnist --preset classify-strong -o grid.png
    """
    if preset and pipeline:
        raise typer.BadParameter("give --preset or --pipeline, not both")
    from deepimage.transforms.pipeline import load_pipeline

    augment = load_pipeline(pipeline) if pipeline else preset
    from deepimage.api.augment_preview import preview as write_preview  # torch: load late

    report = write_preview(data, out, count=count, augment=augment, seed=seed, skip_bad=skip_bad)
    print_skipped(report["skipped"])
    what = report["augment"] or f"{len(report['steps'])} steps of {pipeline}"
    summary = Text(
        f"wrote {report['samples']} {report['kind']} samples ({what}, runs: {report['runs']}) "
        f"to {out}"
    )
    emit(report, as_json, summary)

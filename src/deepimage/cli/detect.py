"""``deepimage detect convert``: the one detection command beyond the generated task
commands (``cli/tasks.py``): converting data between COCO, Pascal VOC and YOLO."""

from __future__ import annotations

from pathlib import Path

import typer

from deepimage.cli.output import JSON, console, emit, literal, print_skipped
from deepimage.data.detection import Format, convert


def add_commands(app: typer.Typer) -> None:
    """Add ``convert`` to the generated ``detect`` group."""
    app.command("convert")(convert_command)


def convert_command(
    source: str = typer.Argument(
        ..., help="Detection data (COCO, VOC or YOLO folder, COCO JSON file, or data set name)."
    ),
    out: Path = typer.Argument(..., help="New (or empty) output folder."),
    to: Format = typer.Option(..., "--to", help="Output format."),
    val_fraction: float = typer.Option(
        0.2, "--val-fraction", help="Share held out as 'val' when the data has no split."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of that split."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip broken items (listed in the report) instead of failing."
    ),
    as_json: bool = JSON,
) -> None:
    """Convert detection data between COCO, Pascal VOC and YOLO (inputs are never modified).

    Example: deepimage detect convert --to coco raccoon/ raccoon-coco/
    """
    result = convert(source, out, to, val_fraction=val_fraction, seed=seed, skip_bad=skip_bad)
    for issue in result["issues"]:
        line = literal(f"  {issue['kind']}: {issue['path']}: {issue['detail']}")
        console.print(line, highlight=False, soft_wrap=True)
    print_skipped(result["skipped"])
    splits = ", ".join(f"{split} {count}" for split, count in result["splits"].items())
    emit(
        result,
        as_json,
        literal(
            f"{result['from']} -> {to}: {splits} images, {result['boxes']} boxes, "
            f"{len(result['issues'])} issue(s) -> {result['out_dir']}"
        ),
    )

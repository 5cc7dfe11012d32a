"""``deepimage detect``: object detection commands (models, data conversion)."""

from __future__ import annotations

from pathlib import Path

import typer

from deepimage.cli.output import JSON, console, emit, print_models
from deepimage.data.detection import Format, convert

app = typer.Typer(help="Object detection.", no_args_is_help=True)


@app.command("models")
def models(
    as_json: bool = JSON,
) -> None:
    """List the detection models (torchvision's builder names) with their sizes."""
    print_models("detect", {"num_classes": 20}, as_json)


@app.command("convert")
def convert_command(
    source: str = typer.Argument(
        ..., help="Detection data (COCO, VOC or YOLO folder, COCO JSON file, or data set name)."
    ),
    out: Path = typer.Argument(..., help="New (or empty) output folder."),
    to: Format = typer.Option(..., "--to", help="Output format."),
    val_split: float = typer.Option(
        0.2, "--val-split", help="Fraction held out as 'val' when the data has no split."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of that split."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip broken items (listed in the report) instead of failing."
    ),
    as_json: bool = JSON,
) -> None:
    """Convert detection data between COCO, Pascal VOC and YOLO (inputs are never modified)."""
    result = convert(source, out, to, val_split=val_split, seed=seed, skip_bad=skip_bad)
    for issue in result["issues"]:
        console.print(f"  {issue['kind']}: {issue['path']}: {issue['detail']}", highlight=False)
    splits = ", ".join(f"{split} {count}" for split, count in result["splits"].items())
    emit(
        result,
        as_json,
        f"{result['from']} -> {to}: {splits} images, {result['boxes']} boxes, "
        f"{len(result['issues'])} issue(s) -> {result['out']}",
    )

"""``deepimage data``: look at a data set before training on it."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from deepimage.cli.output import JSON, console, emit
from deepimage.data.inspect import inspect_data

app = typer.Typer(help="Inspect data sets.", no_args_is_help=True)


@app.command("inspect")
def inspect(
    source: str = typer.Argument(
        ...,
        help="Built-in name (fashion-mnist, mnist, digits, raccoon), image folder, CSV, "
        "or detection data (COCO, VOC, YOLO).",
    ),
    as_json: bool = JSON,
) -> None:
    """Images per class and split, sizes, bad files, exact duplicates, class imbalance.

    Detection data: images and boxes per class and split, box sizes, and every issue
    (clipped or zero-area boxes, unknown classes, missing or bad images, malformed files).
    """
    report = inspect_data(source)
    if as_json:
        emit(report, True)
        return
    if report.get("task") == "detection":
        _print_detection(report)
        return
    splits = report["splits"]
    table = Table("class", *splits, title=f"{report['name']} ({report['source']})")
    for name in report["classes"]:
        table.add_row(name, *(str(s["per_class"].get(name, 0)) for s in splits.values()))
    table.add_row("[bold]total[/]", *(str(s["count"]) for s in splits.values()))
    console.print(table)
    for split, s in splits.items():
        w, h = s["width"], s["height"]
        console.print(
            f"{split}: width {w['min']}-{w['max']} (mean {w['mean']}), height {h['min']}-{h['max']} (mean {h['mean']})"
        )
    console.print(
        f"bad files: {len(report['bad_files'])}, duplicate groups: {len(report['duplicates'])}"
    )
    for bad in report["bad_files"]:
        console.print(f"  bad: {bad['path']}: {bad['reason']}", highlight=False)
    for warning in report["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")


def _print_detection(report: dict[str, Any]) -> None:
    splits = report["splits"]
    title = f"{report['name']} ({report['format']}, {report['source']})"
    table = Table("class", *(f"{split} images/boxes" for split in splits), title=title)
    for name in report["classes"]:
        counts = (s["per_class"][name] for s in splits.values())
        table.add_row(name, *(f"{c['images']}/{c['boxes']}" for c in counts))
    table.add_row("[bold]total[/]", *(f"{s['images']}/{s['boxes']}" for s in splits.values()))
    console.print(table)
    for axis, stats in report["box_size"].items():
        if stats:
            console.print(f"box {axis}: {stats['min']}-{stats['max']} (median {stats['median']})")
    for kind, issues in report["issues"].items():
        console.print(f"[yellow]{kind}[/]: {len(issues)}")
        for issue in issues:
            console.print(f"  {issue['path']}: {issue['detail']}", highlight=False)

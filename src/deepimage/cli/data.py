"""``deepimage data``: look at a data set before training on it.

The tables and figures go to stdout, warnings, issues and skipped files to stderr;
``--json`` prints the report of :func:`deepimage.data.inspect.inspect_data` as one object.

Example:
    >>> from typer.testing import CliRunner
    >>> "--ignore-index" in CliRunner().invoke(app, ["inspect", "--help"]).output
    True
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from deepimage.cli.groups import GROUP_HELP
from deepimage.cli.output import JSON, console, emit, literal, print_skipped
from deepimage.data.inspect import DataTask, inspect_data

app = typer.Typer(help=GROUP_HELP["data"], no_args_is_help=True)


@app.command("inspect")
def inspect(
    source: str = typer.Argument(
        ...,
        help="Built-in name (fashion-mnist, mnist, digits, raccoon, membrane), image folder, "
        "CSV, detection data (COCO, VOC, YOLO) or segmentation data (images/ + masks/ "
        "folders, SegNet train/ + trainannot/, VOC JPEGImages/ + SegmentationClass/, COCO).",
    ),
    task: DataTask = typer.Option(
        "auto",
        "--task",
        help="What to read the data as: auto (from its layout), classify, detect or segment. "
        "COCO JSON and VOC folders with both Annotations/ and SegmentationClass/ are read "
        "as detection data unless --task segment.",
    ),
    ignore_index: int | None = typer.Option(
        None,
        "--ignore-index",
        min=0,
        help="Segmentation: the raw mask value of void pixels, ignored like 255 (CamVid as "
        "SegNet ships it: 11).",
    ),
    as_json: bool = JSON,
) -> None:
    """Images per class and split, sizes, bad files, exact duplicates, class imbalance.

    Detection data: images and boxes per class and split, box sizes, and every issue
    (clipped or zero-area boxes, unknown classes, missing or bad images, malformed files).

    Segmentation data: images per split, each class's share of the pixels per split, the
    way mask values are read, and every bad file (missing, unreadable or wrongly sized
    masks, values outside the classes, RGB masks without class colours).

    Example: deepimage data inspect membrane --task segment --json
    """
    report = inspect_data(source, task=task, ignore_index=ignore_index)
    if report.get("task") == "detection":
        _detection(report, as_json)
        return
    if report.get("task") == "segmentation":
        _segmentation(report, as_json)
        return
    splits = report["splits"]
    table = Table("class", *splits, title=Text(f"{report['name']} ({report['source']})"))
    for name in report["classes"]:
        table.add_row(Text(name), *(str(s["per_class"].get(name, 0)) for s in splits.values()))
    table.add_row("[bold]total[/]", *(str(s["count"]) for s in splits.values()))
    sizes = [
        f"{split}: width {s['width']['min']}-{s['width']['max']} (mean {s['width']['mean']}), "
        f"height {s['height']['min']}-{s['height']['max']} (mean {s['height']['mean']})"
        for split, s in splits.items()
    ]
    summary = (
        f"skipped files: {len(report['skipped'])}, duplicate groups: {len(report['duplicates'])}"
    )
    if not as_json:
        print_skipped(report["skipped"], shown=None)
        for warning in report["warnings"]:
            console.print(Text.assemble(("warning: ", "yellow"), warning))
    emit(report, as_json, table, "\n".join(sizes), summary)


def _detection(report: dict[str, Any], as_json: bool) -> None:
    """Print a detection report: counts and box sizes on stdout, its issues on stderr."""
    splits = report["splits"]
    title = Text(f"{report['name']} ({report['format']}, {report['source']})")
    table = Table("class", *(f"{split} images/boxes" for split in splits), title=title)
    for name in report["classes"]:
        counts = (s["per_class"][name] for s in splits.values())
        table.add_row(Text(name), *(f"{c['images']}/{c['boxes']}" for c in counts))
    table.add_row("[bold]total[/]", *(f"{s['images']}/{s['boxes']}" for s in splits.values()))
    sizes = [
        f"box {axis}: {stats['min']}-{stats['max']} (median {stats['median']})"
        for axis, stats in report["box_size"].items()
        if stats
    ]
    if not as_json:
        _print_issues(report)
    emit(report, as_json, table, "\n".join(sizes))


def _print_issues(report: dict[str, Any]) -> None:
    """Each issue kind with its count, then its files, on stderr."""
    for kind, count in report["issue_counts"].items():
        console.print(Text.assemble((kind, "yellow"), f": {count}"))
        for issue in (row for row in report["issues"] if row["kind"] == kind):
            console.print(literal(f"  {issue['path']}: {issue['detail']}"), soft_wrap=True)


def _segmentation(report: dict[str, Any], as_json: bool) -> None:
    """Print a segmentation report: the pixel share of each class per split and the image
    counts on stdout, its issues and warnings on stderr."""
    splits = report["splits"]
    title = literal(f"{report['name']} ({report['format']}, {report['source']})")
    table = Table("class", *(f"{split} pixels" for split in splits), "all", title=title)
    for name in report["classes"]:
        shares = [s["pixels"][name] for s in splits.values()]
        share = report["pixel_frequency"][name]
        table.add_row(literal(name), *(f"{100 * v:.2f}%" for v in [*shares, share]))
    total = sum(s["images"] for s in splits.values())
    table.add_row("[bold]images[/]", *(str(s["images"]) for s in splits.values()), str(total))
    encoding = report["encoding"]
    ignored = ", ".join(map(str, encoding["ignore"])) or "none"
    summary = (
        f"masks: {encoding['kind']}, {encoding['classes']} classes, values ignored: {ignored}; "
        f"ignored pixels: {100 * report['ignored_fraction']:.2f}%; "
        f"skipped files: {len(report['skipped'])}"
    )
    if not as_json:
        _print_issues(report)
        for warning in report["warnings"]:
            console.print(Text.assemble(("warning: ", "yellow"), literal(warning)))
    emit(report, as_json, table, summary)

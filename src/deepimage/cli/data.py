"""``deepimage data``: look at a data set before training on it.

The tables and figures go to stdout, warnings, issues and skipped files to stderr;
``--json`` prints the report of :func:`deepimage.data.inspect.inspect_data` as one object.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from deepimage.cli.output import JSON, console, emit, print_skipped
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
    if report.get("task") == "detection":
        _detection(report, as_json)
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
        for kind, count in report["issue_counts"].items():
            console.print(Text.assemble((kind, "yellow"), f": {count}"))
            for issue in (row for row in report["issues"] if row["kind"] == kind):
                console.print(Text(f"  {issue['path']}: {issue['detail']}"), soft_wrap=True)
    emit(report, as_json, table, "\n".join(sizes))

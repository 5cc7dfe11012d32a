"""``deepimage data``: look at a data set before training on it."""

from __future__ import annotations

import typer
from rich.table import Table

from deepimage.cli.output import console, emit
from deepimage.data.inspect import inspect_data

app = typer.Typer(help="Inspect data sets.", no_args_is_help=True)


@app.command("inspect")
def inspect(
    source: str = typer.Argument(
        ..., help="Built-in name (fashion-mnist, mnist, digits), image folder or CSV."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object as the last stdout line."
    ),
) -> None:
    """Images per class and split, sizes, bad files, exact duplicates, class imbalance."""
    report = inspect_data(source)
    if as_json:
        emit(report, True)
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

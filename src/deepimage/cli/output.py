"""Printing for every command (docs/architecture.md, "Conventions"): results on stdout (a
table or summary, or with ``--json`` one JSON object as the last line), progress and
messages on stderr.

Example:
    >>> emit({"top1": 0.9}, as_json=True)
    {"top1": 0.9}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

console = Console(stderr=True)
"""Progress, messages, warnings and skipped-file notes."""
results = Console(soft_wrap=True)
"""Results for people: tables and summaries (stdout, so they can be piped and grepped)."""

JSON = typer.Option(False, "--json", help="Print one JSON object as the last stdout line.")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar.")
DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or mps.")
DEVICES = typer.Option(1, "--devices", min=1, help="Processes for DDP (CPU: gloo).")


def literal(text: object) -> Text:
    r"""``text`` as it is, for printing a name or path from data: no rich markup, and
    control characters (terminal escapes, bells, line breaks) shown escaped, never sent.

    Example:
        >>> literal("[bold]x\x1b]0;title\x07.jpg").plain
        '[bold]x\\x1b]0;title\\x07.jpg'
    """
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode() for c in str(text)
    )
    return Text(shown)


def literal_lines(text: str) -> Text:
    r"""``text`` line by line through :func:`~deepimage.cli.output.literal`: the line
    breaks kept, everything else printed as it is.

    Example:
        >>> literal_lines("run: [bold]x\n\x1b[2J").plain
        'run: [bold]x\n\\x1b[2J'
    """
    return Text("\n").join(literal(line) for line in text.split("\n"))


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, plural unless it is 1.

    Example:
        >>> counted(1, "epoch"), counted(3, "epoch"), counted(1, "person", "people")
        ('1 epoch', '3 epochs', '1 person')
    """
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def figure(value: float | None, digits: int = 4) -> str:
    """A metric as printed: ``digits`` decimals, or "n/a" for one with nothing to measure
    (None in the JSON: COCO's ``map_small`` where no box is small, say).

    Example:
        >>> figure(0.51234), figure(None), figure(0.5, 3)
        ('0.5123', 'n/a', '0.500')
    """
    return "n/a" if value is None else f"{value:.{digits}f}"


def train_lines(report: dict[str, Any], headline: Sequence[str], what: str = "") -> list[str]:
    """What a training command prints first: the model, data, epochs and speed, then each
    split's ``headline`` figures (those the report has).

    Example:
        >>> report = {"model": "m", "data": "d", "epochs": 1, "train_images_per_s": 9.6,
        ...           "val": {"metrics": {"top1": 0.5, "loss": 1.0}}}
        >>> train_lines(report, ["top1"])
        ['trained m on d for 1 epoch (10 images/s)', 'val: top1 0.5000']
    """
    lines = [
        f"trained {report['model']}{what} on {report['data']} for "
        f"{counted(report['epochs'], 'epoch')} ({report['train_images_per_s']:.0f} images/s)"
    ]
    for split in ("val", "test"):
        if split in report:
            metrics = report[split]["metrics"]
            figures = "  ".join(
                f"{name} {figure(metrics[name])}" for name in headline if name in metrics
            )
            lines.append(f"{split}: {figures}")
    return lines


def files_table(paths: Sequence[str], *headers: str) -> tuple[Table, list[Text]]:
    """A table whose first column lists ``paths`` relative to their common folder, which
    the title names, folding what is still too long; and those shortened paths, as plain
    text cells (a path with brackets is not taken for rich markup).

    Example:
        >>> table, shown = files_table(["/data/a/x.jpg", "/data/b/[y].jpg"], "file", "label")
        >>> str(table.title), [cell.plain for cell in shown]
        ('in /data', ['a/x.jpg', 'b/[y].jpg'])
    """
    absolute = [os.path.abspath(path) for path in paths]
    folder = os.path.commonpath([os.path.dirname(path) for path in absolute]) if paths else ""
    table = Table(*headers, title=literal(f"in {folder}") if folder else None)
    table.columns[0].overflow = "fold"
    for column in table.columns[1:]:
        column.no_wrap = True
    return table, [literal(os.path.relpath(path, folder)) for path in absolute]


SHOWN = 10
"""Bad files named in a summary; the report or --json lists them all."""


def print_skipped(bad: Sequence[dict[str, Any]], shown: int | None = SHOWN) -> None:
    """Name the files left out (``[{path, reason}]``): the first ``shown`` of them when the
    JSON lists them all, every one (None) when nothing else does. Printed as plain text,
    so a path with brackets is not taken for rich markup."""
    if bad:
        console.print(f"skipped {len(bad)} file(s):", highlight=False)
        for item in bad[:shown]:
            line = literal(f"  {item['path']}: {item['reason']}")
            console.print(line, highlight=False, soft_wrap=True)
        if shown is not None and len(bad) > shown:
            console.print(f"  ... and {len(bad) - shown} more (see --json)")


def plot_lines(paths: Sequence[Any]) -> str:
    """ "plots:" and one path a line, so that long paths are not broken mid-name.

    Example:
        >>> print(plot_lines(["run/plots/a.png", "run/plots/b.png"]))
        plots:
          run/plots/a.png
          run/plots/b.png
    """
    return "\n".join(["plots:", *(f"  {path}" for path in paths)])


def emit(document: dict[str, Any], as_json: bool, *shown: Any) -> None:
    """Print ``document`` as one JSON line on stdout, or what is ``shown`` to people (tables,
    summary strings with rich markup) on stdout. Every command ends with this call."""
    if not isinstance(document, dict):
        raise TypeError("a command's JSON document is an object")  # the convention, for us
    if as_json:
        print(json.dumps(document, default=str), flush=True)
        return
    for item in shown:
        if item is not None and item != "":
            results.print(item)


def print_models(
    task: str,
    example: dict[str, Any],
    as_json: bool,
    speed: Callable[[str], float] | None = None,
) -> None:
    """The models registered for ``task`` with their sizes (counted for ``example`` inputs)
    and, with ``speed`` (name -> milliseconds per image), how fast each runs here: a table
    on stdout, or with ``as_json`` ``{"items": [{name, summary, min_size, parameters,
    ms_per_image?}]}``."""
    from deepimage.models.registry import list_models, parameter_count

    rows = [
        {
            "name": m.name,
            "summary": m.summary,
            "min_size": m.min_size,
            "parameters": parameter_count(task, m.name, **example),
        }
        for m in list_models(task)
    ]
    if speed:
        with Progress(console=console, transient=True) as bar:
            for row in bar.track(rows, description="timing"):
                row["ms_per_image"] = round(speed(row["name"]), 1)
    described = ", ".join(f"{key}={value}" for key, value in example.items())
    columns = ["model", "what it is", "min size", "parameters"] + ["ms/image"] * bool(speed)
    table = Table(*columns, caption=f"sizes for {described}")
    for row in rows:
        cells = [
            row["name"],
            row["summary"],
            str(row["min_size"]),
            f"{row['parameters'] / 1e6:.2f}M",
        ]
        table.add_row(*cells, *([str(row["ms_per_image"])] if speed else []))
    emit({"items": rows}, as_json, table)

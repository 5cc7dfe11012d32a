"""``deepimage scratch models|train|gradcheck``: the NumPy networks of
:mod:`deepimage.scratch` (no torch), trained on the classification data and checked
against finite differences.

Example:
    >>> from typer.testing import CliRunner
    >>> result = CliRunner().invoke(app, ["gradcheck", "--layer", "relu", "--json"])
    >>> result.exit_code, '"passed": true' in result.output
    (0, True)
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from deepimage.cli.groups import GROUP_HELP
from deepimage.cli.output import (
    JSON,
    QUIET,
    emit,
    literal,
    literal_lines,
    plot_lines,
    print_skipped,
    train_lines,
)
from deepimage.cli.settings import given, keyword, make_command, settings_parameters
from deepimage.errors import DeepImageError
from deepimage.scratch.run import ScratchTrain

app = typer.Typer(help=GROUP_HELP["scratch"], no_args_is_help=True)

TRAIN_HELP = (
    "Train a NumPy network (small-cnn, mlp or rnn) on classification data: writes "
    "runs/scratch/NAME with config.yaml, metrics.csv (one row per epoch), "
    "checkpoints/model.npz, plots and report.json; --json prints the report.\n\n"
    "Example: deepimage scratch train --data digits --model small-cnn --export-torch "
    "digits.ckpt && deepimage classify evaluate --model digits.ckpt --data digits"
)


def _train(quiet: bool, as_json: bool, **values: Any) -> None:
    from deepimage.engine.settings import make_settings
    from deepimage.scratch.run import train_run

    report = train_run(make_settings(ScratchTrain, given(values)), quiet=quiet)
    print_skipped(report["skipped"])
    lines = train_lines(report, ["top1", "loss"], what=" (NumPy)")
    lines.append(f"run folder: {report['out_dir']}")
    lines.append(plot_lines(report["plots"]))
    if "exported" in report:
        lines.append(f"classify checkpoint: {report['exported']}")
    emit(report, as_json, literal_lines("\n".join(lines)))


app.command("train", help=TRAIN_HELP)(
    make_command(
        _train,
        [
            *settings_parameters(ScratchTrain),
            keyword("quiet", bool, QUIET),
            keyword("as_json", bool, JSON),
        ],
        TRAIN_HELP,
    )
)


@app.command("gradcheck")
def gradcheck(
    layer: list[str] = typer.Option(
        [], "--layer", "-l", help="Check only this layer, loss or model (repeatable); default: all."
    ),
    as_json: bool = JSON,
) -> None:
    """Check every backward pass against centred differences in float64: prints each
    layer's relative error ‖a - n‖ / (‖a‖ + ‖n‖) (below 1e-7 is right); exits 1 if one
    fails. --json prints {layers: [{layer, errors, max_error, passed}], threshold, passed}.

    Example: deepimage scratch gradcheck --layer conv2d --layer rnn --json
    """
    from deepimage.scratch.gradcheck import CHECKS, THRESHOLD, check

    unknown = [name for name in layer if name not in CHECKS]
    if unknown:
        raise DeepImageError(
            f"--layer {unknown[0]!r} is not checked; choose from {', '.join(CHECKS)}."
        )
    results = [check(name) for name in layer or CHECKS]
    passed = all(result["passed"] for result in results)
    table = Table("layer", "worst relative error", "checked", "")
    for result in results:
        verdict = Text("ok", "green") if result["passed"] else Text("WRONG", "bold red")
        table.add_row(
            result["layer"], f"{result['max_error']:.2e}", ", ".join(result["errors"]), verdict
        )
    emit({"layers": results, "threshold": THRESHOLD, "passed": passed}, as_json, table)
    if not passed:
        raise typer.Exit(1)


@app.command("models")
def models(as_json: bool = JSON) -> None:
    """List the NumPy models; --json prints {items: [{name, summary, min_size, parameters}]}
    (parameters for 28x28 grey images and 10 classes).

    Example: deepimage scratch models --json
    """
    from deepimage.scratch.models import MODELS, build_model

    rows = [
        {
            "name": info.name,
            "summary": info.summary,
            "min_size": info.min_size,
            "parameters": build_model(info.name, 10, 1, 28).parameter_count(),
        }
        for info in MODELS.values()
    ]
    table = Table("model", "parameters", "min size", "layers")
    for row in rows:
        table.add_row(
            row["name"], f"{row['parameters']:,}", str(row["min_size"]), literal(row["summary"])
        )
    emit({"items": rows}, as_json, table)

"""``deepimage process``: classical operations on files, folders and globs.

One sub-command per operation of :mod:`deepimage.process.registry`, generated from its
options (``deepimage process blur --sigma 2 photos/ -o out``), plus ``compress``,
``pipeline FILE.yaml`` and ``list``. Every command takes the same run options
(``-o/--out``, ``--workers``, ``--inplace``, ``--overwrite``, ``--skip-existing``,
``--skip-bad``, ``--quiet``, ``--json``) and calls
:func:`deepimage.api.batch_process.process_files`. A file already in ``-o`` is refused
unless ``--overwrite`` (replace it) or ``--skip-existing`` (keep it) is given.
The summary goes to stdout (with ``--json`` the report, as in ``OUT/report.json``),
progress and skipped files to stderr.

Example:
    >>> from typer.testing import CliRunner
    >>> "blur" in CliRunner().invoke(app, ["list"]).stdout
    True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import typer
from rich.table import Table
from rich.text import Text

from deepimage.api.batch_process import MAX_WORKERS, process_files
from deepimage.api.process_steps import (
    COMPRESS,
    Step,
    load_pipeline,
    operation_catalog,
    parse_step,
)
from deepimage.cli.groups import GROUP_HELP
from deepimage.cli.output import JSON, QUIET, console, emit, literal, print_skipped
from deepimage.errors import DeepImageError
from deepimage.io.outputs import Existing
from deepimage.io.writing import WRITABLE_SUFFIXES
from deepimage.process.registry import Operation, Param, list_operations

app = typer.Typer(help=GROUP_HELP["process"], no_args_is_help=True)

INPUTS = typer.Argument(
    ..., help="Image files, folders (searched recursively) or quoted glob patterns."
)


def _flag(flag: str, help_text: str) -> tuple[Any, Any]:
    """A run option that is off unless given."""
    return bool, typer.Option(False, flag, help=help_text)


OUTPUT_FORMATS = tuple(sorted(suffix.lstrip(".") for suffix in WRITABLE_SUFFIXES))

# The run options every processing command takes: name -> (annotation, typer option).
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "out": (
        Path,
        typer.Option(
            ..., "--out", "-o", help="Output folder; the inputs' folder structure is mirrored."
        ),
    ),
    "workers": (
        int,
        typer.Option(
            1,
            "--workers",
            "-w",
            min=1,
            max=MAX_WORKERS,
            help="Processes (one OpenCV thread each).",
        ),
    ),
    "inplace": _flag("--inplace", "Allow writing into the input location, replacing inputs."),
    "overwrite": _flag("--overwrite", "Replace files already in the output folder."),
    "skip_existing": _flag(
        "--skip-existing", "Keep files already in the output folder, skip them."
    ),
    "skip_bad": _flag("--skip-bad", "List unreadable images in the report and go on."),
    "output_format": (
        Literal[OUTPUT_FORMATS] | None,  # type: ignore[valid-type]
        typer.Option(
            None,
            "--format",
            help="Write every output in this format. Default: each input's own, except "
            "binary and label outputs (threshold, edges, segment) of JPEG or WebP inputs, "
            "which are written as PNG so that their values stay exact.",
            show_default=False,
        ),
    ),
    "quiet": (bool, QUIET),
    "as_json": (bool, JSON),
}

_METAVARS = {int: "INT", float: "FLOAT", str: "TEXT", tuple: "N[,N...]"}


def _parameter(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _option(param: Param) -> inspect.Parameter:
    """A typer option for a registry option; None (not given) leaves the default to the op."""
    flag = "--" + param.name.replace("_", "-")
    help_text = param.help if param.required else f"{param.help} Default: {param.default}."
    if param.type is bool:
        option = typer.Option(None, f"{flag}/--no-{flag[2:]}", help=help_text, show_default=False)
        return _parameter(param.name, bool | None, option)
    kind = Literal[param.choices] if param.choices else str  # type: ignore[valid-type]
    option = typer.Option(
        ... if param.required else None,
        flag,
        help=help_text,
        show_default=False,
        metavar=None if param.choices else _METAVARS[param.type],
    )
    return _parameter(param.name, kind if param.required else kind | None, option)


def _existing(overwrite: bool, skip_existing: bool) -> Existing:
    if overwrite and skip_existing:
        raise DeepImageError(
            "--overwrite replaces existing outputs and --skip-existing keeps them; pass one"
        )
    return "overwrite" if overwrite else "skip" if skip_existing else "refuse"


def _run(inputs: list[str], steps: list[Step], run: dict[str, Any]) -> None:
    as_json = run.pop("as_json")
    run["existing"] = _existing(run.pop("overwrite"), run.pop("skip_existing"))
    report = process_files(inputs, run.pop("out"), steps, **run)
    totals = report["totals"]
    if not as_json:
        if totals["skipped_existing"]:
            console.print(f"skipped {totals['skipped_existing']} existing outputs")
        _print_lost(report["results"])
        print_skipped(report["skipped"])
    summary = Text.assemble(
        ("processed", "bold"),
        f" {totals['processed']} of {totals['images']} images in {totals['seconds']:.1f} s "
        f"({totals['images_per_s'] or 0:.1f} images/s) into ",
        literal(report["out_dir"]),
    )
    emit(report, as_json, summary)


def _print_lost(rows: list[dict[str, Any]]) -> None:
    """Say on stderr which outputs could not keep everything their input had."""
    changed = [row for row in rows if row.get("lost")]
    if changed:
        first = changed[0]
        console.print(
            Text.assemble(
                f"{len(changed)} output(s) could not keep everything, e.g. ",
                literal(first["output"]),
                f": {'; '.join(first['lost'])} (each row's 'lost' in report.json)",
            )
        )


def _add_command(
    name: str,
    help_text: str,
    options: list[inspect.Parameter],
    make_steps: Callable[[dict[str, Any]], list[Step]],
    leading: tuple[inspect.Parameter, ...] = (),
) -> None:
    """Register ``name``: its own parameters, INPUT..., then the run options."""
    names = {p.name for p in options}
    clash = names & {"inputs", *RUN_OPTIONS}
    if clash:
        raise RuntimeError(f"process {name}: option {clash} clashes with a run option")
    # compress has its own --format (the format it compresses to)
    run_options = {
        k: v for k, v in RUN_OPTIONS.items() if k != "output_format" or "format" not in names
    }

    def command(**kwargs: Any) -> None:
        run = {key: kwargs.pop(key) for key in run_options}
        inputs = kwargs.pop("inputs")
        _run(inputs, make_steps(kwargs), run)

    parameters = [
        *leading,
        _parameter("inputs", list[str], INPUTS),
        *options,
        *(_parameter(key, kind, default) for key, (kind, default) in run_options.items()),
    ]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = help_text
    app.command(name, help=help_text, no_args_is_help=True)(command)


def _add_operation(op: Operation) -> None:
    def make_steps(values: dict[str, Any]) -> list[Step]:
        return [parse_step(op.name, {k: v for k, v in values.items() if v is not None})]

    help_text = f"{op.help}\n\nExample: {_example(op)}"
    _add_command(op.name, help_text, [_option(param) for param in op.params], make_steps)


EXAMPLE_VALUES = {
    "angle": "15",
    "box": "10,10,200,150",
    "width": "224",
    "height": "224",
    "dx": "20",
    "dy": "0",
    "matrix": "1,0,10,0,1,20",
    "to": "hsv",
}
"""Values for the required options in the generated commands' examples."""


def _example(op: Operation) -> str:
    """A command line that runs ``op`` on a folder, its required options filled in.

    Example:
        >>> from deepimage.process.registry import get_operation
        >>> _example(get_operation("rotate"))
        'deepimage process rotate --angle 15 photos/ -o out/'
    """
    required = [p for p in op.params if p.required]
    options = "".join(f"--{p.name.replace('_', '-')} {EXAMPLE_VALUES[p.name]} " for p in required)
    return f"deepimage process {op.name} {options}photos/ -o out/"


for _op in [*list_operations(), COMPRESS]:
    _add_operation(_op)

_add_command(
    "pipeline",
    "Run the steps of a YAML pipeline: a list of {op: name, option: value, ...}.\n\n"
    "Example: deepimage process pipeline steps.yaml photos/ -o out/ --workers 2 (steps.yaml: "
    "'- {op: resize, width: 512}' and '- {op: compress, format: jpeg, quality: 80}')",
    [],
    lambda values: load_pipeline(values["file"]),
    leading=(
        _parameter(
            "file",
            Path,
            typer.Argument(..., help="YAML file, e.g. '- {op: resize, width: 512}'."),
        ),
    ),
)


@app.command("list")
def list_command(as_json: bool = JSON) -> None:
    """Show every operation with its options (--json: {"items": [...]}).

    Example: deepimage process list --json
    """
    catalog = operation_catalog()
    table = Table("operation", "group", "what it does", "options")
    for op in catalog:
        table.add_row(op["name"], op["group"], op["help"], _options_text(op["options"]))
    emit({"items": catalog}, as_json, table)


def _options_text(options: list[dict[str, Any]]) -> str:
    def one(option: dict[str, Any]) -> str:
        flag = "--" + option["name"].replace("_", "-")
        if option["required"]:
            return f"{flag} (required)"
        if option["choices"]:
            return f"{flag} {'|'.join(map(str, option['choices']))}"
        return f"{flag} {option['default']}"

    return "\n".join(one(option) for option in options)

"""``deepimage TASK models|train|evaluate|predict`` for every registered task, generated
from its spec (``tasks/registry.py``) and its settings dataclasses. Nothing here is
written per task: adding a task adds its commands. Every name, path and label that comes
from data or a model file is printed through :func:`~deepimage.cli.output.literal`: no
rich markup, control characters escaped.

Example:
    >>> from typer.testing import CliRunner
    >>> from deepimage.tasks.registry import task_spec
    >>> "--label-smoothing" in CliRunner().invoke(task_app(task_spec("classify")), ["train", "--help"]).output
    True
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table
from rich.text import Text

from deepimage.cli.output import (
    DEVICE,
    JSON,
    QUIET,
    console,
    emit,
    figure,
    files_table,
    literal,
    literal_lines,
    plot_lines,
    print_models,
    print_skipped,
    train_lines,
)
from deepimage.cli.settings import given, keyword, make_command, settings_parameters
from deepimage.io.paths import shown_path
from deepimage.tasks.registry import TaskSpec

MODEL_FILE = typer.Option(..., "--model", "-m", help="A .ckpt file or a run folder.")
CONFIG = typer.Option(
    None, "--config", help="Replay a run's config.yaml; flags given beside it override it."
)
RESUME = typer.Option(None, "--resume", help="Continue the killed run in this run folder.")
INPUTS = typer.Argument(
    ...,
    help="Image files, folders or glob patterns; a video file, camera index (0) or stream "
    "URL gives a row per frame (the video task: clips).",
)


HELP = {
    "models": "List the {name} models with their sizes.\n\nExample: deepimage {name} models --json",
    "train": "Train a {noun}: writes a run folder (runs/{name}/NAME) with config.yaml, "
    "metrics.csv, checkpoints, plots and report.json.\n\n"
    "Example: deepimage {name} train --data DATA --epochs 10 --json",
    "evaluate": "Score a trained {noun} on a split of a data set, with plots.\n\n"
    "Example: deepimage {name} evaluate --model runs/{name}/NAME --data DATA",
    "predict": "Run a trained {noun} on images; --json prints {{task, model, results, "
    "skipped, out_dir}}.\n\nExample: deepimage {name} {verb} --model runs/{name}/NAME "
    "photos/ --json",
}


def task_app(spec: TaskSpec) -> typer.Typer:
    """The command group of one task."""
    app = typer.Typer(help=spec.help, no_args_is_help=True)
    speed = typer.Option(
        False,
        "--speed/--no-speed",
        help="Time each model here: the median of 5 images (untrained weights, so a detector's "
        "box count, and its time, may differ once trained).",
    )
    model_file = keyword("model_file", Path, MODEL_FILE)
    _add(
        app,
        spec,
        "models",
        _models(spec),
        keyword("speed", bool, speed),
        keyword("device", str, DEVICE),
    )
    config, resume = keyword("config", Path | None, CONFIG), keyword("resume", Path | None, RESUME)
    _add(app, spec, "train", _train(spec), config, resume, settings=spec.train, quiet=True)
    _add(app, spec, "evaluate", _evaluate(spec), model_file, settings=spec.evaluate)
    inputs = keyword("inputs", list[str], INPUTS)
    _add(
        app, spec, "predict", _predict(spec), inputs, model_file, settings=spec.predict, quiet=True
    )  # named spec.predict_verb
    return app


def _add(
    app: typer.Typer,
    spec: TaskSpec,
    verb: str,
    body: Any,
    *parameters: inspect.Parameter,
    settings: type | None = None,
    quiet: bool = False,
) -> None:
    """Register ``verb``: its own ``parameters``, the options of ``settings``, then
    ``--quiet`` (if ``quiet``) and ``--json``."""
    template = spec.predict_help if verb == "predict" and spec.predict_help else HELP[verb]
    help_text = template.format(name=spec.name, noun=spec.noun, verb=spec.predict_verb)
    every = [
        *parameters,
        *(settings_parameters(settings) if settings else []),
        *([keyword("quiet", bool, QUIET)] if quiet else []),
        keyword("as_json", bool, JSON),
    ]
    name = spec.predict_verb if verb == "predict" else verb
    app.command(name, help=help_text)(make_command(body, every, help_text))


def _models(spec: TaskSpec) -> Any:
    def body(speed: bool, device: str, as_json: bool) -> None:
        timing = None
        if speed:
            latency = spec.hooks().model_latency
            if latency is None:
                raise typer.BadParameter(f"{spec.name} models has no timing; drop --speed.")
            timing = lambda name: latency(name, device)  # noqa: E731
        print_models(spec.name, spec.models_example, as_json, timing)

    return body


def _train(spec: TaskSpec) -> Any:
    def body(
        config: Path | None, resume: Path | None, quiet: bool, as_json: bool, **values: Any
    ) -> None:
        from deepimage.api.model import Model

        settings = given(values)
        if resume:
            report = Model.resume(resume, quiet=quiet, task=spec.name, **settings)
        else:
            report = Model(task=spec.name).fit(config=config, quiet=quiet, **settings)
        if not report:  # a DDP worker process
            return
        for issue in report.get("issues", []):
            line = literal(f"  {issue['kind']}: {issue['path']}: {issue['detail']}")
            console.print(line, highlight=False, soft_wrap=True)
        print_skipped(report["skipped"])
        emit(report, as_json, _train_summary(spec, report))

    return body


def _train_summary(spec: TaskSpec, report: dict[str, Any]) -> Text:
    lines = train_lines(report, spec.headline)  # a GAN's report has no mse: left out
    if report.get("stopped_by") in ("time", "patience"):
        lines[0] += f", stopped by --{report['stopped_by']}"
    lines.append(f"run folder: {report['out_dir']}  (plots in plots/)")
    return literal_lines("\n".join(lines))


def _evaluate(spec: TaskSpec) -> Any:
    def body(model_file: Path, as_json: bool, **values: Any) -> None:
        from deepimage.api.model import Model

        result = Model.load(model_file, task=spec.name).evaluate(**given(values))
        print_skipped(result["skipped"])
        title = literal(f"{result['data']} [{result['split']}], {result['images']} images")
        metrics = Table("metric", "value", title=title)
        for name, value in result["metrics"].items():
            metrics.add_row(literal(name), figure(value))
        emit(
            result,
            as_json,
            metrics,
            _per_class_table(result["per_class"]),
            literal_lines(plot_lines(result["plots"])),
        )

    return body


def _per_class_table(rows: list[dict[str, Any]]) -> Table | None:
    if not rows:
        return None
    table = Table(*(Column(literal(key)) for key in rows[0]))
    for row in rows:
        shown = [
            figure(v, 3) if v is None or isinstance(v, float) else literal(v) for v in row.values()
        ]
        table.add_row(*shown)
    return table


def _predict(spec: TaskSpec) -> Any:
    def body(
        inputs: list[str], model_file: Path, quiet: bool, as_json: bool, **values: Any
    ) -> None:
        from deepimage.api.model import Model

        model = Model.load(model_file, task=spec.name)
        from deepimage.api.parallel import progress_bar
        from deepimage.io.video_stream import is_video

        unit = "frames" if any(is_video(item) for item in inputs) else "images"
        with progress_bar(quiet, unit, transient=True) as bar:
            progress = bar.add_task("predicting", total=None)
            rows = model.predict(inputs, on_image=lambda: bar.advance(progress), **given(values))
        print_skipped(rows.skipped, shown=None)
        document = predict_document(spec.name, model, rows)
        table, shown = files_table(
            [row["path"] or "<array>" for row in rows], "image", *_columns(spec, rows)
        )
        for row, path in zip(rows, shown, strict=True):
            table.add_row(path, *map(literal, spec.row_summary(row).values()))
        written = literal(f"written to {rows.out_dir}") if rows.out_dir else None
        emit(document, as_json, table, written)

    return body


def predict_document(task: str, model: Any, rows: Any) -> dict[str, Any]:
    """The ``--json`` document of a command that runs a model on images."""
    return {
        "task": task,
        "model": model.model,
        "checkpoint": shown_path(model.checkpoint or ""),
        "results": [json_ready(row) for row in rows],
        "skipped": rows.skipped,
        "out_dir": rows.out_dir,
    }


def json_ready(row: dict[str, Any]) -> dict[str, Any]:
    """A result row without the arrays the Python API returns (a mask, say)."""
    return {key: value for key, value in row.items() if not hasattr(value, "__array__")}


def _columns(spec: TaskSpec, rows: list[dict[str, Any]]) -> list[str]:
    return list(spec.row_summary(rows[0])) if rows else []

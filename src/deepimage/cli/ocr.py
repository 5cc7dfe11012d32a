"""``deepimage ocr synth``: synthetic text lines, the ocr command beyond the generated
models/train/evaluate/predict (``cli/tasks.py``)."""

from __future__ import annotations

from typing import Any

import typer
from rich.progress import Progress

from deepimage.cli.output import JSON, QUIET, console, emit, literal
from deepimage.cli.settings import given, keyword, make_command, settings_parameters
from deepimage.errors import DeepImageError
from deepimage.tasks.ocr_spec import OcrSynth

HELP = (
    "Write synthetic text lines (random strings in the system's fonts, with perspective, "
    "rotation, blur and noise) as train/ and test/ folders with labels.csv, ready for ocr "
    "train; --json prints {out_dir, train, test, fonts}.\n\nExample: deepimage ocr synth -o "
    "plates/ -n 3000 --test-count 500 --length 7 && deepimage ocr train --data plates/train "
    "--time 15"
)


def add_commands(app: typer.Typer) -> None:
    """Add ``synth`` to the generated ``ocr`` group."""
    parameters = [
        *settings_parameters(OcrSynth),
        keyword("quiet", bool, QUIET),
        keyword("as_json", bool, JSON),
    ]
    app.command("synth", help=HELP)(make_command(_synth, parameters, HELP))


def _synth(quiet: bool, as_json: bool, **values: Any) -> None:
    from deepimage.api.ocr import TextRecognizer
    from deepimage.engine.settings import make_settings

    settings = make_settings(OcrSynth, given(values))
    if not settings.out:
        raise DeepImageError("ocr synth needs -o/--out: the folder to write the lines to.")
    with Progress(console=console, disable=quiet, transient=True) as bar:
        progress = bar.add_task("drawing lines", total=settings.count + settings.test_count)
        result = TextRecognizer.synth(**vars(settings), on_line=lambda: bar.advance(progress))
    shown = f"{result['train']} training and {result['test']} test lines -> {result['out_dir']}"
    emit(result, as_json, literal(shown))

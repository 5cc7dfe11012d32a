"""``deepimage generate sample | interpolate | denoise``: the generation commands beyond
the generated models/train/evaluate/reconstruct (``cli/tasks.py``), each a thin call of
:class:`~deepimage.api.generator.Generator`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from deepimage.cli.output import JSON, QUIET, console, emit, files_table, literal, print_skipped
from deepimage.cli.settings import given, keyword, make_command, settings_parameters
from deepimage.cli.tasks import INPUTS, MODEL_FILE, json_ready, predict_document
from deepimage.errors import DeepImageError
from deepimage.tasks.generation_spec import GenerateDenoise, GenerateInterpolate, GenerateSample

HELP = {
    "sample": "Sample images from a trained vae or GAN as PNGs (the same --seed gives the "
    "same images); --json prints {task, model, checkpoint, count, seed, class, out_dir, "
    "files, grid, skipped}.\n\nExample: deepimage generate sample --model runs/generate/"
    "dcgan -n 100 -o samples/ --class Sneaker",
    "interpolate": "Walk through the latent space from A to B: two images (ae, conv-ae, "
    "vae) or two integer seeds (vae, GANs), written as one row of images.\n\nExample: "
    "deepimage generate interpolate --model runs/generate/vae shirt.png boot.png --steps 8 "
    "-o walk.png",
    "denoise": "Denoise images with a trained dae, each at its own size (large ones in "
    "tiles), as PNGs in -o; --json prints {task, model, checkpoint, results, skipped, "
    "out_dir}.\n\nExample: deepimage generate denoise --model runs/generate/dae noisy/ -o "
    "clean/",
}


def add_commands(app: typer.Typer) -> None:
    """Add ``sample``, ``interpolate`` and ``denoise`` to the generated ``generate`` group."""
    model = keyword("model_file", Path, MODEL_FILE)
    as_json = keyword("as_json", bool, JSON)
    commands = {
        "sample": ([model], GenerateSample, _sample),
        "interpolate": (
            [
                keyword("start", str, typer.Argument(..., help="An image file, or a seed.")),
                keyword("end", str, typer.Argument(..., help="An image file, or a seed.")),
                model,
            ],
            GenerateInterpolate,
            _interpolate,
        ),
        "denoise": (
            [keyword("inputs", list[str], INPUTS), model],
            GenerateDenoise,
            _denoise,
        ),
    }
    for verb, (own, settings, body) in commands.items():
        extra = [keyword("quiet", bool, QUIET)] if verb == "denoise" else []
        parameters = [*own, *settings_parameters(settings), *extra, as_json]
        app.command(verb, help=HELP[verb])(make_command(body, parameters, HELP[verb]))


def _load(model_file: Path) -> Any:
    from deepimage.api.generator import Generator

    return Generator.load(model_file)


def _need_out(values: dict[str, Any], what: str) -> None:
    if not values.get("out"):
        raise DeepImageError(f"generate {what} needs -o/--out: where to write the images.")


def _sample(model_file: Path, as_json: bool, **values: Any) -> None:
    _need_out(values, "sample")
    result = _load(model_file).sample(**given(values))
    shown = f"{result['count']} samples -> {result['out_dir']}"
    emit(
        json_ready(result),
        as_json,
        literal(shown + (f" (grid {result['grid']})" if result["grid"] else "")),
    )


def _interpolate(start: str, end: str, model_file: Path, as_json: bool, **values: Any) -> None:
    _need_out(values, "interpolate")
    result = _load(model_file).interpolate(start, end, **given(values))
    emit(json_ready(result), as_json, literal(f"{result['steps']} steps -> {result['out']}"))


def _denoise(
    inputs: list[str], model_file: Path, quiet: bool, as_json: bool, **values: Any
) -> None:
    _need_out(values, "denoise")
    model = _load(model_file)
    with Progress(console=console, disable=quiet, transient=True) as bar:
        progress = bar.add_task("denoising", total=None)
        rows = model.denoise(inputs, on_image=lambda: bar.advance(progress), **given(values))
    print_skipped(rows.skipped, shown=None)
    document = predict_document("generate", model, rows)
    table, shown = files_table(
        [row["path"] or "<array>" for row in rows], "image", "size", "output"
    )
    for row, path in zip(rows, shown, strict=True):
        table.add_row(path, f"{row['width']}x{row['height']}", literal(row.get("output", "")))
    emit(document, as_json, table)

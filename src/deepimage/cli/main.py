"""Entry point: ``deepimage <group> <command>``. User errors exit 2 without a traceback.

Example:
    >>> from typer.testing import CliRunner
    >>> CliRunner().invoke(app, ["--version"]).output.strip()
    'deepimage 0.1.0'
"""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from deepimage import __version__
from deepimage.cli import augment, data, demo, detect, face, generate, ocr, process, scratch
from deepimage.cli.output import console, literal
from deepimage.cli.tasks import task_app
from deepimage.errors import DeepImageError
from deepimage.tasks.registry import task_specs

EXTRA_COMMANDS = {
    "detect": detect.add_commands,
    "generate": generate.add_commands,
    "ocr": ocr.add_commands,
}
"""Commands of a task beyond the generated models/train/evaluate/predict."""

app = typer.Typer(
    help="deepimage: deep-learning image processing from one command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for _spec in task_specs():
    _group = task_app(_spec)
    if _spec.name in EXTRA_COMMANDS:
        EXTRA_COMMANDS[_spec.name](_group)
    app.add_typer(_group, name=_spec.name)
app.add_typer(data.app, name="data")
app.add_typer(process.app, name="process")
app.add_typer(augment.app, name="augment")
app.add_typer(face.app, name="face")
app.add_typer(scratch.app, name="scratch")
app.command("demo")(demo.demo)


def _version(value: bool) -> None:
    if value:
        print(f"deepimage {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """deepimage: deep-learning image processing from one command."""


def main() -> None:
    """Run the command line; map :class:`DeepImageError` to exit code 2."""
    try:
        app()
    except DeepImageError as error:
        console.print(Text.assemble(("error: ", "bold red"), literal(str(error))), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)

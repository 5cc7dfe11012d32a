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
from deepimage.cli import augment, classify, data, demo, detect, face, process
from deepimage.cli.output import console
from deepimage.errors import DeepImageError

app = typer.Typer(
    help="deepimage: deep-learning image processing from one command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(classify.app, name="classify")
app.add_typer(data.app, name="data")
app.add_typer(process.app, name="process")
app.add_typer(augment.app, name="augment")
app.add_typer(detect.app, name="detect")
app.add_typer(face.app, name="face")
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
        console.print(Text.assemble(("error: ", "bold red"), str(error)), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)

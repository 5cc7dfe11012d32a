"""Entry point: ``deepimage <group> <command>``. User errors exit 2 without a traceback.

Example:
    >>> from typer.testing import CliRunner
    >>> CliRunner().invoke(build_app(), ["--version"]).output.strip()
    'deepimage 0.1.0'
"""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from deepimage import __version__
from deepimage.cli.groups import DEMO_HELP, GROUP_HELP
from deepimage.cli.output import console, literal
from deepimage.errors import DeepImageError
from deepimage.tasks.registry import task_specs

HELP = "deepimage: deep-learning image processing from one command."


def build_app(outline: bool = False) -> typer.Typer:
    """The command tree; with ``outline``, only the groups' names and help (what
    ``deepimage --help`` shows), without importing them: it starts in half the time."""
    from importlib import import_module

    root = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)
    for spec in task_specs():
        if outline:
            root.add_typer(typer.Typer(help=spec.help), name=spec.name)
            continue
        from deepimage.cli.tasks import task_app

        group = task_app(spec)
        extra = import_module(f"deepimage.cli.{spec.name}") if spec.name in EXTRA_COMMANDS else None
        if extra is not None:
            extra.add_commands(group)
        root.add_typer(group, name=spec.name)
    for name, text in GROUP_HELP.items():
        group = typer.Typer(help=text) if outline else import_module(f"deepimage.cli.{name}").app
        root.add_typer(group, name=name)
    if outline:
        root.command("demo", help=DEMO_HELP)(lambda: None)
    else:
        root.command("demo")(import_module("deepimage.cli.demo").demo)
    root.callback()(_root)
    return root


EXTRA_COMMANDS = ("detect", "generate", "ocr")
"""Tasks whose ``cli/<task>.py`` adds commands beyond models/train/evaluate/predict."""


def _version(value: bool) -> None:
    if value:
        print(f"deepimage {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """deepimage: deep-learning image processing from one command."""


def __getattr__(name: str) -> typer.Typer:
    if name != "app":
        raise AttributeError(f"module 'deepimage.cli.main' has no attribute {name!r}")
    global app
    app = build_app()
    return app


def main() -> None:
    """Run the command line; map :class:`DeepImageError` to exit code 2."""
    outline = sys.argv[1:] in ([], ["--help"])
    try:
        (build_app(outline=True) if outline else __getattr__("app"))()
    except DeepImageError as error:
        console.print(Text.assemble(("error: ", "bold red"), literal(str(error))), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)

"""Help that explains, for every command of the tree: an example in each command's --help,
every bracketed span of the help text shown (none taken for rich markup), no source-doc
markup; and a command line that starts without the heavy libraries."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from tests.conftest import cli_env
from typer.testing import CliRunner

from deepimage.cli.main import app

ROOT = typer.main.get_command(app)
SOURCE_MARKUP = ("``", ":func:", ":class:", ":mod:", ":meth:", ":data:", ":attr:")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = [(path, command) for path, command in _walk(ROOT) if path]


def _flat(text: str) -> str:
    """Rendered help without panel borders, whitespace collapsed (wrapping undone)."""
    return " ".join(re.sub(r"[│╭╮╰╯─┃━]", " ", text).split())


def lost_spans(raw_texts: list[str], rendered: str) -> list[str]:
    """The bracketed spans of ``raw_texts`` that ``rendered`` does not show.

    Example:
        >>> lost_spans(["boxes as [x1, y1, x2, y2] in pixels"], "boxes as in pixels")
        ['[x1, y1, x2, y2]']
    """
    flat = _flat(rendered)
    spans = [" ".join(s.split()) for text in raw_texts for s in re.findall(r"\[[^\[\]]*\]", text)]
    return [span for span in spans if span not in flat]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_help_has_an_example_and_keeps_its_text(path, command) -> None:
    shown = _help(path)
    if not hasattr(command, "commands"):
        assert "Example" in shown, f"deepimage {' '.join(path)} --help has no example"
    raw = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    assert not lost_spans(raw, shown)
    assert not [mark for mark in SOURCE_MARKUP if mark in shown]
    assert "mission" not in shown.lower()


def test_the_span_check_sees_markup_swallowing_text() -> None:
    from rich.text import Text

    raw = "boxes as [x1, y1, x2, y2] in the original image's pixels"
    assert lost_spans([raw], Text.from_markup(raw).plain) == ["[x1, y1, x2, y2]"]


def test_choices_are_listed_in_the_help() -> None:
    shown = _flat(_help(("classify", "train")))
    for choice in ("adamw", "sgd", "cosine", "onecycle", "classify-light"):
        assert choice in shown


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    heavy = ("torch", "matplotlib", "scipy", "sklearn", "lightning")
    code = f"import sys, deepimage.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env()
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_shell_completion_can_be_installed() -> None:
    assert "--install-completion" in _help(())


def test_a_misspelt_data_set_gets_a_did_you_mean() -> None:
    from deepimage.data.classification import load_classification_data
    from deepimage.errors import DeepImageError

    with pytest.raises(DeepImageError, match="did you mean fashion-mnist"):
        load_classification_data("fashon-mnist")


def test_the_api_and_the_command_line_share_the_gallery_variable(monkeypatch, tmp_path) -> None:
    from deepimage.api import FaceRecognizer

    monkeypatch.setenv("DEEPIMAGE_GALLERY", str(tmp_path / "team.db"))
    assert FaceRecognizer().gallery_path == tmp_path / "team.db"


def test_the_quick_top_level_help_is_the_full_one() -> None:
    from deepimage.cli.main import build_app

    def shown(app: typer.Typer) -> str:
        return CliRunner().invoke(app, ["--help"], prog_name="deepimage", terminal_width=100).output

    assert shown(build_app(outline=True)) == shown(build_app())

"""The output conventions (docs/architecture.md) for ``process``, ``face``, ``data`` and ``demo``.

For each command: with ``--json`` stdout holds one line, a JSON object (never an array),
with the common keys (``results``, ``skipped`` as ``[{path, reason}]``, ``out_dir``,
``items``) and absolute paths; without it the table or summary is on stdout and the
progress bar, skipped files and warnings are on stderr. The face commands run on small
faces-fr photographs and are skipped when that data set is missing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from tests.conftest import data_dir
from typer.testing import CliRunner, Result

from deepimage.cli import data as data_cli
from deepimage.cli import demo as demo_cli
from deepimage.cli import face as face_cli
from deepimage.cli import process as process_cli
from deepimage.io.writing import write_image

PROGRESS = re.compile(r"\d+/\d+ .*\d:\d\d:\d\d")
"""A progress bar's count and time left, as rich prints it when the bar ends."""
SKIPPED = "skipped 1 file(s):"


def invoke(app: typer.Typer, *args: str | Path) -> Result:
    """``app ARGS`` with stdout and stderr apart; exits other than 0 fail the test."""
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    return result


def document(app: typer.Typer, *args: str | Path) -> dict[str, Any]:
    """The JSON object of ``app ARGS --json``, after checking that it is all of stdout."""
    result = invoke(app, *args, "--json")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout holds more than the JSON object: {result.stdout!r}"
    parsed = json.loads(lines[-1])
    assert isinstance(parsed, dict), "the JSON document is an object, never an array"
    return parsed


def check_skipped(report: dict[str, Any], names: list[str]) -> None:
    """``skipped`` lists ``{path, reason}`` with absolute paths, for the files ``names``."""
    assert [Path(item["path"]).name for item in report["skipped"]] == names
    for item in report["skipped"]:
        assert set(item) == {"path", "reason"} and os.path.isabs(item["path"]) and item["reason"]


def check_people(result: Result, *shown: str) -> None:
    """Without --json: what is ``shown`` is on stdout, progress and skipped notes are not."""
    for text in shown:
        assert text in result.stdout, f"{text!r} not on stdout: {result.stdout!r}"
    assert not PROGRESS.search(result.stdout) and SKIPPED not in result.stdout


def grey(path: Path, size: tuple[int, int] = (32, 48)) -> Path:
    write_image(path, np.full((*size, 3), 128, np.uint8))
    return path


def broken(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not an image\n")
    return path


# --- process --------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``in/`` with a good and a bad image; the working folder is ``tmp_path``, so that
    relative inputs must come out as absolute paths."""
    grey(tmp_path / "in" / "a.png")
    broken(tmp_path / "in" / "b.png")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [["blur", "--sigma", "1"], ["compress", "--format", "png"], ["pipeline", "steps.yaml"]],
    ids=lambda command: command[0],
)
def test_process_json_is_the_report(mixed: Path, command: list[str]) -> None:
    (mixed / "steps.yaml").write_text("- {op: blur, sigma: 1}\n")
    report = document(process_cli.app, *command, "in", "-o", "out", "--skip-bad")
    assert report["out_dir"] == str(mixed / "out") and report["inputs"] == [str(mixed / "in")]
    assert [Path(row["path"]).name for row in report["results"]] == ["a.png"]
    assert all(
        os.path.isabs(row["path"]) and os.path.isabs(row["output"]) for row in report["results"]
    )
    check_skipped(report, ["b.png"])
    assert json.loads((mixed / "out" / "report.json").read_text()) == report


def test_process_tables_and_summaries_on_stdout(mixed: Path) -> None:
    result = invoke(process_cli.app, "blur", "in", "-o", "out", "--skip-bad")
    check_people(result, "processed 1 of 2 images in ")
    assert str(mixed / "out") in result.stdout
    assert PROGRESS.search(result.stderr) and SKIPPED in result.stderr
    assert "b.png" in result.stderr and "b.png" not in result.stdout


def test_process_list_is_greppable_and_its_json_has_items() -> None:
    result = invoke(process_cli.app, "list")
    assert any("blur" in line for line in result.stdout.splitlines()) and not result.stderr
    items = document(process_cli.app, "list")["items"]
    assert "blur" in {item["name"] for item in items}


# --- face -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small faces-fr photos (linked, never copied): two of Obama, one of Kit Harington."""
    examples = data_dir("faces-fr") / "examples"
    folder = tmp_path_factory.mktemp("photos")
    sources = {
        "obama": examples / "obama_small.jpg",
        "obama2": examples / "obama-240p.jpg",
        "kit": examples / "knn_examples" / "train" / "kit_harington" / "john2.jpeg",
    }
    links = {}
    for name, source in sources.items():
        person = "kit" if name == "kit" else "obama"
        links[name] = folder / "people" / person / source.name
        links[name].parent.mkdir(parents=True, exist_ok=True)
        links[name].symlink_to(source)
    links["bad"] = broken(folder / "people" / "obama" / "zz_broken.jpg")
    links["grey"] = grey(folder / "grey.png")
    return links


@pytest.fixture(scope="module")
def gallery(photos: dict[str, Path]) -> Path:
    """The people of ``photos`` enrolled (through the command, checked as it goes)."""
    path = photos["grey"].parent / "faces.db"
    report = document(face_cli.app, "enroll", photos["obama"].parents[1], "-g", path, "-q")
    assert [person["name"] for person in report["enrolled"]] == ["kit", "obama"]
    assert report["gallery"] == str(path)
    check_skipped(report, ["zz_broken.jpg"])
    return path


@pytest.mark.parametrize("command", ["detect", "landmarks", "embed"])
def test_face_detect_json(photos: dict[str, Path], tmp_path: Path, command: str) -> None:
    inputs = [photos["obama"], photos["grey"], photos["bad"]]
    report = document(face_cli.app, command, *inputs, "--skip-bad", "-o", tmp_path / "drawn")
    assert set(report) == {"results", "skipped", "out_dir"}
    assert report["out_dir"] == str(tmp_path / "drawn")
    assert [row["path"] for row in report["results"]] == [str(p) for p in inputs[:2]]
    assert [len(row["faces"]) for row in report["results"]] == [1, 0]
    x1, y1, x2, y2 = report["results"][0]["faces"][0]["box"]
    assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 240  # pixel edges inside a 320 x 240 photo
    check_skipped(report, ["zz_broken.jpg"])


def test_face_detect_table_on_stdout(photos: dict[str, Path]) -> None:
    result = invoke(face_cli.app, "detect", photos["obama"], photos["bad"], "--skip-bad")
    check_people(result, "box (x1 y1 x2 y2)", "obama_small.jpg", "1 face(s) in 1 image(s)")
    assert PROGRESS.search(result.stderr) and SKIPPED in result.stderr


def test_face_enroll_table_on_stdout(photos: dict[str, Path], tmp_path: Path) -> None:
    people = photos["obama"].parents[1]
    result = invoke(face_cli.app, "enroll", people, "-g", tmp_path / "faces.db")
    check_people(result, "new embeddings", "obama", "enrolled 2 people into")
    assert SKIPPED in result.stderr and "zz_broken.jpg" not in result.stdout


def test_face_identify(gallery: Path, photos: dict[str, Path], tmp_path: Path) -> None:
    inputs = [photos["obama2"], photos["kit"], photos["bad"]]
    report = document(face_cli.app, "identify", *inputs, "-g", gallery, "--skip-bad", "-q")
    assert report["out_dir"] is None
    assert [(Path(row["path"]).name, row["name"]) for row in report["results"]] == [
        ("obama-240p.jpg", "obama"),
        ("john2.jpeg", "kit"),
    ]
    assert all(
        set(row) == {"path", "box", "detector", "name", "distance"} for row in report["results"]
    )
    check_skipped(report, ["zz_broken.jpg"])
    result = invoke(face_cli.app, "identify", *inputs, "-g", gallery, "--skip-bad")
    check_people(result, "distance", "obama-240p.jpg", "kit")
    assert SKIPPED in result.stderr


def test_face_verify(photos: dict[str, Path]) -> None:
    report = document(face_cli.app, "verify", photos["obama"], photos["obama2"])
    assert report["same"] is True and report["a"] == str(photos["obama"])
    assert len(report["box_a"]) == 4 and all(isinstance(v, float) for v in report["box_a"])
    result = invoke(face_cli.app, "verify", photos["obama"], photos["kit"])
    check_people(result, "different people: euclidean distance")


def test_face_calibrate(photos: dict[str, Path], tmp_path: Path) -> None:
    people = photos["obama"].parents[1]
    report = document(face_cli.app, "calibrate", "-d", people, "-o", tmp_path / "c", "-q")
    assert report["out_dir"] == str(tmp_path / "c") and report["roc"] == str(
        tmp_path / "c" / "roc.png"
    )
    check_skipped(report, ["zz_broken.jpg"])
    result = invoke(face_cli.app, "calibrate", "-d", people, "-o", tmp_path / "d")
    check_people(result, "pairs (1 same person) of 3 faces")
    assert SKIPPED in result.stderr


def test_face_anonymize(photos: dict[str, Path], tmp_path: Path) -> None:
    inputs = [photos["obama"], photos["bad"]]
    report = document(face_cli.app, "anonymize", *inputs, "-o", tmp_path / "a", "--skip-bad")
    assert report["out_dir"] == str(tmp_path / "a") and report["method"] == "blur"
    assert report["results"] == [
        {
            "path": str(photos["obama"]),
            "output": str(tmp_path / "a" / "obama_small.jpg"),
            "faces": 1,
        }
    ]
    check_skipped(report, ["zz_broken.jpg"])
    result = invoke(face_cli.app, "anonymize", *inputs, "-o", tmp_path / "b", "--skip-bad")
    check_people(result, "hid 1 face in 1 image -> ")
    assert SKIPPED in result.stderr


@pytest.fixture
def small_gallery(tmp_path: Path) -> Iterator[Path]:
    """A gallery with two people, made without any photograph."""
    from deepimage.faces import Gallery

    path = tmp_path / "faces.db"
    with Gallery(path) as store:
        store.add("ann", np.zeros((1, 128)), ["ann.jpg"])
        store.add("[bold]bob", np.ones((1, 128)), ["bob.jpg"])
    yield path


def test_face_gallery_commands(small_gallery: Path, tmp_path: Path) -> None:
    listed = document(face_cli.app, "list", "-g", small_gallery)
    assert [item["name"] for item in listed["items"]] == ["[bold]bob", "ann"]
    table = invoke(face_cli.app, "list", "-g", small_gallery)
    check_people(table, "embeddings", "ann", "[bold]bob")  # names are printed literally
    assert document(face_cli.app, "rename", "ann", "cy", "-g", small_gallery) == {
        "old": "ann",
        "new": "cy",
    }
    exported = document(face_cli.app, "export", tmp_path / "g.json", "-g", small_gallery)
    assert exported["file"] == str(tmp_path / "g.json") and exported["identities"] == 2
    imported = document(face_cli.app, "import", tmp_path / "g.json", "-g", tmp_path / "copy.db")
    assert imported["file"] == str(tmp_path / "g.json") and imported["embeddings"] == 2
    removed = document(face_cli.app, "remove", "cy", "-g", small_gallery)
    assert removed == {"removed": [{"name": "cy", "embeddings": 1}]}
    result = invoke(face_cli.app, "identify", grey(tmp_path / "g.png"), "-g", small_gallery)
    check_people(result, "distance")


# --- data inspect -----------------------------------------------------------------------


def test_data_inspect_folder(tmp_path: Path) -> None:
    for label, count in {"cat": 3, "dog": 1}.items():
        for index in range(count):
            grey(tmp_path / "train" / label / f"{index}.png", (8 + index, 8))
    broken(tmp_path / "train" / "dog" / "z.png")
    report = document(data_cli.app, tmp_path)
    assert report["splits"]["train"]["per_class"] == {"cat": 3, "dog": 1}
    check_skipped(report, ["z.png"])
    result = invoke(data_cli.app, tmp_path)
    check_people(result, "cat", "total", "train: width 8-8 (mean 8.0), height 8-10")
    assert "z.png" in result.stderr and "z.png" not in result.stdout
    assert "class imbalance" in result.stderr and "class imbalance" not in result.stdout


def test_data_inspect_detection(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "a.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "classes.txt").write_text("dot\n")
    report = document(data_cli.app, tmp_path)
    assert report["task"] == "detection" and report["classes"] == ["dot"]
    result = invoke(data_cli.app, tmp_path)
    check_people(result, "dot", "images/boxes", "box width")


# --- demo -------------------------------------------------------------------------------


def test_demo(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(demo_cli.demo)
    report = document(app, "--task", "process", "-o", tmp_path / "a", "--quiet")
    assert [part["name"] for part in report["results"]] == ["process"]
    assert Path(report["page"]).is_file()
    result = invoke(app, "--task", "process", "-o", tmp_path / "b", "--quiet")
    check_people(result, "denoised PSNR", "index.html")
    assert "deepimage demo" in result.stderr and "deepimage demo" not in result.stdout

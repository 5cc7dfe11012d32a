"""The face commands against bad input and faults (issue 11), each through the real command
line (``python -m deepimage face ...``): nothing lost, nothing let in, no traceback.

Galleries are made in-process from real embeddings of faces-fr photographs; every command
under test runs as its own process. The cropped-face identification builds 92x112 grey
crops of the Yale faces in a temporary folder (never in the repository).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.conftest import CliResult, cli_env, data_dir, run_deepimage
from typer.testing import CliRunner

from deepimage.api.faces import FaceRecognizer
from deepimage.cli.face import app
from deepimage.errors import DeepImageError
from deepimage.faces import Gallery, detect
from deepimage.io import read_image
from deepimage.io.writing import write_image

pytestmark = pytest.mark.integration

TITLE = "\x1b]0;title\x07\x1b[2Jevil"  # sets the window title, then clears the screen
LINK = "[link=file:///etc/passwd]click[/link]"
CROP = (92, 112)  # ORL's portraits: width, height


def photo(name: str) -> Path:
    examples = data_dir("faces-fr") / "examples"
    return {
        "obama": examples / "obama_small.jpg",
        "obama2": examples / "obama-240p.jpg",
        "kit": examples / "knn_examples" / "train" / "kit_harington" / "john2.jpeg",
    }[name]


@pytest.fixture(scope="module")
def vectors() -> dict[str, list[float]]:
    """The embedding of the one face of each photo of :func:`photo`."""
    names = ["obama", "obama2", "kit"]
    rows = FaceRecognizer().detect([photo(name) for name in names], embed=True)["results"]
    return {name: row["faces"][0]["embedding"] for name, row in zip(names, rows, strict=True)}


def gallery_of(path: Path, people: dict[str, list[float]]) -> Path:
    with Gallery(path) as gallery:
        for name, vector in people.items():
            gallery.add(name, np.array([vector]), [f"{name}.jpg"])
    return path


def refused(result: CliResult, *words: str) -> None:
    """Exit 2 with one error line holding ``words``, and no traceback."""
    assert result.code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert all(word in errors[0] for word in words), errors[0]


def ok(result: CliResult) -> CliResult:
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


# --- data loss ---------------------------------------------------------------------------


def test_export_refuses_the_gallery_itself_and_existing_files(
    tmp_path: Path, vectors: dict[str, list[float]]
) -> None:
    gallery = gallery_of(tmp_path / "g.db", {"ann": vectors["obama"]})
    refused(run_deepimage("face", "export", "-g", str(gallery), str(gallery)), "gallery itself")
    (tmp_path / "link.json").symlink_to(gallery)
    link = run_deepimage(
        "face", "export", "-g", str(gallery), str(tmp_path / "link.json"), "--force"
    )
    refused(link, "gallery itself")
    with Gallery(gallery, create=False) as store:
        assert [person.name for person in store.identities()] == ["ann"]
    with sqlite3.connect(gallery) as database:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    database.close()

    jpeg = tmp_path / "photo.jpg"
    jpeg.write_bytes(photo("obama").read_bytes())
    refused(run_deepimage("face", "export", "-g", str(gallery), str(jpeg)), str(jpeg), "--force")
    assert jpeg.read_bytes() == photo("obama").read_bytes()
    ok(run_deepimage("face", "export", "-g", str(gallery), str(jpeg), "--force"))
    assert json.loads(jpeg.read_text())["format"] == "deepimage-face-gallery"


def test_damaged_rows_are_left_out_and_reported_and_export_is_the_way_out(
    tmp_path: Path, vectors: dict[str, list[float]]
) -> None:
    gallery = gallery_of(tmp_path / "g.db", {"obama": vectors["obama"], "kit": vectors["kit"]})
    with Gallery(gallery) as store:
        store.add("ghost", np.array([vectors["obama2"]]))
        store.add("obama", np.array([vectors["obama2"]]))
    with sqlite3.connect(gallery) as database:  # a NaN row, and a blob cut short
        nan = np.full(128, np.nan).tobytes()
        database.execute("UPDATE embeddings SET vector = ? WHERE id = 3", (nan,))
        database.execute("UPDATE embeddings SET vector = substr(vector, 1, 100) WHERE id = 4")
    database.close()

    found = ok(
        run_deepimage("face", "identify", str(photo("obama2")), "-g", str(gallery), "--json")
    )
    assert [row["name"] for row in found.json()["results"]] == ["obama"]
    issues = found.json()["issues"]
    assert [item["kind"] for item in issues] == ["damaged-embedding"] * 2
    assert "NaN" in issues[0]["detail"] and "100 bytes" in issues[1]["detail"]
    assert "warning:" in found.stderr and "'ghost'" in found.stderr

    backup = tmp_path / "backup.json"
    exported = ok(run_deepimage("face", "export", str(backup), "-g", str(gallery), "--json"))
    assert exported.json()["embeddings"] == 2 and len(exported.json()["issues"]) == 2
    assert "warning:" in exported.stderr
    clean = tmp_path / "clean.db"
    imported = ok(run_deepimage("face", "import", str(backup), "-g", str(clean), "--json"))
    assert imported.json()["skipped"] == [] and imported.json()["embeddings"] == 2
    again = ok(run_deepimage("face", "identify", str(photo("obama2")), "-g", str(clean), "--json"))
    assert again.json()["issues"] == [] and "warning" not in again.stderr

    # a backup holding NaN (as exports made before this fix could): the rest comes in
    document = json.loads(backup.read_text())
    [kit] = [person for person in document["identities"] if person["name"] == "kit"]
    kit["embeddings"][0]["vector"][5] = float("nan")
    (tmp_path / "nan.json").write_text(json.dumps(document))
    partial = run_deepimage("face", "import", str(tmp_path / "nan.json"), "-g", str(tmp_path / "p.db"), "--json")  # fmt: skip
    report = ok(partial).json()
    assert report["embeddings"] == 1 and len(report["skipped"]) == 1
    assert "NaN" in report["skipped"][0]["reason"] and "left out" in partial.stderr


def test_existing_outputs_are_refused_unless_overwrite(
    tmp_path: Path, vectors: dict[str, list[float]]
) -> None:
    gallery = gallery_of(tmp_path / "g.db", {"obama": vectors["obama"]})
    out = tmp_path / "out"
    out.mkdir()
    kept = out / "obama-240p.jpg"
    kept.write_bytes(b"not to be lost")
    source = str(photo("obama2"))
    commands = {
        "anonymize": ["anonymize", source, "-o", str(out)],
        "identify": ["identify", source, "-g", str(gallery), "-o", str(out)],
        "detect": ["detect", source, "-o", str(out)],
    }
    for args in commands.values():
        refused(run_deepimage("face", *args), str(kept), "--overwrite")
        assert kept.read_bytes() == b"not to be lost"
    ok(run_deepimage("face", *commands["anonymize"], "--overwrite"))
    assert read_image(kept).shape == read_image(source).shape

    people = tmp_path / "people" / "obama"
    people.mkdir(parents=True)
    (people / "a.jpg").symlink_to(photo("obama"))
    (out / "report.json").write_text("{}")
    calibrate = ["face", "calibrate", "-d", str(tmp_path / "people"), "-o", str(out)]
    refused(run_deepimage(*calibrate), "report.json", "--overwrite")
    assert (out / "report.json").read_text() == "{}"


def test_export_on_a_full_disk_is_a_clear_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 64 KB tmpfs (as root) for a 200 KB export; elsewhere a monkeypatched fsync that
    fails as a full disk does."""
    rows = np.random.default_rng(0).normal(size=(60, 128))
    gallery = tmp_path / "g.db"
    with Gallery(gallery) as store:
        for number, row in enumerate(rows):
            store.add(f"person {number}", row[None])
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True
    )
    try:
        if mounted.returncode == 0:
            result = run_deepimage("face", "export", str(full / "g.json"), "-g", str(gallery))
            refused(result, "g.json", "disk is full")
        else:

            def no_space(fd: int) -> None:
                raise OSError(28, "No space left on device")

            monkeypatch.setattr(os, "fsync", no_space)
            outcome = CliRunner().invoke(app, ["export", str(full / "g.json"), "-g", str(gallery)])
            assert isinstance(outcome.exception, DeepImageError)
            assert "disk is full" in str(outcome.exception)
        assert list(full.iterdir()) == []  # no half-written export, no temporary file
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(full)], check=True)


# --- let in ------------------------------------------------------------------------------


def run_on_a_terminal(*args: str, cwd: Path) -> str:
    """``deepimage ARGS`` as on a colour terminal (Rich writes styles and links there);
    stdout and stderr together."""
    env = dict(cli_env(), FORCE_COLOR="1", COLUMNS="400", TERM="xterm-256color")
    done = subprocess.run(
        [sys.executable, "-m", "deepimage", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def assert_literal(output: str, *texts: str) -> None:
    """No terminal control from data (title, clear screen, links, bells) reached the
    output, and each of ``texts`` is there as written, control characters escaped."""
    assert "\x1b]" not in output and "\x07" not in output and "\x1b[2J" not in output
    for text in texts:
        assert text.encode("unicode_escape").decode() in output, (text, output)


def test_names_and_paths_are_printed_literally(
    tmp_path: Path, vectors: dict[str, list[float]]
) -> None:
    identities = [
        {"name": TITLE, "embeddings": [{"model": "dlib-resnet-v1", "vector": vectors["obama"]}]},
        {"name": LINK, "embeddings": [{"model": "dlib-resnet-v1", "vector": vectors["kit"]}]},
    ]
    export = tmp_path / "people.json"
    export.write_text(json.dumps({"format": "deepimage-face-gallery", "version": 1, "identities": identities}))  # fmt: skip
    gallery = str(tmp_path / "g.db")
    assert_literal(run_on_a_terminal("face", "import", str(export), "-g", gallery, cwd=tmp_path))
    evil = tmp_path / "[bold red]evil.jpg"
    evil.symlink_to(photo("obama2"))
    kit = tmp_path / "kit\x1b[2J.jpg"
    kit.symlink_to(photo("kit"))

    listed = run_on_a_terminal("face", "list", "-g", gallery, cwd=tmp_path)
    assert_literal(listed, TITLE, LINK)
    found = run_on_a_terminal("face", "identify", evil.name, kit.name, "-g", gallery, cwd=tmp_path)
    assert_literal(found, TITLE, LINK, evil.name, kit.name)
    detected = run_on_a_terminal("face", "detect", str(evil), str(kit), cwd=tmp_path)
    assert_literal(detected, evil.name, kit.name)
    renamed = run_on_a_terminal("face", "rename", LINK, "[red]x\x07", "-g", gallery, cwd=tmp_path)
    assert_literal(renamed, LINK, "[red]x\x07")
    enrolled = run_on_a_terminal("face", "enroll", "--name", TITLE + "2", kit.name, "-g", gallery, cwd=tmp_path)  # fmt: skip
    assert_literal(enrolled, TITLE + "2")
    missing = run_on_a_terminal("face", "remove", "nobody", "-g", str(kit), cwd=tmp_path)
    assert "error" in missing and "not a face gallery" in missing
    assert_literal(missing, str(kit))


# --- tracebacks where a clear error belongs ------------------------------------------------


def test_import_of_deeply_nested_or_endless_input_is_a_clear_error(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000)
    gallery = str(tmp_path / "g.db")
    refused(run_deepimage("face", "import", str(nested), "-g", gallery), "nested too deeply")
    refused(run_deepimage("face", "import", "/dev/zero", "-g", gallery), "/dev/zero", "not a file")
    refused(run_deepimage("face", "import", str(tmp_path), "-g", gallery), "not a file")
    refused(run_deepimage("face", "export", str(tmp_path), "-g", gallery), "a folder")


# --- same face, two names ------------------------------------------------------------------


def test_enrolling_one_face_under_two_names_warns(tmp_path: Path) -> None:
    gallery = str(tmp_path / "g.db")
    first = ok(run_deepimage("face", "enroll", "--name", "obama", str(photo("obama")), "-g", gallery, "--json"))  # fmt: skip
    assert first.json()["look_alikes"] == []
    again = ok(run_deepimage("face", "enroll", "--name", "barack", str(photo("obama2")), "-g", gallery, "--json"))  # fmt: skip
    [alike] = again.json()["look_alikes"]
    assert (alike["name"], alike["other"]) == ("barack", "obama") and alike["distance"] < 0.6
    assert alike["path"] == str(photo("obama2").resolve())
    assert "warning: 'barack'" in again.stderr and "'obama'" in again.stderr
    other = ok(run_deepimage("face", "enroll", "--name", "kit", str(photo("kit")), "-g", gallery, "--json"))  # fmt: skip
    assert other.json()["look_alikes"] == [] and "warning" not in other.stderr


# --- pre-cropped faces ---------------------------------------------------------------------


def tight_crop(image: np.ndarray) -> np.ndarray:
    """A 92x112 grey portrait of the face of a Yale image: its HOG box (the CNN's where HOG
    finds none), widened to 92:112 about its centre, nothing more around it."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    boxes = detect(grey).boxes
    x1, y1, x2, y2 = (boxes if len(boxes) else detect(grey, "cnn").boxes)[0]
    width = x2 - x1
    height = width * CROP[1] / CROP[0]
    left, top = (x1 + x2 - width) / 2, (y1 + y2 - height) / 2
    scale = CROP[0] / width
    warp = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]])
    return cv2.warpAffine(grey, warp, CROP, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def cropped_yale(folder: Path) -> None:
    """``folder/enroll/<person>/`` and ``folder/query/<person>/``: 5 + 5 crops of each of
    the 15 Yale people, byte-identical originals counted once, taken alternately in
    condition order (centerlight, glasses, happy, ...)."""
    seen: set[str] = set()
    taken: Counter[str] = Counter()
    for path in sorted((data_dir("faces-ids") / "yalefaces").glob("subject*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        person, condition = path.name.split(".")
        if digest in seen or taken[person] == 10:
            continue
        seen.add(digest)
        side = "enroll" if taken[person] % 2 == 0 else "query"
        taken[person] += 1
        write_image(folder / side / person / f"{condition}.png", tight_crop(read_image(path)))


def test_cropped_faces_are_found_and_identified(tmp_path: Path) -> None:
    """Measured (docs/faces.md): 15 people, 75 queries; without the fallback HOG finds no
    face in 8 queries; with it hog finds 67, hog-upsampled 2 and cnn 6, and all 75 are
    named right (1.000)."""
    cropped_yale(tmp_path)
    queries = sorted((tmp_path / "query").rglob("*.png"))
    assert len(queries) == 75 and all(read_image(q).shape[:2] == (112, 92) for q in queries)
    hog_only = ok(run_deepimage("face", "detect", str(tmp_path / "query"), "--no-fallback", "-w", "2", "-q", "--json"))  # fmt: skip
    missed = sum(not row["faces"] for row in hog_only.json()["results"])
    assert missed >= 2, "the crops are meant to be tight enough that HOG misses some"

    gallery = str(tmp_path / "g.db")
    enrolled = ok(run_deepimage("face", "enroll", str(tmp_path / "enroll"), "-g", gallery, "-w", "2", "-q", "--json"))  # fmt: skip
    assert len(enrolled.json()["enrolled"]) == 15 and enrolled.json()["skipped"] == []
    found = ok(run_deepimage("face", "identify", str(tmp_path / "query"), "-g", gallery, "-w", "2", "-q", "--json"))  # fmt: skip
    rows = found.json()["results"]
    named = {row["path"]: row["name"] for row in rows}
    assert len(named) == len(rows)  # one face per crop
    correct = sum(named.get(str(query)) == query.parent.name for query in queries)
    detectors = Counter(row["detector"] for row in rows)
    print(f"HOG alone misses {missed}/75; detectors {dict(detectors)}; {correct}/75 right")
    assert set(detectors) > {"hog"}
    assert correct / len(queries) >= 0.985


def test_the_whole_image_is_the_face_of_a_tight_crop_or_with_assume_face(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (120, 200), dtype=np.uint8)
    write_image(tmp_path / "portrait.png", noise[:112, :92])
    write_image(tmp_path / "landscape.png", noise)
    write_image(tmp_path / "flat.png", np.full((112, 92), 128, np.uint8))
    files = [str(tmp_path / name) for name in ("portrait.png", "landscape.png", "flat.png")]

    def faces(*options: str) -> list[list[tuple[list[float], str]]]:
        report = ok(run_deepimage("face", "detect", *files, "--json", *options)).json()
        return [[(f["box"], f["detector"]) for f in row["faces"]] for row in report["results"]]

    assert faces() == [[([0.0, 0.0, 92.0, 112.0], "whole-image")], [], []]
    assert faces("--no-fallback") == [[], [], []]
    assert faces("--assume-face") == [
        [([0.0, 0.0, 92.0, 112.0], "whole-image")],
        [([0.0, 0.0, 200.0, 120.0], "whole-image")],
        [([0.0, 0.0, 92.0, 112.0], "whole-image")],
    ]

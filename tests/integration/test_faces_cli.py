"""``deepimage face`` through the command line, on the faces-fr and Yale photographs.

``run_deepimage`` starts the real command (exit codes, a process to kill); ``invoke``
runs the same typer app in this process, which saves an interpreter start per call.
"""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import CliResult, cli_env, data_dir, run_deepimage, write_bad_images
from typer.testing import CliRunner

from deepimage.api.faces import FaceRecognizer
from deepimage.cli.face import app
from deepimage.faces import Gallery
from deepimage.io import read_image

pytestmark = pytest.mark.integration

# Who face_recognition's knn example finds in its test photos; the girl beside Obama
# and Biden is nobody enrolled.
EXPECTED = {
    "alex_lacamoire1.jpg": ["alex_lacamoire"],
    "johnsnow_test1.jpg": ["kit_harington"],
    "kit_with_rose.jpg": ["kit_harington", "rose_leslie"],
    "obama1.jpg": ["obama"],
    "obama_and_biden.jpg": ["biden", "obama", "unknown"],
}
INJECTION = "Robert'); DROP TABLE identities;--"
TRAVERSAL = "../../etc/passwd"


def invoke(*args: str) -> CliResult:
    """``deepimage face ARGS`` in this process; errors other than exits are raised."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def knn_examples() -> Path:
    return data_dir("faces-fr") / "examples" / "knn_examples"


def small(name: str) -> Path:
    """Small faces-fr photos (quick to search): obama (320x240 and 427x240), kit
    (630x374), alex (424x394), kit and rose (501x700)."""
    examples = data_dir("faces-fr") / "examples"
    return {
        "obama": examples / "obama_small.jpg",
        "obama-240p": examples / "obama-240p.jpg",
        "kit": examples / "knn_examples" / "train" / "kit_harington" / "john2.jpeg",
        "alex": examples / "alex-lacamoire.png",
        "kit+rose": examples / "knn_examples" / "test" / "kit_with_rose.jpg",
    }[name]


def names_by_file(rows: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(Path(row["path"]).name, []).append(row["name"])
    return {file: sorted(names) for file, names in found.items()}


def link(folder: Path, files: list[Path]) -> None:
    """Symbolic links to real images (data is never copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        (folder / file.name).symlink_to(file)


@pytest.fixture(scope="module")
def knn_gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five knn training people of faces-fr, enrolled with two workers."""
    gallery = tmp_path_factory.mktemp("gallery") / "faces.db"
    result = run_deepimage(
        "face", "enroll", str(knn_examples() / "train"), "--gallery", str(gallery),
        "--workers", "2", "--quiet", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = result.json()
    assert [p["name"] for p in report["enrolled"]] == [
        "alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie",
    ]  # fmt: skip
    assert report["skipped"] == [] and report["images"] == 9
    return gallery


@pytest.fixture(scope="module")
def test_embeddings() -> list[tuple[str, list[float]]]:
    """(path, embedding) of every face in the knn test photos."""
    rows = FaceRecognizer(workers=2).detect([knn_examples() / "test"], embed=True)["results"]
    return [(row["path"], face["embedding"]) for row in rows for face in row["faces"]]


def test_identify_names_every_known_face_and_the_stranger_unknown(
    knn_gallery: Path, tmp_path: Path
) -> None:
    out = tmp_path / "annotated"
    result = run_deepimage("face", "identify", str(knn_examples() / "test"), "--gallery",
                           str(knn_gallery), "-o", str(out), "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    # one object since the output conventions: results (was the whole output), skipped, out_dir
    report = result.json()
    assert report["skipped"] == [] and report["out_dir"] == str(out)
    rows = report["results"]
    assert names_by_file(rows) == EXPECTED
    for row in rows:
        assert set(row) == {"path", "box", "detector", "name", "distance"}
        assert len(row["box"]) == 4 and row["detector"] == "hog"
        assert (row["distance"] > 0.6) == (row["name"] == "unknown")
    for file in EXPECTED:  # annotated copies, inputs untouched
        assert read_image(out / file).shape == read_image(knn_examples() / "test" / file).shape


def test_identify_options_cosine_knn_and_faiss(knn_gallery: Path) -> None:
    result = invoke("identify", str(knn_examples() / "test"), "--gallery",
                           str(knn_gallery), "--metric", "cosine", "--knn", "3", "--index",
                           "faiss", "--workers", "2", "--quiet", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    rows = result.json()["results"]
    assert names_by_file(rows) == EXPECTED
    assert all((row["distance"] > 0.09) == (row["name"] == "unknown") for row in rows)


@pytest.mark.parametrize(
    "options",
    [{"metric": "cosine"}, {"knn": 3}, {"index": "faiss"}, {"metric": "cosine", "knn": 2}],
)
def test_identify_options_agree(
    knn_gallery: Path, test_embeddings: list[tuple[str, list[float]]], options: dict
) -> None:
    recognizer = FaceRecognizer(knn_gallery, **options)
    with Gallery(knn_gallery) as gallery:
        matches = gallery.identify(
            np.array([vector for _, vector in test_embeddings]),
            metric=recognizer.metric,
            threshold=recognizer.threshold,
            knn=recognizer.knn,
            index=recognizer.index,
        )
    paths = [path for path, _ in test_embeddings]
    rows = [{"path": p, "name": m.name} for p, m in zip(paths, matches, strict=True)]
    assert names_by_file(rows) == EXPECTED


def test_a_person_who_is_not_enrolled_is_unknown(
    knn_gallery: Path, test_embeddings: list[tuple[str, list[float]]], tmp_path: Path
) -> None:
    with Gallery(knn_gallery) as source, Gallery(tmp_path / "faces.db") as gallery:
        source.export(tmp_path / "all.json")
        gallery.import_file(tmp_path / "all.json")
        assert gallery.remove("obama") == {"obama": 2}
        matches = gallery.identify(np.array([vector for _, vector in test_embeddings]))
    paths = [Path(path).name for path, _ in test_embeddings]
    found = set(zip(paths, [m.name for m in matches], strict=True))
    assert ("obama1.jpg", "unknown") in found and not any(name == "obama" for _, name in found)


def test_detect_embed_and_landmarks_json_shapes(tmp_path: Path) -> None:
    images = [str(small("obama")), str(small("kit+rose"))]
    commands = {
        "detect": ["detect", *images, "--json", "-o", str(tmp_path / "boxes")],
        "embed": ["embed", *images, "--json", "--workers", "2"],
        "landmarks": ["landmarks", *images, "--points", "5", "--json"],
    }
    reports = {}
    for name, args in commands.items():
        result = invoke(*args)
        assert result.code == 0, result.stderr
        reports[name] = result.json()
    # adapted to the output conventions: {results, skipped, out_dir} (was the bare list of
    # results) and float pixel-edge boxes (were dlib's inclusive integer rectangles)
    for report in reports.values():
        assert [item["path"] for item in report["results"]] == images
        assert [len(item["faces"]) for item in report["results"]] == [1, 2]
        assert report["skipped"] == []
    assert reports["detect"]["out_dir"] == str(tmp_path / "boxes")
    assert reports["embed"]["out_dir"] is None
    detected, embedded, marked = (reports[name]["results"] for name in commands)
    for face in detected[1]["faces"]:
        assert set(face) == {"box", "score", "detector"} and face["detector"] == "hog"
        assert all(isinstance(v, float) for v in face["box"])
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= 501 and 0 <= y1 < y2 <= 700  # kit_with_rose is 501 x 700
    assert [f["box"] for f in embedded[1]["faces"]] == [f["box"] for f in detected[1]["faces"]]
    assert all(len(f["embedding"]) == 128 for item in embedded for f in item["faces"])
    assert all(np.shape(f["landmarks"]) == (5, 2) for item in marked for f in item["faces"])
    assert (tmp_path / "boxes" / "obama_small.jpg").is_file()


def test_outputs_never_replace_inputs(tmp_path: Path) -> None:
    link(tmp_path / "photos", [small("obama")])
    for command in ("detect", "anonymize"):
        result = run_deepimage(
            "face", command, str(tmp_path / "photos"), "-o", str(tmp_path / "photos")
        )
        assert result.code == 2 and "would replace an input file" in result.stderr
    assert (tmp_path / "photos" / "obama_small.jpg").is_symlink()


def test_workers_give_the_same_answers_as_one_process() -> None:
    images = [small(name) for name in ("obama", "kit", "alex", "kit+rose", "obama-240p")]
    one = FaceRecognizer(workers=1).detect(images, embed=True)
    two = FaceRecognizer(workers=2).detect(images, embed=True)
    assert one == two and [Path(item["path"]) for item in two["results"]] == images


def test_verify_one_to_one() -> None:
    same = invoke("verify", str(small("obama")), str(small("obama-240p")), "--json")
    other = invoke("verify", str(small("obama")), str(small("kit")), "--metric", "cosine")
    assert same.code == 0 and same.json()["same"] is True and same.json()["distance"] < 0.6
    assert other.code == 0 and "different people: cosine distance" in other.stdout  # a result


def test_anonymize_changes_only_faces(tmp_path: Path) -> None:
    source = data_dir("faces-fr") / "examples" / "alex-lacamoire.png"
    boxes = invoke("detect", str(source), "--json").json()["results"][0]["faces"]
    result = invoke("anonymize", str(source), "-o", str(tmp_path), "--mode",
                           "pixelate", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json()["results"][0]["faces"] == len(boxes) == 1  # was under "images"
    assert result.json()["out_dir"] == str(tmp_path) and result.json()["skipped"] == []
    before, after = read_image(source), read_image(tmp_path / source.name)
    changed = (before != after).any(axis=2)
    x1, y1, x2, y2 = (int(v) for v in boxes[0]["box"])  # pixel edges: HOG's are whole pixels
    pad_x, pad_y = round((x2 - x1) * 0.2), round((y2 - y1) * 0.2)
    inside = np.zeros(changed.shape, bool)
    inside[max(y1 - pad_y, 0) : y2 + pad_y, max(x1 - pad_x, 0) : x2 + pad_x] = True
    assert changed[y1:y2, x1:x2].mean() > 0.5 and not changed[~inside].any()


def test_enroll_skips_and_lists_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "people"
    link(folder / "obama", [small("obama")])
    link(folder / "kit", [small("kit")])
    link(folder / "pair", [small("kit+rose")])
    buffer = io.BytesIO()
    Image.open(small("obama-240p")).save(buffer, format="JPEG")
    bad = write_bad_images(folder / "obama", buffer.getvalue())
    (folder / "nobody").mkdir()
    Image.new("RGB", (64, 64), "grey").save(folder / "nobody" / "blank.png")
    Image.new("RGB", (64, 64), "grey").save(folder / "loose.png")
    gallery = tmp_path / "faces.db"
    result = run_deepimage("face", "enroll", str(folder), "-g", str(gallery), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert [(p["name"], p["images"]) for p in report["enrolled"]] == [("kit", 1), ("obama", 1)]
    reasons = {Path(item["path"]).name: item["reason"] for item in report["skipped"]}
    assert sorted(reasons) == sorted(
        [p.name for p in bad] + ["blank.png", "loose.png", "kit_with_rose.jpg"]
    )
    assert reasons["c_empty.png"] == "zero-byte file" and "not an image" in reasons["d_text.png"]
    assert "truncated" in reasons["b_truncated.jpg"] and "pixels" in reasons["e_huge.png"]
    assert reasons["blank.png"].startswith("no face found")
    assert reasons["kit_with_rose.jpg"].startswith("2 faces found")
    assert reasons["loose.png"] == "not in a person subfolder"
    human = invoke("enroll", str(folder), "-g", str(gallery))
    assert human.code == 0 and "skipped 7 file(s)" in human.stderr
    assert all(name in human.stderr for name in reasons)
    nothing = run_deepimage(
        "face", "enroll", str(folder / "nobody"), "--name", "x", "-g", str(gallery)
    )
    assert nothing.code == 2 and "nobody enrolled" in nothing.stderr


def test_names_are_stored_verbatim_and_the_gallery_commands(tmp_path: Path) -> None:
    gallery, copy = str(tmp_path / "faces.db"), str(tmp_path / "copy.db")
    for name, image in [(INJECTION, small("obama")), (TRAVERSAL, small("kit"))]:
        result = invoke("enroll", "--name", name, str(image), "-g", gallery)
        assert result.code == 0, result.stderr
    listed = invoke("list", "-g", gallery, "--json").json()["items"]  # was a bare list
    assert [(p["name"], p["embeddings"], p["models"]) for p in listed] == [
        (TRAVERSAL, 1, ["dlib-resnet-v1"]),
        (INJECTION, 1, ["dlib-resnet-v1"]),
    ]
    assert invoke("rename", INJECTION, "bobby", "-g", gallery).code == 0
    exported = invoke("export", str(tmp_path / "g.json"), "-g", gallery, "--json")
    assert exported.json() == {
        "file": str(tmp_path / "g.json"), "identities": 2, "embeddings": 2, "issues": [],
    }  # fmt: skip
    imported = invoke("import", str(tmp_path / "g.json"), "-g", copy, "--json")
    assert imported.json()["embeddings"] == 2
    removed = run_deepimage("face", "remove", "bobby", "nobody", "-g", copy)
    assert removed.code == 2 and "nobody called 'nobody' is enrolled" in removed.stderr
    found = invoke("identify", str(small("obama-240p")), str(small("kit")),
                          "-g", copy, "--json")  # fmt: skip
    assert [row["name"] for row in found.json()["results"]] == ["bobby", TRAVERSAL]  # rolled back
    removed = invoke("remove", "bobby", "-g", copy, "--json")
    assert removed.json() == {"removed": [{"name": "bobby", "embeddings": 1}]}
    database = sqlite3.connect(gallery)
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not (tmp_path / "etc").exists()


def test_calibrate_on_yale_names(tmp_path: Path) -> None:
    """Four Yale subjects labelled by file name: 43 images, each with its face found (HOG
    misses subject01.rightlight; the CNN, the fallback, finds it)."""
    yale = data_dir("faces-ids") / "yalefaces"
    link(tmp_path / "yale", sorted(p for p in yale.iterdir() if p.name < "subject05"))
    result = invoke("calibrate", "--data", str(tmp_path / "yale"), "-o",
                           str(tmp_path / "out"), "--workers", "2", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    report = result.json()
    assert (report["images"], report["people"], report["embeddings"]) == (43, 4, 43)
    assert report["skipped"] == []
    assert report["out_dir"] == str(tmp_path / "out")
    assert report["accuracy"] >= 0.95 and report["auc"] >= 0.98
    assert 0.3 < report["threshold"] < 0.7
    assert (tmp_path / "out" / "roc.png").stat().st_size > 5000
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report


def _identities(database: Path) -> dict[str, int]:
    """Enrolled names and their embedding counts, read without writing."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        try:
            return dict(
                connection.execute(
                    "SELECT i.name, count(e.id) FROM identities i "
                    "JOIN embeddings e ON e.identity_id = i.id GROUP BY i.id"
                )
            )
        finally:
            connection.close()
    except sqlite3.Error:  # not created yet, or busy
        return {}


def test_sigkill_during_enroll_keeps_every_committed_identity(tmp_path: Path) -> None:
    yale = data_dir("faces-ids") / "yalefaces"
    subjects = [f"subject{n:02d}" for n in range(2, 9)]
    for subject in subjects:  # noglasses, normal, wink: 3 images each
        link(tmp_path / "people" / subject, sorted(yale.glob(f"{subject}.[nw]*")))
    gallery = tmp_path / "faces.db"
    command = [sys.executable, "-m", "deepimage", "face", "enroll", str(tmp_path / "people"),
               "-g", str(gallery), "--quiet", "--json"]  # fmt: skip
    process = subprocess.Popen(
        command, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 300
    while len(seen) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = _identities(gallery)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL, "enroll ended before it could be killed"
    assert len(seen) >= 3
    database = sqlite3.connect(gallery)
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    database.close()
    after = _identities(gallery)
    assert len(after) < len(subjects) and {name: after[name] for name in seen} == seen
    again = invoke(*command[4:])  # the same enrollment, run to the end
    assert again.code == 0, again.stderr
    added = {person["name"]: person["added"] for person in again.json()["enrolled"]}
    assert sorted(added) == subjects and all(added[name] == 0 for name in seen)
    assert {name: _identities(gallery)[name] for name in seen} == seen

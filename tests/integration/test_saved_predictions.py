"""Predictions saved the ways people use them (``classify predict -o``: copies sorted into
class folders and predictions.csv), and images without an extension (the Yale faces) read
by every command."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import data_dir, run_deepimage

from deepimage.data.classification import load_classification_data

YALE = ["subject01.happy", "subject02.sad", "subject03.wink"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The run folder of small-cnn trained for one epoch on the built-in digits."""
    runs = tmp_path_factory.mktemp("runs")
    result = run_deepimage(
        "classify", "train", "--data", "digits", "--epochs", "1", "--runs", str(runs),
        "--device", "cpu", "--quiet", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return result.json()["out_dir"]


def yale_copies(folder: Path, names: list[str] = YALE) -> list[Path]:
    """Real Yale faces (GIFs named ``subject01.happy``, no image extension) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    source = data_dir("faces-ids") / "yalefaces"
    return [Path(shutil.copyfile(source / name, folder / name)) for name in names]


def digit_images(folder: Path, count: int = 4) -> list[Path]:
    """The first ``count`` digits as PNG files named alike, each in a folder of its own."""
    images = load_classification_data("digits", seed=0).splits["test"].images[:count, ..., 0]
    paths = [folder / f"d{i}" / "digit.png" for i in range(count)]
    for path, image in zip(paths, images, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
    return paths


def predict(run: str, *args: str) -> tuple[int, dict | str]:
    result = run_deepimage("classify", "predict", "--model", run, *args, "--device", "cpu",
                           "--quiet", "--json")  # fmt: skip
    return result.code, result.json() if result.code == 0 else result.stderr


def test_classify_predict_sorts_byte_copies_into_class_folders(
    digits_run: str, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    digit_images(inputs)
    yale_copies(inputs / "faces")
    before = {path: path.read_bytes() for path in inputs.rglob("*") if path.is_file()}
    out = tmp_path / "sorted"
    code, document = predict(digits_run, str(inputs), "-o", str(out), "--top-k", "3")
    assert code == 0, document
    rows = document["results"]
    assert len(rows) == 7 and document["out_dir"] == str(out)  # the faces are read too
    copies = {Path(row["copy_file"]) for row in rows}
    assert copies == {path for path in out.rglob("*") if path.is_file()} - {out / "predictions.csv"}
    for row in rows:
        copy = Path(row["copy_file"])
        assert copy.parent == out / row["label"]
        assert copy.read_bytes() == before[Path(row["path"])]  # never re-encoded
    names = sorted(Path(row["copy_file"]).name for row in rows)
    assert names[:4] == ["digit-1.png", "digit-2.png", "digit-3.png", "digit.png"]
    assert {path: path.read_bytes() for path in before} == before  # inputs untouched
    with open(out / "predictions.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["path", "label", "score", "top2_label", "top2_score",
                              "top3_label", "top3_score"]  # fmt: skip
    assert [(r["path"], r["label"], float(r["score"])) for r in table] == [
        (row["path"], row["label"], row["score"]) for row in rows
    ]
    assert [(r["top3_label"], float(r["top3_score"])) for r in table] == [
        (row["top"][2]["label"], row["top"][2]["score"]) for row in rows
    ]


def test_classify_predict_refuses_existing_copies_before_predicting(
    digits_run: str, tmp_path: Path
) -> None:
    faces = yale_copies(tmp_path / "in")
    out = tmp_path / "sorted"
    assert predict(digits_run, *map(str, faces), "-o", str(out))[0] == 0
    code, error = predict(digits_run, *map(str, faces), "-o", str(out))
    assert code == 2 and "already exists" in error and "--overwrite" in error
    assert "the output of" in error and "Traceback" not in error
    (out / "predictions.csv").unlink()
    (out / "elsewhere").mkdir()  # a name in any class folder is refused, whatever the label
    shutil.move(next(out.glob("*/subject02.sad")), out / "elsewhere" / "subject02.sad")
    for other in out.glob("[0-9]/*"):
        other.unlink()
    code, error = predict(digits_run, str(faces[1]), "-o", str(out))
    assert code == 2 and str(out / "elsewhere" / "subject02.sad") in error
    code, document = predict(digits_run, *map(str, faces), "-o", str(out), "--overwrite")
    assert code == 0 and len(document["results"]) == 3
    (out / "elsewhere" / "subject02.sad").unlink()
    code, error = predict(digits_run, *map(str, faces), "-o", str(out))
    assert code == 2 and "predictions.csv" not in error  # the copies are named first


def test_csv_is_refused_unless_overwrite(digits_run: str, tmp_path: Path) -> None:
    face = yale_copies(tmp_path / "in", YALE[:1])[0]
    out = tmp_path / "sorted"
    out.mkdir()
    (out / "predictions.csv").write_text("old\n")
    code, error = predict(digits_run, str(face), "-o", str(out))
    assert code == 2 and str(out / "predictions.csv") in error
    assert predict(digits_run, str(face), "-o", str(out), "--overwrite")[0] == 0
    assert (out / "predictions.csv").read_text().startswith("path,label,score")


def test_extensionless_images_are_read_by_process_and_face_detect(tmp_path: Path) -> None:
    faces = yale_copies(tmp_path / "in" / "sub")
    (tmp_path / "in" / "notes.txt").write_text("not an image\n")
    out = tmp_path / "flipped"
    result = run_deepimage("process", "flip", str(tmp_path / "in"), "-o", str(out), "--json")
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in (out / "sub").iterdir()) == [f"{n}.png" for n in YALE]
    flipped = np.asarray(Image.open(out / "sub" / "subject01.happy.png").convert("L"))
    assert np.array_equal(flipped, np.asarray(Image.open(faces[0]).convert("L"))[:, ::-1])
    result = run_deepimage("face", "detect", str(tmp_path / "in"), str(faces[0]), "--json")
    assert result.code == 0, result.stderr
    rows = result.json()["results"]
    assert sorted(Path(row["path"]).name for row in rows) == YALE
    assert all(row["faces"] for row in rows)

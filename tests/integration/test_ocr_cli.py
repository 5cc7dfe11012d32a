"""``deepimage ocr synth / train / evaluate / predict`` as a user runs them, on synthetic
lines: a short run learns an easy alphabet, and evaluate's exact match is the one
computed from what predict --json returns."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tests.conftest import run_deepimage

pytestmark = pytest.mark.integration
FAST = ["--quiet", "--json"]


def _texts(folder: Path) -> dict[str, str]:
    with open(folder / "labels.csv", newline="") as handle:
        return {row["path"]: row["text"] for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def lines_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("ocr")
    made = run_deepimage(
        "ocr", "synth", "-o", str(root / "lines"), "-n", "320", "--test-count", "40",
        "--alphabet", "ABC", "--length", "2-3", "--height", "32", *FAST,
    )  # fmt: skip
    assert made.code == 0, made.stderr
    assert made.json()["train"] == 320
    trained = run_deepimage(
        "ocr", "train", "--data", str(root / "lines"), "--epochs", "20", "--warmup-steps",
        "20", "--runs", str(root / "runs"), *FAST,
    )  # fmt: skip
    assert trained.code == 0, trained.stderr
    return root, trained.json()


def test_a_short_run_learns_an_easy_alphabet(lines_run: tuple[Path, dict]) -> None:
    _, report = lines_run
    assert report["task"] == "ocr" and report["alphabet"] == "ABC"
    assert report["val"]["metrics"]["exact_match"] >= 0.8, report["val"]
    assert report["test"]["metrics"]["cer"] <= 0.1


def test_evaluate_is_what_predict_returns(lines_run: tuple[Path, dict]) -> None:
    root, report = lines_run
    test = root / "lines" / "test"
    for decoder in ("greedy", "beam"):
        scored = run_deepimage(
            "ocr", "evaluate", "--model", report["out_dir"], "--data", str(root / "lines"),
            "--decoder", decoder, "--json",
        )  # fmt: skip
        assert scored.code == 0, scored.stderr
        read = run_deepimage(
            "ocr", "predict", "--model", report["out_dir"], str(test), "--decoder", decoder,
            "--json",
        )  # fmt: skip
        assert read.code == 0, read.stderr
        rows = read.json()["results"]
        truth = _texts(test)
        assert len(rows) == len(truth) == scored.json()["images"] == 40
        exact = sum(row["text"] == truth[Path(row["path"]).name] for row in rows) / len(rows)
        assert scored.json()["metrics"]["exact_match"] == pytest.approx(exact)
        assert all(0.0 <= row["confidence"] <= 1.0 for row in rows)


def test_a_bad_line_is_named_and_skip_bad_lists_it(
    lines_run: tuple[Path, dict], tmp_path: Path
) -> None:
    _, report = lines_run
    (tmp_path / "AB.png").write_bytes(b"\x89PNG broken")
    refused = run_deepimage("ocr", "predict", "--model", report["out_dir"], str(tmp_path))
    assert refused.code == 2 and "AB.png" in refused.stderr
    assert "Traceback" not in refused.stderr
    skipped = run_deepimage(
        "ocr", "predict", "--model", report["out_dir"], str(tmp_path), "--skip-bad", "--json"
    )
    assert skipped.code == 0 and [Path(s["path"]).name for s in skipped.json()["skipped"]] == [
        "AB.png"
    ]
    data = tmp_path / "data"
    data.mkdir()
    (data / "AB.png").write_bytes(b"\x89PNG broken")
    trained = run_deepimage("ocr", "train", "--data", str(data), "--epochs", "1", *FAST)
    assert trained.code == 2 and "AB.png" in trained.stderr

"""The clip classification workflow through the real command line, on synthetic clips (a
square moving in one of 4 directions, 16 frames of 32x32) given as frame folders and AVI
files: train, evaluate, predict, and bad clips stopping a command or listed as skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import run_deepimage
from tests.video_data import write_clip_set

from deepimage.api import Model

FAST = ["--quiet", "--json", "--device", "cpu"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """cnn-gru trained for a few steps on 48 clips (a quarter held out as val)."""
    root = tmp_path_factory.mktemp("clips")
    data = write_clip_set(root / "moving", {"train": 16, "test": 4})
    result = run_deepimage(
        "video", "train", "--data", str(data), "--epochs", "4", "--batch-size", "8",
        "--val-fraction", "0.25", "--runs", str(root / "runs"), *FAST,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return {"report": result.json(), "data": data, "root": root}


@pytest.fixture(scope="module")
def bad_data(trained: dict) -> tuple[Path, list[str]]:
    """The clips plus, among the test clips, a corrupt AVI and a frame folder with an
    unreadable frame."""
    root = trained["root"] / "bad"
    shutil.copytree(trained["data"], root)
    corrupt = root / "test" / "left" / "corrupt.avi"
    corrupt.write_bytes(b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(2000))
    unreadable = root / "test" / "up" / "clip0"
    (unreadable / "frame5.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root, sorted([str(corrupt), str(unreadable)])


def test_train_reports_clips_and_learns(trained: dict) -> None:
    report = trained["report"]
    run = Path(report["out_dir"])
    assert report["task"] == "video" and report["model"] == "cnn-gru"
    assert (run / "checkpoints" / "best.ckpt").is_file() and (run / "metrics.csv").is_file()
    assert report["epochs"] == 4 and report["train_images_per_s"] > 0
    assert report["train_images"] == 48 and report["val"]["images"] == 16
    assert (report["img_size"], report["channels"], report["frames"]) == (32, 1, 16)
    assert report["skipped"] == [] and "val/top1" in (run / "metrics.csv").read_text()
    assert report["test"]["images"] == 16
    assert report["test"]["metrics"]["top1"] > 0.4  # 4 directions: chance is 0.25


def test_evaluate_json(trained: dict, tmp_path: Path) -> None:
    run, data = trained["report"]["out_dir"], trained["data"]
    scored = run_deepimage("video", "evaluate", "--model", run, "--data", str(data),
                           "-o", str(tmp_path / "plots"), "--json")  # fmt: skip
    assert scored.code == 0, scored.stderr
    report = scored.json()
    assert report["split"] == "test" and report["images"] == 16 and report["skipped"] == []
    assert report["metrics"]["top1"] == trained["report"]["test"]["metrics"]["top1"]
    assert [row["class"] for row in report["per_class"]] == ["down", "left", "right", "up"]
    assert str(tmp_path / "plots" / "confusion_test.png") in report["plots"]


def test_predict_json_lists_rows_and_skipped_clips(
    trained: dict, bad_data: tuple[Path, list[str]]
) -> None:
    root, bad = bad_data
    clips = [root / "test" / "up" / "clip1.avi", root / "test" / "left" / "clip0", *map(Path, bad)]
    predicted = run_deepimage("video", "predict", "--model", trained["report"]["out_dir"],
                              *map(str, clips), str(root / "test" / "down"), "--top-k", "2",
                              "--skip-bad", "--json")  # fmt: skip
    assert predicted.code == 0, predicted.stderr
    rows = predicted.json()["results"]
    assert [row["path"] for row in rows[:2]] == [str(clip) for clip in clips[:2]]
    assert len(rows) == 6 and set(rows[0]) == {"path", "label", "score", "top"}
    assert len(rows[0]["top"]) == 2 and rows[0]["label"] == rows[0]["top"][0]["label"]
    assert sorted(item["path"] for item in predicted.json()["skipped"]) == bad


def test_bad_clips_are_one_line_errors(trained: dict, bad_data: tuple[Path, list[str]]) -> None:
    root, (corrupt, unreadable) = bad_data
    commands = {
        corrupt: ["train", "--data", str(root), "--runs", str(trained["root"] / "x"), "--quiet"],
        unreadable: ["predict", "--model", trained["report"]["out_dir"], unreadable],
    }  # train names the first bad clip in path order
    for named, command in commands.items():
        result = run_deepimage("video", *command)
        lines = result.stderr.strip().splitlines()
        assert result.code == 2 and len(lines) == 1, (command, result.stderr)
        assert lines[0].startswith(f"error: {named}: ") and "--skip-bad" in lines[0]
    assert "frame5.png" in lines[0]  # the unreadable frame is named too


def test_skip_bad_leaves_bad_clips_out_of_an_evaluation(
    trained: dict, bad_data: tuple[Path, list[str]]
) -> None:
    root, bad = bad_data
    model = Model.load(trained["report"]["best_checkpoint"])  # the API behind the commands
    report = model.evaluate(root, skip_bad=True, device="cpu")
    assert sorted(item["path"] for item in report["skipped"]) == bad
    assert report["images"] == 15  # the 16 test clips, less the unreadable one
    rows = model.predict([np.zeros((16, 32, 32), np.uint8), np.zeros((5, 40, 40, 3), np.uint8)])
    assert [row["path"] for row in rows] == [None, None] and rows.skipped == []

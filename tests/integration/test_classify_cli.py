"""The classification workflow through the real command line, on real data."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import cli_env, data_dir, run_deepimage, write_bad_images
from tests.unit.test_engine import write_malicious_checkpoint

from deepimage.data.classification import load_classification_data
from deepimage.engine.checkpoints import load_checkpoint

FAST = ["--quiet", "--json", "--device", "cpu"]


def _fashion_folder(root: Path, per_class: int = 30) -> Path:
    """An ImageFolder (class subfolders only) of real Fashion-MNIST PNGs."""
    data = load_classification_data("fashion-mnist")
    train = data.splits["train"]
    for label, name in enumerate(data.classes[:4]):
        folder = root / name.replace("/", "-")
        folder.mkdir(parents=True)
        for i in np.flatnonzero(train.labels == label)[:per_class]:
            Image.fromarray(train.images[i, ..., 0]).save(folder / f"{i}.png")
    return root


def _add_bad_files(folder: Path) -> list[str]:
    """The four kinds of bad image file, beside real images of one class."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((28, 28), 128, np.uint8)).save(buffer, format="JPEG", quality=90)
    return [str(p) for p in write_bad_images(folder, buffer.getvalue())]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """small-cnn trained briefly on a folder of real Fashion-MNIST images."""
    data_dir("fashion-mnist")
    root = tmp_path_factory.mktemp("fmnist")
    folder = _fashion_folder(root / "images")
    result = run_deepimage(
        "classify", "train", "--data", str(folder), "--epochs", "3", "--batch-size", "16",
        "--runs", str(root / "runs"), "--workers", "2", *FAST,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return {"report": result.json(), "folder": folder, "root": root}


def test_train_writes_a_complete_run_folder(trained_run: dict) -> None:
    report = trained_run["report"]
    run = Path(report["out_dir"])
    for name in [
        "config.yaml",
        "metrics.csv",
        "report.json",
        "checkpoints/last.ckpt",
        "checkpoints/best.ckpt",
    ]:
        assert (run / name).is_file(), name
    assert (run / "plots" / "training_curves.png").stat().st_size > 1000
    best = load_checkpoint(run / "checkpoints" / "best.ckpt")
    last = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert "optimizer_states" not in best and "optimizer_states" in last  # resume needs them
    assert report["epochs"] == 3 and report["train_images_per_s"] > 0
    assert report["test"]["metrics"]["top1"] > 0.5  # 4 classes: chance is 0.25


def test_evaluate_reports_metrics_and_plots(trained_run: dict, deepimage, tmp_path: Path) -> None:
    run = trained_run["report"]["out_dir"]
    out = tmp_path / "eval"
    result = deepimage("classify", "evaluate", "--model", run, "--data", str(trained_run["folder"]),
                       "--split", "test", "--out", str(out), "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    document = result.json()  # the evaluate shape: headline figures under "metrics"
    metrics = document["metrics"]
    assert 0 <= metrics["top1"] <= metrics["top5"] <= 1
    assert len(document["per_class"]) == 4 and 0 <= metrics["ece"] <= 1
    assert sum(map(sum, document["confusion_matrix"])) == document["images"]
    assert document["out_dir"] == str(out) and document["skipped"] == []
    assert (out / "confusion_test.png").is_file() and (out / "confusion_test.csv").is_file()


def test_predict_labels_files_folders_and_globs(trained_run: dict, deepimage) -> None:
    folder = trained_run["folder"]
    ckpt = trained_run["report"]["best_checkpoint"]
    first_class = sorted(folder.iterdir())[0]
    result = deepimage("classify", "predict", str(first_class), str(folder / "*" / "1*.png"),
                       "--model", ckpt, "--top-k", "2", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    rows = result.json()["results"]  # the predict shape: {task, model, results, skipped, ...}
    assert len(rows) >= 30
    assert set(rows[0]) == {"path", "label", "score", "top"} and len(rows[0]["top"]) == 2
    hits = [r["label"] == Path(r["path"]).parent.name for r in rows]  # 4 classes: chance 0.25
    assert np.mean(hits) > 0.5


def test_bad_images_stop_training_with_a_clear_error(
    tmp_path: Path, deepimage, require_data
) -> None:
    require_data("fashion-mnist")
    folder = _fashion_folder(tmp_path / "images", per_class=8)
    bad = _add_bad_files(folder / sorted(os.listdir(folder))[0])
    result = deepimage("classify", "train", "--data", str(folder), "--epochs", "1",
                       "--runs", str(tmp_path / "runs"), *FAST)  # fmt: skip
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert bad[0] in result.stderr.replace("\n", "")


def test_skip_bad_trains_and_lists_the_bad_files(tmp_path: Path, deepimage, require_data) -> None:
    require_data("fashion-mnist")
    folder = _fashion_folder(tmp_path / "images", per_class=8)
    bad = _add_bad_files(folder / sorted(os.listdir(folder))[0])
    result = deepimage("classify", "train", "--data", str(folder), "--epochs", "1", "--skip-bad",
                       "--runs", str(tmp_path / "runs"), *FAST)  # fmt: skip
    assert result.code == 0, result.stderr
    listed = sorted(item["path"] for item in result.json()["skipped"])
    assert listed == bad
    saved = json.loads((Path(result.json()["out_dir"]) / "report.json").read_text())
    assert len(saved["skipped"]) == 4


def test_malicious_model_files_are_refused_everywhere(
    tmp_path: Path, deepimage, trained_run: dict
) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    write_malicious_checkpoint(evil, marker)
    evil_run = tmp_path / "evil-run"
    (evil_run / "checkpoints").mkdir(parents=True)
    write_malicious_checkpoint(evil_run / "checkpoints" / "last.ckpt", marker)
    (evil_run / "config.yaml").write_text(
        Path(trained_run["report"]["out_dir"], "config.yaml").read_text()
    )
    folder = str(trained_run["folder"])
    commands = [
        ["classify", "evaluate", "--model", str(evil), "--data", folder],
        ["classify", "predict", folder, "--model", str(evil)],
        ["classify", "train", "--data", folder, "--weights", str(evil), "--runs", str(tmp_path)],
        ["classify", "train", "--resume", str(evil_run)],
    ]
    for command in commands:
        result = deepimage(*command, "--quiet") if command[1] == "train" else deepimage(*command)
        assert result.code == 2, (command, result.stderr)
        assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


def _train_digits(runs: Path, name: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "deepimage", "classify", "train", "--data", "digits",
        "--img-size", "16", "--epochs", "5", "--batch-size", "8", "--deterministic",
        "--runs", str(runs), "--name", name, *FAST, *extra,
    ]  # fmt: skip


def _wait_for_epoch(
    metrics: Path, epoch: int, process: subprocess.Popen, timeout: float = 300
) -> None:
    """Return once ``metrics.csv`` has a row from ``epoch`` (0-based)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if metrics.is_file() and any(
            line.startswith(f"{epoch},") for line in metrics.read_text().splitlines()
        ):
            return
        time.sleep(0.02)
    pytest.fail(f"the run never reached epoch {epoch + 1}")


def test_a_run_killed_in_its_third_epoch_resumes_to_the_same_result(tmp_path: Path) -> None:
    env = cli_env()
    full = subprocess.run(_train_digits(tmp_path, "full"), capture_output=True, text=True, env=env)
    assert full.returncode == 0, full.stderr
    expected = json.loads(full.stdout.strip().splitlines()[-1])

    victim = subprocess.Popen(_train_digits(tmp_path, "killed"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)  # fmt: skip
    run = tmp_path / "classify" / "killed"
    _wait_for_epoch(run / "metrics.csv", 2, victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (run / "report.json").exists(), "the run finished before it could be killed"

    resumed = subprocess.run(
        [sys.executable, "-m", "deepimage", "classify", "train", "--resume", str(run), *FAST],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["epochs"] == expected["epochs"] == 5
    assert abs(result["test"]["metrics"]["top1"] - expected["test"]["metrics"]["top1"]) <= 0.002
    assert not list((run / "checkpoints").glob("*.tmp"))


def test_time_budget_stops_training_and_keeps_the_best_checkpoint(
    tmp_path: Path, deepimage
) -> None:
    result = deepimage("classify", "train", "--data", "digits", "--img-size", "16", "--epochs", "500",
                       "--time", "0.1", "--runs", str(tmp_path), *FAST)  # fmt: skip
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["epochs"] < 500 and report["stopped_by"] == "time"
    assert Path(report["best_checkpoint"]).is_file()


def test_ddp_on_two_cpu_processes_trains_and_checkpoints(tmp_path: Path, deepimage) -> None:
    result = deepimage("classify", "train", "--data", "digits", "--img-size", "16", "--epochs", "2",
                       "--devices", "2", "--runs", str(tmp_path), *FAST)  # fmt: skip
    assert result.code == 0, result.stderr
    report = result.json()
    assert Path(report["best_checkpoint"]).is_file()
    assert report["test"]["metrics"]["top1"] > 0.3


def test_predict_names_bad_files_or_skips_them(
    trained_run: dict, deepimage, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = next(trained_run["folder"].rglob("*.png"))
    (folder / "a_good.png").write_bytes(good.read_bytes())
    bad = _add_bad_files(folder)
    ckpt = trained_run["report"]["best_checkpoint"]
    stopped = deepimage("classify", "predict", str(folder), "--model", ckpt, "--json")
    assert stopped.code == 2 and "Traceback" not in stopped.stderr
    assert bad[0] in stopped.stderr.replace("\n", "")
    skipped = deepimage("classify", "predict", str(folder), "--model", ckpt, "--json", "--skip-bad")
    assert skipped.code == 0, skipped.stderr
    assert [Path(r["path"]).name for r in skipped.json()["results"]] == ["a_good.png"]
    assert all(Path(p).name in skipped.stderr.replace("\n", "") for p in bad)


def test_tensorboard_logs_the_losses_of_the_one_row_per_epoch_csv(tmp_path: Path) -> None:
    import csv

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    done = run_deepimage(
        "classify", "train", "--data", "digits", "--epochs", "3", "--logger", "tensorboard",
        "--runs", str(tmp_path), *FAST,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    run = Path(done.json()["out_dir"])
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]  # one row per epoch
    assert all(row["train/loss"] and row["train/acc"] and row["val/loss"] for row in rows)
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    for tag, column in (("train/loss_epoch", "train/loss"), ("val/loss", "val/loss")):
        logged = [scalar.value for scalar in events.Scalars(tag)]
        assert np.allclose(logged, [float(row[column]) for row in rows], atol=1e-6), tag


def test_fraction_trains_on_a_seeded_share(tmp_path: Path) -> None:
    def train(*extra: str) -> dict:
        done = run_deepimage(
            "classify", "train", "--data", "digits", "--epochs", "1", "--runs", str(tmp_path),
            "--quiet", "--json", *extra,
        )  # fmt: skip
        assert done.code == 0, done.stderr
        return done.json()

    whole, share = train("--name", "whole"), train("--name", "share", "--fraction", "0.1")
    assert share["train_images"] == round(whole["train_images"] * 0.1) and share["fraction"] == 0.1
    assert share["test"]["images"] == whole["test"]["images"]  # evaluation stays whole

"""The task framework through the real CLI: the JSON convention, checkpoints that carry
their task and their data split, class names matched by name, --config replay, multi-node."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tests.conftest import CliResult, cli_env, run_deepimage

from deepimage.api import Classifier, Detector, Model
from deepimage.errors import DeepImageError
from deepimage.tasks.detection import DetectionTask

DIGITS = ["--data", "digits", "--img-size", "16", "--epochs", "2", "--batch-size", "32"]


def last_json(result: CliResult) -> dict:
    """The JSON document on the last stdout line, which must be the only line there."""
    assert result.code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout holds more than the JSON document: {lines[:3]}"
    document = json.loads(lines[-1])
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A deterministic digits run with a non-default validation share, progress bar on."""
    runs = tmp_path_factory.mktemp("runs")
    result = run_deepimage("classify", "train", *DIGITS, "--val-fraction", "0.25",
                           "--deterministic", "--runs", str(runs), "--name", "first", "--json")  # fmt: skip
    return last_json(result)


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained detector saved the way training saves one (no training needed here)."""
    task = DetectionTask("ssdlite320_mobilenet_v3_large", ["raccoon"], img_size=128)
    path = tmp_path_factory.mktemp("detector") / "detector.ckpt"
    checkpoint: dict = {"hyper_parameters": dict(task.hparams), "state_dict": task.state_dict()}
    task.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


def test_train_evaluate_and_predict_leave_one_json_document_on_stdout(
    digits_run: dict, tmp_path: Path
) -> None:
    assert digits_run["task"] == "classify" and digits_run["skipped"] == []
    assert set(digits_run["val"]) >= {"metrics", "per_class", "out_dir", "skipped", "images"}
    model = digits_run["best_checkpoint"]
    evaluated = last_json(run_deepimage("classify", "evaluate", "--model", model, "--data",
                                        "digits", "--json"))  # fmt: skip
    assert evaluated["split"] == "test" and 0 <= evaluated["metrics"]["top1"] <= 1
    image = tmp_path / "seven.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    predicted = last_json(
        run_deepimage("classify", "predict", str(image), "--model", model, "--json")
    )
    assert predicted["results"][0]["path"] == str(image) and predicted["skipped"] == []


def test_a_best_checkpoint_moved_out_of_its_run_evaluates_on_the_same_images(
    digits_run: dict, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere.ckpt"
    shutil.copy(digits_run["best_checkpoint"], moved)
    result = last_json(run_deepimage("classify", "evaluate", "--model", str(moved), "--data",
                                     "digits", "--split", "val", "--json", cwd=tmp_path))  # fmt: skip
    assert result["images"] == digits_run["val"]["images"]
    assert Path(result["out_dir"]) == tmp_path / "plots"  # no run folder: ./plots
    assert result["metrics"]["top1"] == pytest.approx(
        digits_run["val"]["metrics"]["top1"], abs=1e-6
    )


def test_config_replays_a_deterministic_run(digits_run: dict) -> None:
    run = Path(digits_run["out_dir"])
    again = last_json(run_deepimage("classify", "train", "--config", str(run / "config.yaml"),
                                    "--name", "again", "--quiet", "--json"))  # fmt: skip
    assert Path(again["out_dir"]).name == "again"
    assert again["val"]["metrics"] == pytest.approx(digits_run["val"]["metrics"], abs=1e-6)


def test_bad_settings_are_clear_errors(tmp_path: Path, digits_run: dict) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("data: digits\nepochs: many\n")
    result = run_deepimage("classify", "train", "--config", str(config))
    assert result.code == 2 and "'epochs' must be an integer" in result.stderr
    config.write_text("data: digits\nlearning_rate: 0.1\n")
    result = run_deepimage("classify", "train", "--config", str(config))
    assert result.code == 2 and "unknown setting 'learning_rate'" in result.stderr
    result = run_deepimage("classify", "train", "--data", "digits", "--schedule", "linear")
    assert result.code == 2 and "choose cosine, onecycle, none" in result.stderr
    resumed = run_deepimage("classify", "train", "--resume", digits_run["out_dir"], "--lr", "1")
    assert resumed.code == 2 and "'lr' cannot change" in resumed.stderr
    assert all("Traceback" not in r.stderr for r in (result, resumed))


def test_a_checkpoint_of_another_task_is_one_line_naming_both(
    digits_run: dict, detector_file: Path, tmp_path: Path
) -> None:
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    classifier_file = digits_run["best_checkpoint"]
    for task, model in (("detect", classifier_file), ("classify", str(detector_file))):
        result = run_deepimage(task, "predict", str(image), "--model", model)
        assert result.code == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "classify" in line and "detect" in line and "Traceback" not in line
    with pytest.raises(DeepImageError, match="a detect model, not a classify model"):
        Classifier.load(detector_file)
    with pytest.raises(DeepImageError, match="a classify model, not a detect model"):
        Detector.load(classifier_file)
    assert isinstance(Model.load(detector_file).task, DetectionTask)  # the file says its task


def test_evaluating_on_data_with_other_class_names_is_an_error(
    digits_run: dict, require_data
) -> None:
    require_data("fashion-mnist")
    result = run_deepimage("classify", "evaluate", "--model", digits_run["best_checkpoint"],
                           "--data", "fashion-mnist")  # fmt: skip
    assert result.code == 2 and "are not the model's" in result.stderr
    assert "--class-map" in result.stderr and "top1" not in result.stdout


def test_predict_takes_arrays_and_pil_images_and_returns_skipped_apart(
    digits_run: dict, tmp_path: Path
) -> None:
    clf = Classifier.load(digits_run["best_checkpoint"])
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    gray, rgb = np.zeros((8, 8), np.uint8), np.full((20, 30, 3), 200, np.uint8)
    rows = clf.predict([gray, Image.fromarray(rgb), bad], skip_bad=True, top_k=2)
    assert [row["path"] for row in rows] == [None, None]
    assert len(rows[0]["top"]) == 2
    assert rows.skipped == [{"path": str(bad), "reason": rows.skipped[0]["reason"]}]
    with pytest.raises(DeepImageError, match="uint8"):
        clf.predict(np.zeros((8, 8), np.float32))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_torchrun_nodes_train_to_one_checkpoint(tmp_path: Path) -> None:
    port = str(_free_port())

    def node(rank: int) -> list[str]:
        return [
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node",
            "1", "--node-rank", str(rank), "--master-addr", "127.0.0.1", "--master-port", port,
            "-m", "deepimage", "classify", "train", *DIGITS, "--epochs", "1", "--num-nodes", "2",
            "--name", "n2", "--runs", str(tmp_path), "--quiet", "--json",
        ]  # fmt: skip

    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": cli_env()}
    processes = [subprocess.Popen(node(rank), **pipes) for rank in (0, 1)]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs[0][1][-2000:]
    assert sorted(p.name for p in (tmp_path / "classify").iterdir()) == ["n2"]
    assert sorted(p.name for p in (tmp_path / "classify" / "n2" / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
    report = json.loads(outputs[0][0].strip().splitlines()[-1])
    assert report["epochs"] == 1 and report["val"]["metrics"]["top1"] > 0.1

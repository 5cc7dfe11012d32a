"""``deepimage scratch train|gradcheck|models`` as a user runs them: a NumPy run on digits
writes its run folder, and its exported checkpoint scores the same test top-1 under
``deepimage classify evaluate``; folders with bad files are named or skipped."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import run_deepimage, write_bad_images

pytestmark = pytest.mark.integration
FAST = ["--quiet", "--json"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("scratch")
    trained = run_deepimage(
        "scratch", "train", "--data", "digits", "--epochs", "4", "--runs", str(root / "runs"),
        "--export-torch", str(root / "digits.ckpt"), *FAST,
    )  # fmt: skip
    assert trained.code == 0, trained.stderr
    return root, trained.json()


def test_a_numpy_run_learns_digits_and_writes_its_run_folder(digits_run) -> None:
    _, report = digits_run
    assert report["task"] == "scratch" and report["model"] == "small-cnn"
    assert report["test"]["metrics"]["top1"] >= 0.9, report["test"]
    run = Path(report["out_dir"])
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2, 3]  # one row per epoch
    assert all(row["train/loss"] and row["val/acc"] for row in rows)
    assert float(rows[-1]["train/loss"]) < float(rows[0]["train/loss"])
    for plot in report["plots"]:
        assert Path(plot).stat().st_size > 1000
    assert (run / "checkpoints" / "model.npz").is_file() and (run / "config.yaml").is_file()


def test_the_exported_checkpoint_scores_the_same_under_classify_evaluate(digits_run) -> None:
    root, report = digits_run
    scored = run_deepimage(
        "classify", "evaluate", "--model", str(root / "digits.ckpt"), "--data", "digits", "--json",
        cwd=root,
    )  # fmt: skip
    assert scored.code == 0, scored.stderr
    result = scored.json()
    assert result["images"] == report["test"]["images"]
    assert abs(result["metrics"]["top1"] - report["test"]["metrics"]["top1"]) < 1e-6


def test_mlp_and_rnn_train_on_an_image_folder_and_bad_files_are_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for label, level in (("dark", 40), ("light", 210)):
        (tmp_path / "shapes" / label).mkdir(parents=True)
        for i in range(30):
            pixels = np.clip(rng.normal(level, 30, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "shapes" / label / f"{i}.png")
    jpeg = (tmp_path / "shapes" / "dark" / "0.png").read_bytes()
    bad = write_bad_images(tmp_path / "shapes" / "light", jpeg)
    refused = run_deepimage("scratch", "train", "--data", str(tmp_path / "shapes"), "--quiet")
    assert refused.code == 2 and "Traceback" not in refused.stderr
    assert bad[0].name in refused.stdout + refused.stderr
    for model in ("mlp", "rnn"):
        trained = run_deepimage(
            "scratch", "train", "--data", str(tmp_path / "shapes"), "--model", model,
            "--epochs", "3", "--skip-bad", "--runs", str(tmp_path / "runs"), *FAST,
        )  # fmt: skip
        assert trained.code == 0, trained.stderr
        report = trained.json()
        assert sorted(Path(item["path"]).name for item in report["skipped"]) == [
            p.name for p in bad
        ]
        assert report["val"]["metrics"]["top1"] >= 0.8, (model, report["val"])
    shutil.rmtree(tmp_path / "shapes")


def test_only_small_cnn_exports_and_an_unknown_check_is_refused(tmp_path: Path) -> None:
    refused = run_deepimage(
        "scratch", "train", "--data", "digits", "--model", "mlp", "--export-torch",
        str(tmp_path / "m.ckpt"),
    )  # fmt: skip
    assert refused.code == 2 and "small-cnn" in refused.stdout + refused.stderr
    unknown = run_deepimage("scratch", "gradcheck", "--layer", "conv3d")
    assert unknown.code == 2 and "conv2d" in unknown.stdout + unknown.stderr


def test_gradcheck_prints_every_layer_below_the_threshold() -> None:
    done = run_deepimage("scratch", "gradcheck", "--json")
    assert done.code == 0, done.stderr
    result = done.json()
    assert result["passed"] and result["threshold"] == 1e-7
    names = {row["layer"] for row in result["layers"]}
    assert {"dense", "conv2d", "maxpool2d", "batchnorm", "rnn", "mse", "small-cnn"} <= names
    assert all(row["max_error"] < 1e-7 for row in result["layers"])
    listed = run_deepimage("scratch", "models", "--json")
    assert [row["name"] for row in listed.json()["items"]] == ["small-cnn", "mlp", "rnn"]

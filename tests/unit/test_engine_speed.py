"""The engine's speed choices keep their meaning: --precision maps to Lightning's precision
(and refuses fp16 without CUDA), validation runs in float32 under mixed precision, the
optimizer is fused unless gradients are clipped, and metrics.csv holds one row per epoch
with the epoch's mean training loss."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import torch

from deepimage.api import Classifier
from deepimage.engine.devices import cpu_has_bf16, precision_for
from deepimage.engine.module import TaskModule
from deepimage.engine.settings import make_settings
from deepimage.engine.trainer import TrainerOptions, build_trainer
from deepimage.errors import DeepImageError
from deepimage.tasks.classification_spec import ClassifyTrain


class Tiny(TaskModule):
    """A linear model whose validation step reports whether autocast is on."""

    task_name = "tiny"

    def __init__(self, lr: float = 0.1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(2, 1)
        self.autocast_in_validation: list[bool] = []
        self.init_engine()

    def compute_loss(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self.net(batch[0]).pow(2).mean()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.autocast_in_validation.append(torch.is_autocast_enabled("cpu"))


def test_precision_names_map_to_lightning_and_auto_follows_the_cpu() -> None:
    assert precision_for("cpu", "32") == "32-true"
    assert precision_for("cpu", "bf16") == "bf16-mixed"
    assert precision_for("cuda", "16") == "16-mixed"
    assert precision_for("cpu", "auto") == ("bf16-mixed" if cpu_has_bf16() else "32-true")
    assert precision_for("mps", "auto") == "32-true"
    with pytest.raises(DeepImageError, match="--precision 16 needs a CUDA GPU"):
        precision_for("cpu", "16")


def test_an_unknown_precision_is_refused_with_the_choices() -> None:
    with pytest.raises(DeepImageError, match="auto, 32, bf16, 16"):
        make_settings(ClassifyTrain, {"data": "digits", "precision": "fp8"})


def test_validation_runs_in_float32_under_mixed_precision() -> None:
    task = Tiny()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        task.validation_step((torch.zeros(1, 2),), 0)
    assert task.autocast_in_validation == [False]


def test_the_optimizer_is_fused_unless_gradients_are_clipped(tmp_path: Path) -> None:
    for clip, kernel in ((None, "fused"), (1.0, "foreach")):
        task = Tiny()
        task.trainer = build_trainer(tmp_path, TrainerOptions(quiet=True, gradient_clip=clip))
        optimizer = task.configure_optimizers()["optimizer"]
        assert optimizer.defaults[kernel] is True


def test_metrics_csv_has_one_row_per_epoch_with_the_epoch_mean_loss(tmp_path: Path) -> None:
    report = Classifier("small-cnn").fit(
        "digits", img_size=16, epochs=2, batch_size=8, runs_root=str(tmp_path), quiet=True,
        precision="32",
    )  # fmt: skip
    assert report["precision"] == "32-true"
    with open(Path(report["out_dir"]) / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    steps = [int(row["step"]) for row in rows]
    assert 100 < steps[0] < steps[1]  # each row written at its epoch's end
    losses = [float(row["train/loss"]) for row in rows]
    assert losses[1] < losses[0] < 2.5  # epoch means, not one step's value
    assert all(row["train/acc"] and row["val/acc"] for row in rows)
    assert report["stopped_by"] == "epochs" and report["train_images_per_s"] > 0


def test_an_impossible_precision_stops_before_data_or_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DeepImageError, match="--precision 16 needs a CUDA GPU"):
        Classifier("small-cnn").fit("no-such-data", precision="16", runs_root=str(tmp_path))
    assert list(tmp_path.iterdir()) == []

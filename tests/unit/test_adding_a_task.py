"""The worked example of docs/architecture.md, "Adding a task": a brightness regressor
made of a settings dataclass, a LightningModule, data loading and a spec, and nothing in
``cli/`` or ``api/``. Its commands and its Python API come from the framework."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from typer.testing import CliRunner

from deepimage.api import Model
from deepimage.cli.tasks import task_app
from deepimage.data.batches import TensorBatches, to_chw_tensor
from deepimage.data.model_input import resize_uint8
from deepimage.data.module import BatchDataModule, batch_loader
from deepimage.engine.module import TaskModule
from deepimage.engine.settings import setting
from deepimage.io import read_image
from deepimage.tasks.hooks import EvalData, TaskHooks, Training
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import EvaluateSettings, PredictSettings, TrainSettings


# 1. Settings: the only place the task's options and defaults live.
@dataclass
class BrightnessTrain(TrainSettings):
    data: str = setting("random", "'random': grey squares of random brightness.", short="-d")
    model: str = setting("tiny", "The only model: a 1-layer CNN.", short="-m")
    epochs: int = setting(3, "Most epochs to train.", low=1, short="-e")
    images: int = setting(256, "How many random training images.", low=8)


@dataclass
class BrightnessEvaluate(EvaluateSettings):
    split: str = setting("val", "The split to score.")


# 2. The LightningModule, on the engine's TaskModule (optimizer, schedule, EMA, guard).
class BrightnessTask(TaskModule):
    task_name = "brightness"

    def __init__(self, model: str = "tiny", lr: float = 1e-2, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
            torch.nn.Linear(4, 1),
        )  # fmt: skip
        self.init_engine()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.inference_net(images.float() / 255).squeeze(1)

    def compute_loss(self, batch: Any, batch_idx: int) -> torch.Tensor:
        images, targets = batch
        return torch.nn.functional.mse_loss(self(images), targets)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        images, targets = batch
        self.log("val/mae", (self(images) - targets).abs().mean())


# 3. Data loading, evaluation and inference: the task's hooks.
def _squares(count: int, seed: int) -> TensorBatches:
    levels = np.random.default_rng(seed).uniform(0, 1, count).astype(np.float32)
    images = np.repeat((levels * 255).astype(np.uint8), 16 * 16).reshape(count, 16, 16)
    return TensorBatches(to_chw_tensor(images), torch.from_numpy(levels))


def prepare_training(settings: BrightnessTrain) -> Training:
    torch.manual_seed(settings.seed)
    train, val = _squares(settings.images, settings.seed), _squares(64, settings.seed + 1)
    module = BrightnessTask(lr=settings.lr, seed=settings.seed)
    data = BatchDataModule(train, val, settings.batch_size, settings.seed)
    return Training(module, data, settings, {"val": EvalData(val, len(val))})


def load_split(module: BrightnessTask, settings: BrightnessEvaluate) -> EvalData:
    val = _squares(64, module.hparams.seed + 1)
    return EvalData(val, len(val))


def score(module: BrightnessTask, data: EvalData, out: Path, split: str, _: Any) -> dict:
    with torch.inference_mode():
        errors = [(module(x) - y).abs() for x, y in batch_loader(data.items, 64, shuffle=False)]
    return {"images": data.count, "metrics": {"mae": float(torch.cat(errors).mean())},
            "per_class": [], "plots": []}  # fmt: skip


def load_input(module: BrightnessTask, item: Path | np.ndarray) -> np.ndarray:
    image = read_image(item, mode="gray") if isinstance(item, Path) else item
    return resize_uint8(image, 16)


def predict_batch(module: BrightnessTask, images: list[np.ndarray], _: Any) -> list[dict]:
    with torch.inference_mode():
        values = module(to_chw_tensor(np.stack(images)))
    return [{"brightness": round(float(v), 4)} for v in values]


HOOKS = TaskHooks(BrightnessTask, prepare_training, load_split, score, load_input, predict_batch)

# 4. The spec, registered: its CLI group and its Model come with it.
SPEC = register_task(
    TaskSpec(
        name="brightness",
        noun="brightness regressor",
        help="Guess how bright an image is.",
        train=BrightnessTrain,
        evaluate=BrightnessEvaluate,
        predict=PredictSettings,
        hooks_module=__name__,
        monitor="val/mae",
        mode="min",
        headline=("mae",),
        row_summary=lambda row: {"brightness": f"{row['brightness']:.2f}"},
    )
)


def test_a_new_task_gets_its_commands_and_api_from_its_spec(tmp_path: Path) -> None:
    app = task_app(SPEC)  # what cli/main.py does for every registered task
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--epochs", "4", "--lr", "0.05", "--runs",
                                  str(tmp_path), "--quiet", "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    report = json.loads(trained.stdout.strip().splitlines()[-1])
    assert report["task"] == "brightness" and report["val"]["metrics"]["mae"] < 0.25
    assert Path(report["best_checkpoint"]).is_file()
    bad = runner.invoke(app, ["train", "--images", "2", "--runs", str(tmp_path)])
    assert bad.exit_code != 0  # bounds come from the settings dataclass
    model = Model.load(report["best_checkpoint"])  # the checkpoint names its task
    rows = model.predict([np.full((20, 20), 230, np.uint8), np.zeros((20, 20), np.uint8)])
    assert rows[0]["brightness"] > rows[1]["brightness"]

"""Settings dataclasses: checked construction, config files, generated options, the
engine's learning-rate schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from deepimage.cli.tasks import task_app
from deepimage.engine.module import warmup_cosine
from deepimage.engine.settings import make_settings, read_config
from deepimage.errors import DeepImageError
from deepimage.tasks.classification_spec import ClassifyTrain
from deepimage.tasks.detection_spec import DetectTrain
from deepimage.tasks.registry import task_spec


def test_values_are_converted_to_their_field_types() -> None:
    settings = make_settings(
        DetectTrain,
        {"data": "x", "epochs": "3", "lr": 1, "classes": "cat,dog", "deterministic": "yes"},
    )
    assert (settings.epochs, settings.lr, settings.classes) == (3, 1.0, ["cat", "dog"])
    assert settings.deterministic is True and settings.gradient_clip == 10.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": 2.5}, "'epochs' must be an integer"),
        ({"epochs": 0}, "'epochs' must be at least 1"),
        ({"label_smoothing": 0.9}, "'label_smoothing' must be at most 0.5"),
        ({"optimizer": "adam"}, "choose adamw, sgd"),
        ({"augment": "classify-strongest"}, "choose none, classify-light, classify-strong"),
        ({"deterministic": "maybe"}, "'deterministic' must be true or false"),
        ({"lr": None}, "'lr' needs a value"),
        ({"batchsize": 8}, "unknown setting 'batchsize'"),
    ],
)
def test_a_bad_setting_is_a_clear_error(values: dict, message: str) -> None:
    with pytest.raises(DeepImageError, match=message):
        make_settings(ClassifyTrain, {"data": "digits", **values}, "config.yaml")


def test_read_config_refuses_what_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(DeepImageError, match="mapping of settings"):
        read_config(path)
    with pytest.raises(DeepImageError, match="no such config file"):
        read_config(tmp_path / "missing.yaml")


def test_every_train_setting_is_an_option_with_its_default_in_the_help() -> None:
    spec = task_spec("detect")
    result = CliRunner().invoke(task_app(spec), ["train", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for flag in ("--ema-decay", "--gradient-clip", "--deterministic", "--num-nodes", "--time"):
        assert flag in result.output, flag
    assert "Default: 0.995" in result.output and "Default: 10.0" in result.output


def test_the_cosine_ends_with_the_run_after_the_warm_up() -> None:
    assert warmup_cosine(0, 0.0, 100) == pytest.approx(0.001)
    assert warmup_cosine(100, 0.0, 100) == pytest.approx(1.0)
    assert warmup_cosine(500, 0.5, 100, floor=0.02) == pytest.approx(0.51)
    assert warmup_cosine(900, 1.0, 100, floor=0.02) == pytest.approx(0.02)

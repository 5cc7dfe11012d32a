"""The augmentation registry, pipeline specs, Compose, Mosaic errors and the augment commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from deepimage.api.augment_preview import KIND_TASKS, augment_samples, preview
from deepimage.cli import augment
from deepimage.errors import BadImageError, DeepImageError
from deepimage.io import write_image
from deepimage.transforms.batch import augment_batch
from deepimage.transforms.geometric import HorizontalFlip, Rotate
from deepimage.transforms.mosaic import Mosaic
from deepimage.transforms.pipeline import build_pipeline, load_pipeline
from deepimage.transforms.registry import (
    AUGMENTATIONS,
    STEPS,
    TASKS,
    augmentation,
    augmentation_default,
    augmentation_names,
)
from deepimage.transforms.sample import Sample

PIPELINE_PRESETS = [name for name, entry in AUGMENTATIONS.items() if entry.runs == "pipeline"]
PREVIEWED = sorted(set(KIND_TASKS.values()))  # video presets are not previewed
TASK_NAMES = [(task, name) for task in PREVIEWED for name in augmentation_names(task)]


def detection_sample(seed: int = 0) -> Sample:
    image = np.random.default_rng(seed).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    return Sample(image, boxes=[[5, 5, 30, 35]], labels=[2], mask=np.ones((40, 60), np.uint8))


@pytest.mark.parametrize("name", PIPELINE_PRESETS)
def test_pipeline_presets_run_and_repeat(name: str) -> None:
    pipeline = build_pipeline(name)
    first = pipeline(detection_sample(), np.random.default_rng(4))
    second = pipeline(detection_sample(), np.random.default_rng(4))
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.boxes, second.boxes)
    assert first.image.shape == (40, 60, 3) and first.mask.shape == (40, 60)


def test_every_task_has_none_first_and_its_default() -> None:
    for task in TASKS:
        names = augmentation_names(task)
        assert names[0] == "none" and augmentation_default(task) in names
    assert augmentation_default("classify") == "none"
    assert augmentation_names("classify") == ["none", "classify-light", "classify-strong"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown augmentation 'nope'"),
        ([{"op": "spin"}], "step 1: unknown op 'spin'"),
        (
            [{"op": "rotate"}, {"op": "rotate", "angle": 3}],
            "step 2 (rotate): unexpected option 'angle'",
        ),
        ([{"op": "affine", "scale": [2, 1]}], "step 1 (affine): scale must be (low, high)"),
        ([{"op": "gaussian-blur", "p": 2}], "step 1 (gaussian-blur): p must be between 0 and 1"),
        (["rotate"], "step 1: expected a mapping with an 'op' key"),
        ([{"name": "hflip"}], "step 1: name the step with 'op:', not 'name:'"),
        ([{"op": "detect", "p": 1}], "step 1 (detect): a preset takes no options"),
        ([{"op": "hflip"}, {"op": "classify-strong"}], "step 2: 'classify-strong' transforms"),
        ("classify-light", "'classify-light' transforms whole tensor batches"),
    ],
)
def test_bad_specs_name_the_step(spec: object, message: str) -> None:
    with pytest.raises(DeepImageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_pipeline(spec)


def test_a_preset_for_another_task_is_refused() -> None:
    with pytest.raises(DeepImageError, match="'segment' is for segment, not detect"):
        build_pipeline([{"op": "segment"}], task="detect")
    with pytest.raises(DeepImageError, match="choose one of none, classify-light"):
        augment_batch(torch.zeros(1, 1, 4, 4), "detect", torch.Generator())
    with pytest.raises(DeepImageError, match="unknown augmentation 'strong'"):
        augmentation("strong", "classify")


def test_yaml_spec_matches_the_objects(tmp_path: Path) -> None:
    path = tmp_path / "aug.yaml"
    path.write_text("- op: hflip\n  p: 1.0\n- {op: rotate, degrees: [-5, 5]}\n")
    assert build_pipeline(load_pipeline(path)).steps == [HorizontalFlip(p=1.0), Rotate((-5, 5))]
    (tmp_path / "bad.yaml").write_text("steps: 3\n")
    with pytest.raises(DeepImageError, match=r"bad\.yaml: a pipeline is a YAML list of steps"):
        load_pipeline(tmp_path / "bad.yaml")


def test_a_name_step_is_a_clear_error_in_both_pipeline_files(tmp_path: Path) -> None:
    from deepimage.api.process_steps import load_pipeline as load_process_pipeline

    path = tmp_path / "old.yaml"
    path.write_text("- name: hflip\n  p: 0.5\n")
    with pytest.raises(DeepImageError, match=r"old\.yaml: step 1: name the step with 'op:'"):
        load_pipeline(path)
    path.write_text("- name: blur\n")
    with pytest.raises(DeepImageError, match=r"old\.yaml: step 1 .*'op'"):
        load_process_pipeline(path)


def test_mosaic_needs_four_alike_samples() -> None:
    with pytest.raises(DeepImageError, match="4 samples"):
        Mosaic(size=32)([detection_sample()] * 3, np.random.default_rng(0))


def voc_folder(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    for index in range(3):
        write_image(root / "images" / f"{index}.jpg", np.full((48, 64, 3), 90, np.uint8))
        (root / "annotations" / f"{index}.xml").write_text(
            f"<annotation><filename>{index}.jpg</filename><object><name>cat</name>"
            "<bndbox><xmin>5</xmin><ymin>6</ymin><xmax>40</xmax><ymax>30</ymax></bndbox>"
            "</object></annotation>"
        )
    return root


def mask_folder(root: Path) -> Path:
    for folder in ("image", "label"):
        (root / folder).mkdir(parents=True)
        for index in range(2):
            write_image(root / folder / f"{index}.png", np.eye(16, dtype=np.uint8) * 255)
    return root


def class_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        for i in range(3):
            image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            write_image(root / name / f"{i}.png", image)
    return root


DATA = {"detect": voc_folder, "segment": mask_folder, "classify": class_folder}


def cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(augment.app, name="augment")
    root.callback()(lambda: None)
    return root


def run(*args: str) -> dict:
    result = CliRunner().invoke(cli(), ["augment", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_augment_list_json_holds_every_preset_and_step() -> None:
    items = run("list")["items"]
    presets = {row["name"]: row for row in items if row["kind"] == "preset"}
    assert list(presets) == list(AUGMENTATIONS)
    assert [row["name"] for row in items if row["kind"] == "step"] == list(STEPS)
    assert presets["classify-strong"]["tasks"] == ["classify"]
    assert presets["classify-strong"]["runs"] == "batch"
    assert presets["detect"]["options"][0] == {"op": "hflip"}


@pytest.mark.parametrize(("task", "name"), TASK_NAMES)
def test_every_name_round_trips_preview_yaml_and_training(
    tmp_path: Path, task: str, name: str
) -> None:
    data = str(DATA[task](tmp_path / "data"))
    by_preset = run("preview", "-d", data, "-n", "2", "-p", name, "-o", str(tmp_path / "a.png"))
    (tmp_path / "aug.yaml").write_text(f"- {{op: {name}}}\n")
    args = ("-d", data, "-n", "2", "--pipeline", str(tmp_path / "aug.yaml"))
    by_file = run("preview", *args, "-o", str(tmp_path / "b.png"))
    assert KIND_TASKS[by_preset["kind"]] == by_preset["task"] == by_file["task"] == task
    assert by_preset["augment"] == name and by_preset["runs"] == by_file["runs"]
    if task == "classify":
        x = torch.rand(2, 3, 8, 8)
        assert augment_batch(x, name, torch.Generator()).shape == x.shape
    else:
        build_pipeline(name, task=task)
    if task == "detect":
        from deepimage.data.detection import load_detection_data
        from deepimage.data.detection_batches import DetectionBatches

        items = load_detection_data(data, val_fraction=0).splits["train"]
        images, _ = DetectionBatches(items, 32, augment=name)[[0, 1]]
        assert images.shape == (2, 3, 32, 32)


def test_classification_preview_is_what_training_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepimage.tasks import classification

    seeds = []

    def recording(
        x: torch.Tensor, name: str, generator: torch.Generator, task: str = "classify"
    ) -> torch.Tensor:
        seeds.append(generator.initial_seed())
        return augment_batch(x, name, generator, task)

    monkeypatch.setattr(classification, "augment_batch", recording)
    task = classification.ClassificationTask(
        model="small-cnn",
        classes=["cat", "dog"],
        in_channels=3,
        img_size=16,
        mean=[0.5] * 3,
        std=[0.25] * 3,
        augment="classify-strong",
    )
    task._augment(torch.zeros(1, 3, 16, 16, dtype=torch.uint8), 0)
    result = augment_samples(class_folder(tmp_path), 4, "classify-strong", seed=seeds[0])
    originals = np.stack([item.sample.image for item in result.items])
    trained = task._augment(torch.from_numpy(originals).permute(0, 3, 1, 2), 0)
    expected = trained.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    shown = np.stack([sample.image for sample in result.samples])
    assert not np.array_equal(shown, originals)
    np.testing.assert_array_equal(shown, expected)


def test_preview_command_writes_a_grid(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    report = run("preview", "--data", str(voc_folder(tmp_path / "voc")), "-n", "4", "-o", str(out))
    assert report["kind"] == "voc" and report["samples"] == 3 and report["skipped"] == []
    assert report["grid"] == str(out) and report["out_dir"] == str(tmp_path)
    assert out.stat().st_size > 0


def test_preview_rejects_bad_pipeline_file(tmp_path: Path) -> None:
    spec = tmp_path / "aug.yaml"
    spec.write_text("- op: twirl\n")
    args = ["augment", "preview", "--data", str(voc_folder(tmp_path / "voc"))]
    result = CliRunner().invoke(cli(), [*args, "--pipeline", str(spec)])
    assert isinstance(result.exception, DeepImageError)
    assert "aug.yaml: step 1: unknown op 'twirl'" in str(result.exception)


def test_preview_names_a_bad_image_or_skips_it(tmp_path: Path) -> None:
    broken = class_folder(tmp_path / "data") / "cat" / "broken.png"
    broken.write_text("not an image")
    with pytest.raises(BadImageError, match=r"broken\.png"):
        preview(tmp_path / "data", tmp_path / "grid.png", count=4)
    report = preview(tmp_path / "data", tmp_path / "grid.png", count=4, skip_bad=True)
    assert report["samples"] == 4 and (tmp_path / "grid.png").is_file()
    assert [row["path"] for row in report["skipped"]] == [str(broken)]
    assert report["skipped"][0]["reason"]

"""Pipeline specs, presets, Compose, Mosaic errors and the preview command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from deepimage.cli import augment
from deepimage.errors import DeepImageError
from deepimage.io import write_image
from deepimage.transforms.geometric import HorizontalFlip, Rotate
from deepimage.transforms.mosaic import Mosaic
from deepimage.transforms.presets import PRESETS, build_pipeline, load_pipeline
from deepimage.transforms.sample import Sample


def detection_sample(seed: int = 0) -> Sample:
    image = np.random.default_rng(seed).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    return Sample(image, boxes=[[5, 5, 30, 35]], labels=[2], mask=np.ones((40, 60), np.uint8))


@pytest.mark.parametrize("name", PRESETS)
def test_presets_run_and_repeat(name: str) -> None:
    pipeline = build_pipeline(name)
    first = pipeline(detection_sample(), np.random.default_rng(4))
    second = pipeline(detection_sample(), np.random.default_rng(4))
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.boxes, second.boxes)
    assert first.image.shape == (40, 60, 3) and first.mask.shape == (40, 60)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown preset 'nope'"),
        ([{"name": "spin"}], "step 1: unknown transform 'spin'"),
        (
            [{"name": "rotate"}, {"name": "rotate", "angle": 3}],
            "step 2 (rotate): unexpected parameter 'angle'",
        ),
        ([{"name": "affine", "scale": [2, 1]}], "step 1 (affine): scale must be (low, high)"),
        ([{"name": "gaussian_blur", "p": 2}], "step 1 (gaussian_blur): p must be between 0 and 1"),
        (["rotate"], "step 1: expected a mapping with a 'name'"),
    ],
)
def test_bad_specs_name_the_step(spec: object, message: str) -> None:
    with pytest.raises(DeepImageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_pipeline(spec)


def test_yaml_spec_matches_the_objects(tmp_path: Path) -> None:
    path = tmp_path / "aug.yaml"
    path.write_text("- name: horizontal_flip\n  p: 1.0\n- name: rotate\n  degrees: [-5, 5]\n")
    pipeline = load_pipeline(path)
    assert pipeline.steps == [HorizontalFlip(p=1.0), Rotate((-5, 5))]
    (tmp_path / "bad.yaml").write_text("steps: 3\n")
    with pytest.raises(DeepImageError, match=r"bad\.yaml: expected a list of steps"):
        load_pipeline(tmp_path / "bad.yaml")


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


def cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(augment.app, name="augment")
    root.callback()(lambda: None)
    return root


def test_preview_command_writes_a_grid(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    args = [
        "augment",
        "preview",
        "--data",
        str(voc_folder(tmp_path / "voc")),
        "-n",
        "4",
        "-o",
        str(out),
        "--json",
    ]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    assert '"kind": "voc"' in result.output and '"samples": 3' in result.output
    assert out.stat().st_size > 0


def test_preview_rejects_bad_pipeline_file(tmp_path: Path) -> None:
    spec = tmp_path / "aug.yaml"
    spec.write_text("- name: twirl\n")
    args = [
        "augment",
        "preview",
        "--data",
        str(voc_folder(tmp_path / "voc")),
        "--pipeline",
        str(spec),
    ]
    result = CliRunner().invoke(cli(), args)
    assert isinstance(result.exception, DeepImageError)
    assert "unknown transform 'twirl'" in str(result.exception)


def test_preview_names_a_bad_image_or_skips_it(tmp_path: Path) -> None:
    from deepimage.api.augment_preview import preview
    from deepimage.errors import BadImageError

    for name in ("cat", "dog"):
        for i in range(3):
            write_image(
                tmp_path / "data" / name / f"{i}.png", np.full((16, 16, 3), 40 * i, np.uint8)
            )
    (tmp_path / "data" / "cat" / "broken.png").write_text("not an image")
    with pytest.raises(BadImageError, match=r"broken\.png"):
        preview(tmp_path / "data", tmp_path / "grid.png", count=4)
    report = preview(tmp_path / "data", tmp_path / "grid.png", count=4, skip_bad=True)
    assert report["samples"] == 4 and (tmp_path / "grid.png").is_file()

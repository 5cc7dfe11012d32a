"""``deepimage process`` on real photographs (faces-fr JPEGs) and microscopy PNGs (membrane)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from deepimage import process
from deepimage.api.batch_process import process_files
from deepimage.api.process_steps import parse_step
from deepimage.errors import DeepImageError
from deepimage.io.images import read_image

pytestmark = pytest.mark.integration


def copy_some(source: Path, pattern: str, target: Path, count: int) -> list[Path]:
    """Copy the first ``count`` files matching ``pattern`` into ``target`` (never the repo)."""
    files = sorted(source.rglob(pattern))[:count]
    assert len(files) == count, f"expected {count} files matching {pattern} in {source}"
    target.mkdir()
    for file in files:
        shutil.copy(file, target / file.name)
    return sorted(target.iterdir())


@pytest.fixture
def faces(require_data: Callable[[str], Path], tmp_path: Path) -> list[Path]:
    return copy_some(require_data("faces-fr"), "*.jpg", tmp_path / "faces", 4)


@pytest.fixture
def membrane(require_data: Callable[[str], Path], tmp_path: Path) -> list[Path]:
    return copy_some(require_data("membrane") / "test", "*.png", tmp_path / "membrane", 4)


def test_denoise_real_photographs_with_two_workers(faces: list[Path], tmp_path: Path) -> None:
    small = tmp_path / "small"
    process_files(faces, small, [parse_step("resize", {"max_side": 320})], quiet=True)
    report = process_files(
        [small], tmp_path / "out", [parse_step("denoise")], workers=2, quiet=True
    )
    assert report["totals"]["processed"] == len(faces)
    for row in report["results"]:
        image = read_image(row["path"])
        out = read_image(row["output"])
        assert out.shape == image.shape
        # the output is a JPEG of the denoised image: close to it, and smoother than the input
        assert process.psnr(process.denoise_nl_means(image), out) > 35
        assert (
            np.abs(np.diff(out.astype(float), axis=1)).mean()
            < np.abs(np.diff(image.astype(float), axis=1)).mean()
        )


def test_blur_microscopy_pngs_exactly(membrane: list[Path], tmp_path: Path) -> None:
    folder = membrane[0].parent
    report = process_files(
        [folder], tmp_path / "out", [parse_step("blur", {"sigma": 2})], quiet=True
    )
    for path in membrane:
        out = read_image(tmp_path / "out" / path.name, "keep")
        expected = process.gaussian_blur(read_image(path, "keep"), sigma=2)
        np.testing.assert_array_equal(out, expected)
    assert report["totals"]["processed"] == len(membrane)


@pytest.mark.parametrize("quality", [50, 90])
def test_compress_real_photographs(faces: list[Path], tmp_path: Path, quality: int) -> None:
    step = parse_step("compress", {"format": "jpeg", "quality": quality})
    report = process_files(faces, tmp_path / "out", [step], quiet=True)
    for row in report["results"]:
        assert row["bytes_out"] == Path(row["output"]).stat().st_size
        assert row["psnr"] > (28 if quality == 50 else 33)
        assert 0.7 < row["ssim"] <= 1.0
    total_in = sum(row["bytes_in"] for row in report["results"])
    total_out = sum(row["bytes_out"] for row in report["results"])
    assert total_out < total_in if quality == 50 else total_out > 0


def test_compress_microscopy_to_a_target_size(membrane: list[Path], tmp_path: Path) -> None:
    step = parse_step("compress", {"format": "webp", "target_bytes": 40_000})
    report = process_files(membrane, tmp_path / "out", [step], quiet=True)
    assert all(row["bytes_out"] <= 40_000 and row["psnr"] > 25 for row in report["results"])


def test_masks_of_jpeg_photos_are_written_as_exact_pngs(faces: list[Path], tmp_path: Path) -> None:
    from tests.conftest import run_deepimage

    out = tmp_path / "out"
    done = run_deepimage("process", "threshold", "--method", "otsu", str(faces[0]), "-o", str(out))
    assert done.code == 0, done.stderr
    mask = read_image(out / faces[0].with_suffix(".png").name, "keep")
    assert set(np.unique(mask).tolist()) == {0, 255}
    edges = process_files(faces[:2], tmp_path / "edges", [parse_step("edges", {})], quiet=True)
    assert all(row["output"].endswith(".png") for row in edges["results"])
    blurred = process_files(faces[:1], tmp_path / "blur", [parse_step("blur", {})], quiet=True)
    assert blurred["results"][0]["output"].endswith(".jpg")  # intensities keep their format
    tiffs = run_deepimage(
        "process", "blur", str(faces[0]), "-o", str(tmp_path / "tif"), "--format", "tif"
    )
    assert tiffs.code == 0 and (tmp_path / "tif" / faces[0].with_suffix(".tif").name).is_file()
    steps = [parse_step("compress", {"format": "webp"})]
    with pytest.raises(DeepImageError, match="--format"):
        process_files(faces[:1], tmp_path / "c", steps, quiet=True, output_format="png")

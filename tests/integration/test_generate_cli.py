"""``deepimage generate ...`` as a user runs it: a VAE and a dae on a folder of colour
crops of the shared raccoon photos (sample, reconstruct, interpolate, denoise, bad
images), a conditional DCGAN and a WGAN-GP on the built-in digits (classes, resume,
DDP), and evaluate with a classifier's features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import data_dir, run_deepimage, write_bad_images

from deepimage.io import read_image
from deepimage.io.writing import write_image

pytestmark = pytest.mark.integration
FAST = ["--quiet", "--json"]


def ok(*args: str) -> dict:
    result = run_deepimage(*args)
    assert result.code == 0, result.stderr + result.stdout
    return result.json()


def refused(*args: str) -> str:
    result = run_deepimage(*args)
    assert result.code == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    return " ".join((result.stdout + result.stderr).split())


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 colour 40 x 40 crops of the raccoon photos, in a flat folder."""
    photos = sorted((data_dir("raccoon") / "images").glob("*.jpg"))[:12]
    folder = tmp_path_factory.mktemp("crops")
    for index, photo in enumerate(photos):
        image = read_image(photo)
        side = min(image.shape[:2]) // 2
        for k, (top, left) in enumerate([(0, 0), (side // 2, side // 2), (side, side)]):
            crop = image[top : top + side, left : left + side]
            small = np.asarray(Image.fromarray(crop).resize((40, 40)))
            write_image(folder / f"crop{index:02d}_{k}.png", small)
    return folder


@pytest.fixture(scope="module")
def vae_run(crops: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    runs = tmp_path_factory.mktemp("runs")
    return ok(
        "generate", "train", "--data", str(crops), "--model", "vae", "--epochs", "2",
        "--batch-size", "8", "--img-size", "32", "--runs", str(runs), *FAST,
    )  # fmt: skip


def test_a_vae_trains_on_a_colour_folder_with_plots_every_epoch(vae_run: dict) -> None:
    run = Path(vae_run["out_dir"])
    assert vae_run["task"] == "generate" and vae_run["img_size"] == 32
    assert vae_run["epochs"] == 2 and vae_run["val"]["metrics"]["psnr"] > 5
    assert set(vae_run["val"]["metrics"]) == {"mse", "psnr", "ssim"}
    for name in ("samples", "reconstructions"):
        assert read_image(run / "plots" / f"{name}.png").ndim == 3
        assert (run / "plots" / "epochs" / f"{name}_002.png").is_file()
    assert (run / "plots" / "training_curves.png").is_file()
    header = (run / "metrics.csv").read_text().splitlines()[0]
    for column in ("train/loss", "train/kl_loss", "val/psnr"):
        assert column in header


def test_sample_reconstruct_and_interpolate_on_colour_images(
    vae_run: dict, crops: Path, tmp_path: Path
) -> None:
    run = vae_run["out_dir"]
    sampled = ok("generate", "sample", "--model", run, "-n", "5", "-o", str(tmp_path / "s"),
                 "--seed", "7", "--grid", str(tmp_path / "grid.png"), "--json")  # fmt: skip
    assert sampled["count"] == 5 and len(sampled["files"]) == 5 and sampled["skipped"] == []
    assert read_image(sampled["files"][0]).shape == (32, 32, 3)
    again = ok("generate", "sample", "--model", run, "-n", "5", "-o", str(tmp_path / "s2"),
               "--seed", "7", "--json")  # fmt: skip
    for first, second in zip(sampled["files"], again["files"], strict=True):
        assert Path(first).read_bytes() == Path(second).read_bytes()
    message = refused("generate", "sample", "--model", run, "-n", "5", "-o", str(tmp_path / "s"))
    assert "already exists" in message and "--overwrite" in message

    inputs = tmp_path / "in"
    inputs.mkdir()
    for crop in sorted(crops.iterdir())[:3]:
        (inputs / crop.name).write_bytes(crop.read_bytes())
    bad = write_bad_images(
        inputs, (inputs / sorted(p.name for p in inputs.iterdir())[0]).read_bytes()
    )
    message = refused(
        "generate", "reconstruct", "--model", run, str(inputs), "-o", str(tmp_path / "r")
    )
    assert bad[0].name in message and "--skip-bad" in message
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    rows = ok("generate", "reconstruct", "--model", run, str(inputs), "-o", str(tmp_path / "r"),
              "--skip-bad", "--json")  # fmt: skip
    assert len(rows["results"]) == 3 and len(rows["skipped"]) == len(bad)
    assert all(row["mse"] > 0 and "image" not in row for row in rows["results"])
    assert read_image(rows["results"][0]["output"]).shape == (32, 32, 3)

    a, b = sorted(crops.iterdir())[:2]
    walk = ok("generate", "interpolate", str(a), str(b), "--model", run, "--steps", "4",
              "-o", str(tmp_path / "walk.png"), "--json")  # fmt: skip
    assert walk["steps"] == 4 and walk["from"].endswith(a.name)
    grid = read_image(tmp_path / "walk.png")
    assert grid.shape[1] > 5 * grid.shape[0]  # six cells in a row: A, 4 steps, B
    message = refused("generate", "interpolate", str(bad[2]), str(b), "--model", run, "-o",
                      str(tmp_path / "w2.png"))  # fmt: skip
    assert bad[2].name in message


def test_a_dae_denoises_colour_photos_at_their_own_size(
    crops: Path, tmp_path: Path, require_data
) -> None:
    run = ok("generate", "train", "--data", str(crops), "--model", "dae", "--epochs", "1",
             "--batch-size", "8", "--runs", str(tmp_path / "runs"), *FAST)["out_dir"]  # fmt: skip
    photos = tmp_path / "photos"
    photos.mkdir()
    sources = sorted((require_data("raccoon") / "images").glob("*.jpg"))[:2]
    for photo in sources:
        (photos / photo.name).write_bytes(photo.read_bytes())
    (photos / "notes.png").write_text("not an image")
    message = refused("generate", "denoise", "--model", run, str(photos), "-o", str(tmp_path / "d"))
    assert "notes.png" in message
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())
    rows = ok("generate", "denoise", "--model", run, str(photos), "-o", str(tmp_path / "d"),
              "--skip-bad", "--tile", "128", "--json")  # fmt: skip
    assert [s["path"].endswith("notes.png") for s in rows["skipped"]] == [True]
    for row, source in zip(rows["results"], sources, strict=True):
        original = read_image(source)
        assert read_image(row["output"]).shape == original.shape
        assert (row["width"], row["height"]) == (original.shape[1], original.shape[0])
    evaluated = ok("generate", "evaluate", "--model", run, "--data", str(crops), "--split", "val",
                   "--json")  # fmt: skip
    assert {"psnr", "noisy_psnr", "ssim", "sigma"} <= set(evaluated["metrics"])
    message = refused("generate", "sample", "--model", run, "-o", str(tmp_path / "x"))
    assert "no prior" in message


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    runs = tmp_path_factory.mktemp("runs")
    common = ["--data", "digits", "--runs", str(runs), *FAST]
    return {
        "cgan": ok("generate", "train", "--model", "dcgan", "--conditional", "--epochs", "2",
                   "--name", "cgan", *common),
        "classifier": ok("classify", "train", "--epochs", "2", "--name", "digits", *common),
    }  # fmt: skip


def test_a_conditional_gan_samples_a_named_class_and_is_scored_on_classifier_features(
    digits_runs: dict[str, dict], tmp_path: Path
) -> None:
    gan = digits_runs["cgan"]
    assert "val" not in gan and gan["epochs"] == 2  # a GAN has no figure without a classifier
    run = gan["out_dir"]
    assert (Path(run) / "checkpoints" / "best.ckpt").is_file()
    header = (Path(run) / "metrics.csv").read_text().splitlines()[0]
    assert "train/loss_d" in header and "train/loss_g" in header
    sampled = ok("generate", "sample", "--model", run, "-n", "3", "--class", "7", "-o",
                 str(tmp_path / "sevens"), "--json")  # fmt: skip
    written = Image.open(sampled["files"][0])
    assert sampled["class"] == "7" and (written.mode, written.size) == ("L", (8, 8))
    message = refused(
        "generate", "sample", "--model", run, "--class", "cat", "-o", str(tmp_path / "c")
    )
    assert "not a class of this model" in message and "0, 1, 2" in message
    scored = ok("generate", "evaluate", "--model", run, "--data", "digits", "--features",
                digits_runs["classifier"]["out_dir"], "--samples", "300", "--json")  # fmt: skip
    metrics = scored["metrics"]
    for key in ("classifier_fid", "classifier_fid_floor", "classifier_kid", "classifier_confidence",
                "classifier_class_entropy", "classifier_class_accuracy"):  # fmt: skip
        assert np.isfinite(metrics[key]), key
    assert metrics["classifier_fid_floor"] < metrics["classifier_fid"]
    assert (
        scored["features"]["kind"] == "classifier" and "not Inception" in scored["features"]["note"]
    )
    assert [row["class"] for row in scored["per_class"]] == [str(d) for d in range(10)]
    message = refused("generate", "evaluate", "--model", run, "--data", "digits", "--features",
                      run, "--samples", "300")  # fmt: skip
    assert "generate model, not a classify model" in message
    message = refused("generate", "evaluate", "--model", run, "--data", "digits",
                      "--inception-weights", str(tmp_path / "missing.pth"))  # fmt: skip
    assert "missing.pth: no such file" in message


def test_a_wgan_gp_resumes_and_trains_with_ddp(tmp_path: Path) -> None:
    common = ["--data", "digits", "--model", "wgan-gp", "--runs", str(tmp_path), *FAST]
    report = ok("generate", "train", "--epochs", "1", "--devices", "2", "--name", "ddp", *common)
    assert report["epochs"] == 1
    resumed = ok("generate", "train", "--resume", report["out_dir"], "--quiet", "--json")
    assert resumed["out_dir"] == report["out_dir"]
    message = refused("generate", "train", "--gradient-clip", "1", "--epochs", "1", *common)
    assert "drop the option" in message

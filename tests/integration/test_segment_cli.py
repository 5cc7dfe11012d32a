"""``deepimage segment train / evaluate / predict`` on the shared membrane set and on
synthetic multi-class data in the SegNet layout (with a void value), as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import run_deepimage
from tests.segmentation_data import draw_shapes, write_shapes

from deepimage.api import Segmenter
from deepimage.io import read_image
from deepimage.io.writing import write_image

pytestmark = pytest.mark.integration
FAST = ["--quiet", "--json", "--batch-size", "4"]


def miou_from_files(pairs: list[tuple[Path, np.ndarray]], classes: int) -> float:
    """mIoU computed directly from predicted mask PNGs and truth arrays (255 ignored)."""
    confusion = np.zeros((classes, classes), np.int64)
    for predicted_file, truth in pairs:
        predicted = np.asarray(Image.open(predicted_file))
        kept = truth != 255
        np.add.at(confusion, (truth[kept], predicted[kept]), 1)
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    return float(np.mean(tp[union > 0] / union[union > 0]))


@pytest.fixture(scope="module")
def membrane_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("membrane")
    result = run_deepimage(
        "segment", "train", "--data", "membrane", "--epochs", "2", "--crop", "128",
        "--runs", str(root / "runs"), *FAST,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return root, result.json()


def test_membrane_trains_and_evaluate_matches_the_masks_predict_writes(
    membrane_run: tuple[Path, dict], require_data
) -> None:
    root, report = membrane_run
    membrane = require_data("membrane")
    assert report["task"] == "segment" and report["train_images"] == 24
    assert report["val"]["images"] == 6 and report["classes"] == ["background", "foreground"]
    assert 0.0 < report["val"]["metrics"]["miou"] <= 1.0
    run = report["out_dir"]
    evaluated = run_deepimage(
        "segment", "evaluate", "--model", run, "--data", "membrane", "--split", "val", "--json"
    )
    assert evaluated.code == 0, evaluated.stderr
    scores = evaluated.json()
    assert scores["images"] == 6
    assert scores["metrics"]["miou"] == pytest.approx(report["val"]["metrics"]["miou"], abs=1e-6)
    assert [row["class"] for row in scores["per_class"]] == ["background", "foreground"]
    for plot in scores["plots"]:
        assert Path(plot).is_file() and Path(plot).is_absolute()

    # the val images, found as the split put them: their predicted PNGs give the same mIoU
    from deepimage.data.segmentation import load_segmentation_data

    data = load_segmentation_data(membrane, val_fraction=0.2, seed=0)
    val = data.splits["val"]
    out = root / "predicted"
    predicted = run_deepimage(
        "segment", "predict", "--model", run, *[str(item.image) for item in val],
        "-o", str(out), "--json",
    )  # fmt: skip
    assert predicted.code == 0, predicted.stderr
    rows = predicted.json()["results"]
    assert [Path(row["path"]).name for row in rows] == [item.image.name for item in val]
    for row in rows:
        assert "mask" not in row and Path(row["mask_file"]).is_file()
        assert Path(row["overlay_file"]).is_file()
        assert sum(area["fraction"] for area in row["areas"]) == pytest.approx(1.0, abs=1e-5)
        assert Image.open(row["mask_file"]).mode == "P"
    pairs = [
        (Path(row["mask_file"]), data.read_mask(item)) for row, item in zip(rows, val, strict=True)
    ]
    assert miou_from_files(pairs, 2) == pytest.approx(scores["metrics"]["miou"], abs=1e-4)


def test_predict_refuses_existing_outputs_and_tiles_a_large_image(
    membrane_run: tuple[Path, dict], tmp_path: Path
) -> None:
    _, report = membrane_run
    big = tmp_path / "in" / "big.png"
    tile = read_image(_membrane_image(), mode="gray")
    write_image(big, np.tile(tile, (3, 4))[:1300, :1700])
    out = tmp_path / "out"
    first = run_deepimage(
        "segment",
        "predict",
        "--model",
        report["out_dir"],
        str(big),
        "-o",
        str(out),
        "--tile",
        "256",
        "--json",
    )
    assert first.code == 0, first.stderr
    row = first.json()["results"][0]
    assert (row["width"], row["height"]) == (1700, 1300)
    assert np.asarray(Image.open(row["mask_file"])).shape == (1300, 1700)
    again = run_deepimage(
        "segment", "predict", "--model", report["out_dir"], str(big), "-o", str(out)
    )
    assert again.code == 2 and "--overwrite" in again.stderr and "Traceback" not in again.stderr


def _membrane_image() -> Path:
    from tests.conftest import data_dir

    return data_dir("membrane") / "train" / "image" / "0.png"


def test_segnet_layout_with_a_void_value_trains_ignores_it_and_predicts_full_size(
    tmp_path: Path,
) -> None:
    data = write_shapes(tmp_path / "segnet", "segnet", count=16, size=(96, 72), classes=4, void=9)
    result = run_deepimage(
        "segment", "train", "--data", str(data), "--ignore-index", "9", "--epochs", "3",
        "--crop", "64", "--img-size", "64", "--runs", str(tmp_path / "runs"), *FAST,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["classes"] == ["0", "1", "2", "3"]
    assert set(report) >= {"val", "test"}
    per_class = report["test"]["per_class"]
    assert [row["class"] for row in per_class] == ["0", "1", "2", "3"]
    void_pixels = sum(
        int((d.mask == 255).sum())
        for d in draw_shapes("segnet", count=16, size=(96, 72), classes=4, void=9)
        if d.split == "test"
    )
    assert void_pixels > 0
    drawn_test = [
        d
        for d in draw_shapes("segnet", count=16, size=(96, 72), classes=4, void=9)
        if d.split == "test"
    ]
    scored = sum(row["pixels"] for row in per_class)
    assert scored == sum(int((d.mask != 255).sum()) for d in drawn_test)

    model = Segmenter.load(report["out_dir"])
    image = read_image(next((data / "test").iterdir()))
    row = model.predict(image)[0]
    assert row["mask"].shape == (72, 96) and row["path"] is None


def test_bad_masks_are_named_and_skip_bad_trains_on_the_rest(tmp_path: Path) -> None:
    data = write_shapes(tmp_path / "data", "folders", count=12, size=(64, 48), classes=3)
    (data / "classes.txt").write_text("background\nred\ngreen\n")
    masks = sorted((data / "masks").iterdir())
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(masks[0])  # wrong size
    Image.fromarray(np.full((48, 64), 7, np.uint8)).save(masks[1])  # values outside
    masks[2].unlink()  # missing
    Image.fromarray(np.full((48, 64, 3), (200, 10, 10), np.uint8)).save(masks[3])  # RGB
    inspected = run_deepimage("data", "inspect", str(data), "--task", "segment", "--json")
    assert inspected.code == 0, inspected.stderr
    issues = inspected.json()["issues"]
    kinds = {issue["kind"]: issue for issue in issues}
    assert set(kinds) >= {"size_mismatch", "values_outside_classes", "missing_mask", "colour_mask"}
    for mask in masks[:4]:
        stem = mask.name.removesuffix("_mask.png")
        assert any(stem in issue["path"] + issue["detail"] for issue in issues), mask
    refused = run_deepimage(
        "segment",
        "train",
        "--data",
        str(data),
        "--epochs",
        "1",
        "--runs",
        str(tmp_path / "runs"),
        "--quiet",
    )
    assert refused.code == 2 and "Traceback" not in refused.stderr
    assert "--skip-bad" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    trained = run_deepimage(
        "segment", "train", "--data", str(data), "--epochs", "1", "--crop", "32",
        "--skip-bad", "--runs", str(tmp_path / "runs"), *FAST,
    )  # fmt: skip
    assert trained.code == 0, trained.stderr
    report = trained.json()
    assert len(report["skipped"]) == 4
    assert report["train_images"] + report["val_images"] == 8


def test_predict_on_a_video_writes_overlays_as_a_video(
    membrane_run: tuple[Path, dict], tmp_path: Path
) -> None:
    from deepimage.io.video_stream import VideoOut, video_info

    _, report = membrane_run
    tile = read_image(_membrane_image(), mode="rgb")[:128, :160]
    video = tmp_path / "cells.avi"
    with VideoOut(video, fps=5, size=(160, 128)) as out:
        for i in range(8):
            out.write(np.roll(tile, 8 * i, axis=1))
    done = run_deepimage(
        "segment", "predict", "--model", report["out_dir"], str(video), "-o", str(tmp_path / "o"),
        "--json",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == list(range(8)) and all(r["areas"] for r in rows)
    assert video_info(tmp_path / "o" / "cells.avi").frames == 8

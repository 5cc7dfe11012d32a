"""``deepimage detect train / evaluate / predict`` on a small subset of the raccoon data."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from tests.conftest import CliResult, data_dir, run_deepimage

from deepimage.api import Detector
from deepimage.data.detection import DetectionData, DetectionItem, load_detection_data, write_voc
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.errors import DeepImageError
from deepimage.tasks.detection_hooks import check_outputs, example_panels, write_outputs
from deepimage.tasks.detection_metrics import SUMMARY_NAMES
from deepimage.tasks.detection_spec import DetectPredict

MODEL = "fasterrcnn_mobilenet_v3_large_320_fpn"
EVALUATION_PLOTS = (
    "precision_recall", "p_curve", "r_curve", "f1_curve", "confusion_matrix", "labels", "examples",
)  # fmt: skip
FAST = ["--img-size", "128", "--batch-size", "4", "--quiet", "--json"]


def raccoon_subset(out: Path, train: int, val: int, classes_file: bool = False) -> Path:
    """A VOC copy of the first raccoon images, with a train/val split of its own."""
    data = load_detection_data(data_dir("raccoon"), val_fraction=0.2, seed=0)
    subset = DetectionData(
        "raccoon-small",
        data.classes,
        {"train": data.splits["train"][:train], "val": data.splits["val"][:val]},
        [],
        data.source,
        "voc",
    )
    write_voc(subset, out)
    if classes_file:
        (out / "classes.txt").write_text("raccoon\n")
    return out


def val_images(data: Path) -> list[str]:
    stems = (data / "ImageSets" / "Main" / "val.txt").read_text().split()
    return [str(data / "images" / f"{stem}.jpg") for stem in stems]


def train_report(root: Path, val: int, *options: str) -> tuple[Path, dict]:
    """(data folder, train report) of a small run on 8 train and ``val`` val images."""
    data = raccoon_subset(root / "voc", train=8, val=val)
    result = run_deepimage(
        "detect", "train", "--data", str(data), "--model", MODEL, "--runs", str(root / "runs"),
        *options, *FAST,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return data, result.json()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(data folder, train report) of a short run that the time budget stops."""
    return train_report(tmp_path_factory.mktemp("detect"), 6, "--epochs", "50", "--time", "0.4")


def test_train_reports_run_checkpoint_and_map(trained: tuple[Path, dict]) -> None:
    _, report = trained
    assert Path(report["best_checkpoint"]).is_file()
    assert abs(best_logged_map50(report["out_dir"]) - report["val"]["metrics"]["map50"]) < 1e-6
    assert 0 <= report["val"]["metrics"]["map"] <= report["val"]["metrics"]["map50"] <= 1
    assert 1 <= report["epochs"] < 50  # the 0.4-minute budget ended it
    assert report["skipped_steps"] == 0
    plots = {Path(path).name: Path(path) for path in report["val"]["plots"]}
    assert set(plots) == {f"{name}_val.png" for name in EVALUATION_PLOTS}
    assert all(path.parent == Path(report["out_dir"]) / "plots" for path in plots.values())
    examples = plots["examples_val.png"]
    assert Image.open(examples).size[0] >= 4 * 200  # four panels a row, each big enough to see


def best_logged_map50(run_dir: str) -> float:
    """The best val/map50 that training logged to metrics.csv."""
    with open(Path(run_dir) / "metrics.csv", newline="") as handle:
        return max(float(row["val/map50"]) for row in csv.DictReader(handle) if row["val/map50"])


def test_ddp_scores_the_whole_val_set_on_every_rank(tmp_path: Path) -> None:
    """Five val images on two ranks: each rank predicts its share, the mAP is over all five,
    and it equals the single-process evaluation of the best checkpoint."""
    _, report = train_report(tmp_path, 5, "--epochs", "2", "--devices", "2")
    assert report["epochs"] == 2
    assert abs(best_logged_map50(report["out_dir"]) - report["val"]["metrics"]["map50"]) < 1e-6


def test_best_checkpoint_holds_only_the_averaged_weights(trained: tuple[Path, dict]) -> None:
    _, report = trained
    best = load_checkpoint(report["best_checkpoint"])
    last = load_checkpoint(report["last_checkpoint"])
    assert "optimizer_states" not in best and "optimizer_states" in last
    assert {key.split(".")[0] for key in best["state_dict"]} == {"ema"}
    assert {key.split(".")[0] for key in last["state_dict"]} == {"net", "ema"}
    size = Path(report["best_checkpoint"]).stat().st_size
    assert size < Path(report["last_checkpoint"]).stat().st_size / 3  # net + EMA + AdamW moments
    restored = Detector.load(report["best_checkpoint"]).task
    for trained_weight, averaged in zip(
        restored.net.state_dict().values(), restored.ema.state_dict().values(), strict=True
    ):
        assert torch.equal(trained_weight, averaged)


def test_predict_json_is_in_original_pixels_with_annotated_copies(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    data, report = trained
    photo = tmp_path / "big" / "photo.jpg"
    photo.parent.mkdir()
    source = val_images(data)[0]
    Image.open(source).convert("RGB").resize((4000, 3000)).save(photo, quality=90)
    out = tmp_path / "annotated"
    result = run_deepimage(
        "detect", "predict", str(photo), *val_images(data),
        "--model", report["out_dir"], "--conf", "0.0", "-o", str(out), "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    rows = result.json()["results"]  # the predict shape: {task, model, results, skipped, out_dir}
    assert Path(rows[0]["path"]).name == "photo.jpg"
    assert len(rows) == 7
    big = rows[0]["detections"]
    assert big, "an untrained detector at --conf 0 still proposes boxes"
    for found in big:
        x1, y1, x2, y2 = found["box"]
        assert 0 <= x1 <= x2 <= 4000 and 0 <= y1 <= y2 <= 3000
        assert found["label"] == "raccoon" and 0 <= found["score"] <= 1
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(r["path"]).name for r in rows)
    assert Image.open(out / "photo.jpg").size == (4000, 3000)


def test_annotated_copies_draw_only_detections_above_min_score(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    _, report = trained
    photo = tmp_path / "grey.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(photo)
    weak = {"box": [10, 10, 90, 90], "label": "raccoon", "score": 0.1}
    strong = {"box": [150, 50, 280, 180], "label": "raccoon", "score": 0.9}
    results = [{"path": str(photo), "detections": [weak, strong]}]
    detector = Detector.load(report["best_checkpoint"])
    drawn = {}
    for min_score in (0.0, 0.5):
        out = tmp_path / str(min_score)
        settings = DetectPredict(out=str(out), draw_conf=min_score)
        assert write_outputs(detector.task, results, settings) == str(out)
        drawn[min_score] = np.asarray(Image.open(out / "grey.png")) != 128
    assert drawn[0.0][10:90, 10:90].any() and not drawn[0.5][10:90, 10:90].any()
    assert drawn[0.5][50:180, 150:280].any()


def test_evaluate_writes_every_plot_and_the_best_f1(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    data, report = trained
    out = tmp_path / "plots"
    evaluated = run_deepimage(
        "detect", "evaluate", "--data", str(data), "--model", report["out_dir"], "-o", str(out),
        "--draw-conf", "0.3", "--json",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    result = evaluated.json()
    assert result["draw_conf"] == 0.3
    paths = [Path(path) for path in result["plots"]]
    assert sorted(path.name for path in paths) == sorted(f"{n}_val.png" for n in EVALUATION_PLOTS)
    for path in paths:
        assert path.is_absolute() and path.parent == out.absolute() and path.is_file()
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as image:
            image.verify()
    metrics = result["metrics"]
    assert 0 <= metrics["f1"] <= 1 and 0 <= metrics["precision"] <= 1
    assert metrics["f1_conf"] is None or 0 <= metrics["f1_conf"] <= 1
    sides = [
        np.sqrt(np.prod(item.boxes[:, 2:] - item.boxes[:, :2], axis=1))
        for item in load_detection_data(data).splits["val"]
    ]
    small = bool((np.concatenate(sides) <= 32).any())
    assert (metrics["map_small"] is None) is (not small)  # null, never -1
    shown = run_deepimage(
        "detect", "evaluate", "--data", str(data), "--model", report["out_dir"], "-o", str(out)
    )
    assert shown.code == 0 and "-1.0000" not in shown.stdout
    for path in paths:
        assert str(path) in shown.stdout  # printed whole, one a line


def test_example_panels_show_truths_apart_and_no_detection_below_draw_conf(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    _, report = trained
    photo = tmp_path / "grey.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(photo)
    truth = np.array([[20, 120, 120, 190]], np.float32)
    item = DetectionItem(photo, 300, 200, truth, np.array([0]))
    weak = {"box": [10, 10, 90, 90], "label": "raccoon", "score": 0.29}
    strong = {"box": [150, 20, 280, 100], "label": "raccoon", "score": 0.3}
    module = Detector.load(report["best_checkpoint"]).task
    (truths, found), titles = example_panels(module, item, {"detections": [weak, strong]}, 0.3)
    truths, found = truths != 128, found != 128
    assert truths[120:190, 20:120].any() and not truths[:100].any()  # the truth box alone
    assert found[20:100, 150:280].any()
    assert not found[5:95, 5:95].any() and not found[110:].any()  # no weak box, no truth
    assert titles[1].startswith("1 found scoring at least 0.3")


def yolo_boxes(label_file: Path, width: int, height: int) -> list[tuple[int, list[float], float]]:
    """(class index, [x1, y1, x2, y2] in pixels, score) of each line of a YOLO label file."""
    found = []
    for line in label_file.read_text().splitlines():
        index, cx, cy, w, h, score = line.split()
        x, y, w, h = float(cx) * width, float(cy) * height, float(w) * width, float(h) * height
        found.append((int(index), [x - w / 2, y - h / 2, x + w / 2, y + h / 2], float(score)))
    return found


def test_predict_saves_yolo_labels_and_crops(trained: tuple[Path, dict], tmp_path: Path) -> None:
    data, report = trained
    images = val_images(data)[:2]
    out = tmp_path / "saved"
    result = run_deepimage(
        "detect", "predict", *images, "--model", report["out_dir"], "--conf", "0.0",
        "--draw-conf", "0.0", "-o", str(out), "--save-txt", "--save-crops", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    rows = result.json()["results"]
    assert (out / "labels" / "classes.txt").read_text() == "raccoon\n"
    crops = 0
    for row in rows:
        image = Image.open(row["path"])
        label_file = out / "labels" / f"{Path(row['path']).stem}.txt"
        assert row["label_file"] == str(label_file)
        saved = yolo_boxes(label_file, *image.size)
        assert len(saved) == len(row["detections"]) > 0
        pixels = np.asarray(image.convert("RGB"), np.float64)
        for n, (found, (index, box, score)) in enumerate(
            zip(row["detections"], saved, strict=True)
        ):
            assert index == 0 and score == pytest.approx(found["score"], abs=1e-6)
            assert box == pytest.approx(found["box"], abs=1e-3)  # 6 decimals of a fraction
            crop = out / "crops" / "raccoon" / f"{Path(row['path']).stem}_{n}.jpg"
            assert found["crop_file"] == str(crop)
            x1, y1, x2, y2 = found["box"]
            left, top = int(np.floor(x1)), int(np.floor(y1))
            right = max(min(int(np.ceil(x2)), image.width), left + 1)
            bottom = max(min(int(np.ceil(y2)), image.height), top + 1)
            cut = np.asarray(Image.open(crop).convert("RGB"), np.float64)
            assert cut.shape == (bottom - top, right - left, 3)
            assert np.abs(cut - pixels[top:bottom, left:right]).mean() < 8  # JPEG's loss
            crops += 1
    assert crops == len(list((out / "crops" / "raccoon").iterdir()))
    again = run_deepimage(
        "detect", "predict", images[0], "--model", report["out_dir"], "-o", str(tmp_path / "b"),
        "--save-crops", "--json",
    )  # fmt: skip
    assert again.code == 0 and not (tmp_path / "b" / "labels").exists()


def test_save_txt_and_crops_need_an_output_folder(trained: tuple[Path, dict]) -> None:
    data, report = trained
    for flags in (["--save-txt"], ["--save-crops"], ["--save-txt", "--save-crops"]):
        result = run_deepimage(
            "detect", "predict", val_images(data)[0], "--model", report["out_dir"], *flags
        )
        assert result.code == 2 and "-o/--out" in result.stderr, result.stderr
        assert " and ".join(flags) in result.stderr and "Traceback" not in result.stderr


def test_saved_labels_and_crops_are_refused_unless_overwrite(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    _, report = trained
    photo = tmp_path / "in" / "grey.png"
    photo.parent.mkdir()
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(photo)
    weak = {"box": [10, 10, 90, 90], "label": "raccoon", "score": 0.1}
    strong = {"box": [150.5, 50.2, 280, 180.7], "label": "raccoon", "score": 0.9}
    detector = Detector.load(report["best_checkpoint"])
    out = tmp_path / "out"
    settings = DetectPredict(out=str(out), draw_conf=0.5, save_txt=True, save_crops=True)
    rows = [{"path": str(photo), "detections": [dict(weak), dict(strong)]}]
    write_outputs(detector.task, rows, settings)
    assert sorted(p.name for p in (out / "crops" / "raccoon").iterdir()) == ["grey_1.jpg"]
    assert Image.open(out / "crops" / "raccoon" / "grey_1.jpg").size == (130, 131)
    assert "crop_file" not in rows[0]["detections"][0]
    assert len((out / "labels" / "grey.txt").read_text().splitlines()) == 2
    (out / "grey.png").unlink()  # the annotated copy is refused first; now each of the others
    for name in ("labels/grey.txt", "labels/classes.txt", "crops/raccoon/grey_1.jpg"):
        with pytest.raises(DeepImageError, match=re.escape(str(out / name))):
            check_outputs([photo], settings)
        (out / name).rename(tmp_path / "kept")
    check_outputs([photo], settings)
    check_outputs([photo], DetectPredict(out=str(out), save_txt=True, overwrite=True))


def test_evaluate_equals_cocoeval_on_predict_output(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    data, report = trained
    common = ["--model", report["out_dir"], "--conf", "0.001"]
    evaluated = run_deepimage("detect", "evaluate", "--data", str(data), *common, "--json")
    assert evaluated.code == 0, evaluated.stderr
    metrics = evaluated.json()["metrics"]
    plots = evaluated.json()["plots"]
    predicted = run_deepimage("detect", "predict", *val_images(data), *common, "--json")
    assert predicted.code == 0, predicted.stderr
    coco_dir = tmp_path / "coco"
    assert run_deepimage("detect", "convert", str(data), str(coco_dir), "--to", "coco").code == 0
    truth = COCO(str(coco_dir / "annotations" / "instances_val.json"))
    ids = {Path(image["file_name"]).name: image["id"] for image in truth.dataset["images"]}
    results = [
        {
            "image_id": ids[Path(row["path"]).name],
            "category_id": 1,
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "score": found["score"],
        }
        for row in predicted.json()["results"]
        for found in row["detections"]
        for x1, y1, x2, y2 in [found["box"]]
    ]
    assert results, "the comparison needs detections"
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    direct = dict(zip(SUMMARY_NAMES, evaluator.stats, strict=True))
    for name in SUMMARY_NAMES:  # COCOeval's -1 (no small boxes, say) is None
        expected = None if direct[name] < 0 else pytest.approx(direct[name], abs=1e-4)
        assert metrics[name] == expected, name
    assert Path(plots[0]).is_file()


def broken_raccoon(root: Path) -> tuple[Path, list[str]]:
    """Raccoon VOC data with a malformed XML, a box outside the image, an unknown class
    and a truncated JPEG; returns the folder and the names of the broken files."""
    data = raccoon_subset(root, train=8, val=4, classes_file=True)
    xmls = sorted((data / "annotations").glob("*.xml"))
    xmls[0].write_text("<annotation><object>")  # malformed
    text = xmls[1].read_text()
    xmls[1].write_text(text.replace("<xmax>", "<xmax>9", 1))  # far outside the image
    xmls[2].write_text(text.replace("<name>raccoon</name>", "<name>dog</name>"))
    jpeg = sorted((data / "images").glob("*.jpg"))[5]
    jpeg.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 3])
    return data, [xmls[0].name, xmls[2].name, jpeg.name]


def test_broken_data_is_named_and_skipped(
    tmp_path: Path, deepimage: Callable[..., CliResult]
) -> None:
    data, broken = broken_raccoon(tmp_path / "voc")
    inspected = deepimage("data", "inspect", str(data), "--json")
    assert inspected.code == 0, inspected.stderr
    named = " ".join(row["path"] for row in inspected.json()["skipped"])  # was broken_files
    assert all(name in named for name in broken), (broken, named)
    assert inspected.json()["issue_counts"]["clipped_box"] >= 1
    runs = ["--runs", str(tmp_path / "runs"), "--epochs", "1", *FAST]
    failed = deepimage("detect", "train", "--data", str(data), "--model", MODEL, *runs)
    assert failed.code == 2 and any(name in failed.stderr for name in broken), failed.stderr
    skipped = deepimage(
        "detect", "train", "--data", str(data), "--model", MODEL, "--skip-bad", *runs
    )
    assert skipped.code == 0, skipped.stderr
    report = skipped.json()
    assert report["skipped_steps"] == 0 and np.isfinite(report["val"]["metrics"]["map"])
    assert {issue["kind"] for issue in report["issues"]} >= {
        "malformed_annotation", "unknown_class", "bad_image", "clipped_box",
    }  # fmt: skip
    assert (
        json.loads((Path(report["out_dir"]) / "report.json").read_text())["val"]["metrics"]["map"]
        == report["val"]["metrics"]["map"]
    )
    shutil.rmtree(tmp_path / "runs")


def test_predict_on_a_video_writes_an_annotated_video_and_a_row_per_frame(
    trained: tuple[Path, dict], tmp_path: Path
) -> None:
    import cv2

    from deepimage.io.images import read_image
    from deepimage.io.video_stream import VideoOut, video_info

    data, report = trained
    photos = sorted((data / "images").glob("*.jpg"))
    video = tmp_path / "raccoons.mp4"
    with VideoOut(video, fps=2, size=(320, 240)) as out:  # 20 frames: 10 seconds
        for i in range(20):
            out.write(cv2.resize(read_image(photos[i % len(photos)]), (320, 240)))
    done = run_deepimage(
        "detect", "predict", "--model", report["out_dir"], str(video), "-o", str(tmp_path / "out"),
        "--json",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    rows = done.json()["results"]
    assert [row["frame"] for row in rows] == list(range(20))
    assert all("detections" in row for row in rows)
    assert video_info(tmp_path / "out" / "raccoons.mp4").frames == 20
    strided = run_deepimage(
        "detect", "predict", "--model", report["out_dir"], str(video), "--vid-stride", "5", "--json"
    )
    assert [row["frame"] for row in strided.json()["results"]] == [0, 5, 10, 15]
    again = run_deepimage(
        "detect", "predict", "--model", report["out_dir"], str(video), "-o", str(tmp_path / "out")
    )
    assert again.code == 2 and "--overwrite" in again.stdout + again.stderr

"""Issue 11 for the model commands, through the real CLI: names from data printed
literally, annotation paths confined to their data set, checkpoint metadata checked
before anything is built, clear one-line errors for hostile files and folders, annotated
copies of any input format, no zero-area boxes, no silent overwrite in ``-o``."""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tests.conftest import CliResult, data_dir, run_deepimage
from tests.unit.test_engine import write_malicious_checkpoint

from deepimage.tasks.detection import DetectionTask

TINY = ["--img-size", "16", "--epochs", "1", "--batch-size", "8", "--quiet"]
EVIL_CLASS, ESCAPE_CLASS = "[bold red]evil", "dog\x1b[2J"


def one_line_error(result: CliResult, *wanted: str) -> str:
    """The one stderr line of a refused command (exit 2, no traceback), holding ``wanted``."""
    assert result.code == 2, (result.code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    for text in wanted:
        assert text in line, (text, line)
    return line


@pytest.fixture(scope="module")
def markup_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A classifier trained (one tiny epoch) on a folder whose own name and class names
    hold rich markup and a terminal escape."""
    root = tmp_path_factory.mktemp("markup")
    data = root / "[bold]set"
    rng = np.random.default_rng(0)
    for name, level in ((EVIL_CLASS, 40), (ESCAPE_CLASS, 200)):
        (data / name).mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(level, 20, (16, 16)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(data / name / f"{i}.png")
    trained = run_deepimage("classify", "train", "--data", str(data), *TINY,
                            "--runs", str(root / "runs"), "--name", "n")  # fmt: skip
    assert trained.code == 0, trained.stderr
    run = root / "runs" / "classify" / "n"
    return {"root": root, "data": data, "run": run, "summary": trained.stdout}


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained SSDlite saved the way training saves one: at ``--conf 0`` it finds
    boxes everywhere, the letterbox padding included."""
    torch.manual_seed(0)
    task = DetectionTask("ssdlite320_mobilenet_v3_large", ["raccoon"], img_size=128)
    checkpoint: dict = {"hyper_parameters": dict(task.hparams), "state_dict": task.state_dict()}
    task.on_save_checkpoint(checkpoint)
    path = tmp_path_factory.mktemp("detector") / "detector.ckpt"
    torch.save(checkpoint, path)
    return path


def raccoon_image(index: int) -> Path:
    return data_dir("raccoon") / "images" / f"raccoon-{index}.jpg"


# ------------------------------------------------------------------ 7: names printed as they are
def test_names_and_paths_from_data_print_literally(markup_run: dict, tmp_path: Path) -> None:
    assert str(markup_run["data"]) in markup_run["summary"]  # train's summary: "[bold]set"
    photo = tmp_path / "[bold red]evil.png"
    Image.fromarray(np.full((16, 16), 40, np.uint8)).save(photo)
    predicted = run_deepimage("classify", "predict", str(photo), str(markup_run["data"]),
                              "--model", str(markup_run["run"]))  # fmt: skip
    assert predicted.code == 0, predicted.stderr
    assert "[bold red]evil.png" in predicted.stdout  # the file name, as it is
    assert f"│ {EVIL_CLASS}" in predicted.stdout  # the label cells too
    assert "\x1b" not in predicted.stdout and "dog\\x1b[2J" in predicted.stdout
    evaluated = run_deepimage("classify", "evaluate", "--model", str(markup_run["run"]),
                              "--data", str(markup_run["data"]), "--split", "val")  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    assert f"{markup_run['data']} [val]" in evaluated.stdout  # the title
    assert EVIL_CLASS in evaluated.stdout and "dog\\x1b[2J" in evaluated.stdout  # per class
    assert "\x1b" not in evaluated.stdout


# ------------------------------------------------------- 8: annotation paths stay in the data set
def coco_with_outside_paths(root: Path) -> tuple[Path, Path]:
    """A COCO data set with one image of its own and two file_names leading out of it (an
    absolute path and a ../ climb) to a real photo; returns (data set, outside photo)."""
    outside = root / "private" / "secret.jpg"
    outside.parent.mkdir(parents=True)
    shutil.copy(raccoon_image(2), outside)
    data = root / "data" / "coco"
    (data / "images").mkdir(parents=True)
    shutil.copy(raccoon_image(1), data / "images" / "own.jpg")
    box = {"category_id": 1, "bbox": [10, 10, 100, 100]}
    document = {
        "images": [
            {"id": 1, "file_name": "own.jpg"},
            {"id": 2, "file_name": str(outside)},
            {"id": 3, "file_name": "../../../private/secret.jpg"},
        ],
        "annotations": [{"id": i, "image_id": i, **box} for i in (1, 2, 3)],
        "categories": [{"id": 1, "name": "raccoon"}],
    }
    (data / "annotations.json").write_text(json.dumps(document))
    return data, outside


def test_annotation_paths_outside_the_data_set_are_refused(tmp_path: Path) -> None:
    data, outside = coco_with_outside_paths(tmp_path)
    out = tmp_path / "converted"
    refused = run_deepimage("detect", "convert", str(data), str(out), "--to", "voc")
    one_line_error(refused, "annotations.json", "outside the data set folder", "--skip-bad")
    skipped = run_deepimage(
        "detect", "convert", str(data), str(out), "--to", "voc", "--skip-bad", "--json"
    )
    assert skipped.code == 0, skipped.stderr
    report = skipped.json()
    assert [issue["kind"] for issue in report["issues"]].count("outside_data") == 2
    assert len(report["skipped"]) == 2 and report["splits"] == {"train": 1}
    secret = outside.read_bytes()
    copies = [path for path in out.rglob("*") if path.is_file()]
    assert [path.name for path in out.glob("images/*")] == ["own.jpg"]
    assert all(path.read_bytes() != secret for path in copies)


def test_a_voc_filename_cannot_name_a_file_outside_the_data_set(tmp_path: Path) -> None:
    outside = tmp_path / "secret.jpg"
    shutil.copy(raccoon_image(2), outside)
    data = tmp_path / "voc"
    (data / "images").mkdir(parents=True)
    (data / "annotations").mkdir()
    (data / "annotations" / "a.xml").write_text(
        f"<annotation><filename>{outside}</filename><object><name>raccoon</name><bndbox>"
        "<xmin>11</xmin><ymin>6</ymin><xmax>30</xmax><ymax>45</ymax></bndbox></object>"
        "</annotation>"
    )
    refused = run_deepimage("detect", "convert", str(data), str(tmp_path / "out"), "--to", "coco")
    one_line_error(refused, "a.xml", str(data / "images" / "secret.jpg"), "not found")


# --------------------------------------------------- 9, 10: checkpoints checked before building
def edited(source: Path, folder: Path, name: str, **changes: object) -> Path:
    """A copy of the checkpoint ``source`` with ``hyper_parameters`` (or, for the key
    ``data_card``, the model card's data split) changed."""
    checkpoint = torch.load(source, weights_only=True)
    checkpoint = copy.deepcopy(checkpoint)
    if "data_card" in changes:
        checkpoint["deepimage"]["data"].update(changes.pop("data_card"))
    checkpoint["hyper_parameters"].update(changes)
    path = folder / f"{name}.ckpt"
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize(
    ("changes", "wanted"),
    [
        ({"img_size": 100000}, ["bad metadata", "'img_size' must be at most 4096"]),
        ({"model": "resnet18"}, ["weights do not fit the 'resnet18' model", "`model`"]),
        ({"model": "no-such-net"}, ["unknown classify model 'no-such-net'", "small-cnn"]),
        ({"mean": "x"}, ["'mean' is 'x', expected a list of numbers"]),
        ({"std": [0.0]}, ["'std' must be positive"]),
        ({"in_channels": 3}, ["'mean' has 1 number(s) for 3 channel(s)"]),
        ({"classes": [1, 2]}, ["'classes' is [1, 2], expected a list of strings"]),
        ({"classes": ["a", "a"]}, ["'classes' must be 1 to 100000 distinct"]),
        ({"lr": float("nan")}, ["'lr' is nan"]),
        ({"learning_rate": 0.1}, ["unknown hyperparameter 'learning_rate'"]),
        ({"data_card": {"val_fraction": "x"}}, ["data card", "'val_fraction'"]),
    ],
)
def test_edited_checkpoint_metadata_is_one_clear_line(
    markup_run: dict, tmp_path: Path, changes: dict, wanted: list[str]
) -> None:
    best = markup_run["run"] / "checkpoints" / "best.ckpt"
    path = edited(best, tmp_path, "edited", **changes)
    started = time.monotonic()
    result = run_deepimage("classify", "predict", str(next(markup_run["data"].rglob("*.png"))),
                           "--model", str(path))  # fmt: skip
    one_line_error(result, str(path), *wanted)
    assert time.monotonic() - started < 60  # nothing was allocated for a 100000 px model


def test_a_huge_image_size_is_refused_in_configs_too(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    for line, wanted in (
        ("img_size: 100000", "'img_size' must be at most 4096"),
        ("lr: .nan", "'lr' must be a number, not nan"),
        ("seed: -1", "'seed' must be at least 0"),
        ("workers: 100000", "'workers' must be at most 64"),
    ):
        config.write_text(f"data: digits\nepochs: 1\n{line}\n")
        result = run_deepimage("classify", "train", "--config", str(config), "--quiet")
        one_line_error(result, str(config), wanted)


def test_random_bytes_are_told_apart_from_an_unsafe_pickle(
    markup_run: dict, tmp_path: Path
) -> None:
    noise, evil = tmp_path / "noise.ckpt", tmp_path / "evil.ckpt"
    with noise.open("wb") as handle:
        for _ in range(300):
            handle.write(os.urandom(1 << 20))  # 300 MB
    write_malicious_checkpoint(evil, tmp_path / "pwned")
    image = str(next(markup_run["data"].rglob("*.png")))
    result = run_deepimage("classify", "predict", image, "--model", str(noise))
    line = one_line_error(result, str(noise), "not a model file", "not a PyTorch checkpoint")
    assert "could run code" not in line
    noise.unlink()
    result = run_deepimage("classify", "predict", image, "--model", str(evil))
    one_line_error(result, str(evil), "refused", "could run code")
    assert not (tmp_path / "pwned").exists()


def test_weights_and_resume_files_that_do_not_fit_are_clear_errors(
    markup_run: dict, tmp_path: Path
) -> None:
    run, data = markup_run["run"], str(markup_run["data"])
    listed = tmp_path / "listed.ckpt"
    torch.save({"state_dict": [1, 2, 3]}, listed)
    result = run_deepimage("classify", "train", "--data", data, *TINY, "--weights", str(listed),
                           "--runs", str(tmp_path / "runs"))  # fmt: skip
    one_line_error(result, str(listed), "state_dict is not a mapping")
    copied = tmp_path / "copied-run"
    shutil.copytree(run, copied)
    shutil.copy(run / "checkpoints" / "best.ckpt", copied / "checkpoints" / "last.ckpt")
    result = run_deepimage("classify", "train", "--resume", str(copied), "--quiet")
    one_line_error(result, "last.ckpt", "no training state", "--weights")
    shrunk = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    shrunk["state_dict"] = {key: value[:1] for key, value in shrunk["state_dict"].items()}
    torch.save(shrunk, copied / "checkpoints" / "last.ckpt")
    result = run_deepimage("classify", "train", "--resume", str(copied), "--quiet")
    one_line_error(result, "last.ckpt", "weights do not fit")


# ---------------------------------------------------------- 10: nesting, folders, hostile YAML
def test_deeply_nested_files_are_clear_errors(markup_run: dict, tmp_path: Path) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    coco = tmp_path / "coco"
    (coco / "images").mkdir(parents=True)
    shutil.copy(raccoon_image(1), coco / "images" / "a.jpg")
    (coco / "instances.json").write_text(nested)
    result = run_deepimage("detect", "convert", str(coco), str(tmp_path / "out"), "--to", "voc")
    one_line_error(result, "instances.json", "nested too deeply")
    config = tmp_path / "config.yaml"
    config.write_text(f"data: {nested}\n")
    result = run_deepimage("classify", "train", "--config", str(config))
    one_line_error(result, str(config), "nested too deeply")
    bomb = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    bomb += [
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    class_map = tmp_path / "classes.yaml"
    class_map.write_text("\n".join(bomb) + "\n")  # 9**9 names if expanded
    result = run_deepimage("classify", "evaluate", "--model", str(markup_run["run"]),
                           "--data", str(markup_run["data"]), "--class-map", str(class_map),
                           timeout=60)  # fmt: skip
    one_line_error(result, str(class_map), "mapping of data name: model name")


def test_an_unwritable_runs_folder_or_a_climbing_run_name_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way\n")
    result = run_deepimage("classify", "train", "--data", "digits", *TINY,
                           "--runs", str(blocker / "runs"))  # fmt: skip
    one_line_error(result, "cannot create the run folder", "--runs")
    result = run_deepimage("classify", "train", "--data", "digits", *TINY,
                           "--runs", str(tmp_path / "runs"), "--name", "../../escaped")  # fmt: skip
    one_line_error(result, "not a plain folder name", "--name")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "runs").exists()
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        result = run_deepimage("classify", "train", "--data", "digits", *TINY,
                               "--runs", str(locked))  # fmt: skip
        one_line_error(result, str(locked), "--runs")


# ------------------------------------------------------------------------- 12, 13, 14: detect
def test_annotated_copies_of_gif_and_ppm_inputs_are_png(
    detector_file: Path, tmp_path: Path
) -> None:
    photo = Image.open(raccoon_image(1)).convert("RGB")
    photo.save(tmp_path / "r.gif")
    photo.save(tmp_path / "r.ppm")
    out = tmp_path / "annotated"
    result = run_deepimage("detect", "predict", str(tmp_path / "r.gif"), str(tmp_path / "r.ppm"),
                           "--model", str(detector_file), "-o", str(out), "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json()["out_dir"] == str(out)
    assert sorted(path.name for path in out.iterdir()) == ["r-1.png", "r.png"]
    assert all(Image.open(path).size == photo.size for path in out.iterdir())


def test_predict_and_evaluate_return_no_zero_area_boxes(
    detector_file: Path, tmp_path: Path
) -> None:
    wide = tmp_path / "wide.jpg"  # 4:1, so three quarters of the letterboxed square is padding
    Image.open(raccoon_image(1)).convert("RGB").resize((600, 150)).save(wide)
    result = run_deepimage("detect", "predict", str(wide), str(raccoon_image(1)),
                           "--model", str(detector_file), "--conf", "0", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    boxes = [found["box"] for row in result.json()["results"] for found in row["detections"]]
    assert boxes, "an untrained detector at --conf 0 still proposes boxes"
    assert all(x2 > x1 and y2 > y1 for x1, y1, x2, y2 in boxes), boxes


def test_a_duplicate_coco_image_id_is_an_error(tmp_path: Path) -> None:
    data = tmp_path / "coco"
    (data / "images").mkdir(parents=True)
    for i in (1, 2, 3):
        shutil.copy(raccoon_image(i), data / "images" / f"{i}.jpg")
    document = {
        "images": [
            {"id": 1, "file_name": "1.jpg"},
            {"id": 1, "file_name": "2.jpg"},
            {"id": 3, "file_name": "3.jpg"},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50]},
            {"id": 2, "image_id": 3, "category_id": 1, "bbox": [10, 10, 50, 50]},
        ],
        "categories": [{"id": 1, "name": "raccoon"}],
    }
    (data / "annotations.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    refused = run_deepimage("detect", "convert", str(data), str(out), "--to", "yolo")
    one_line_error(refused, "annotations.json", "image id 1 is used by more than one image")
    result = run_deepimage(
        "detect", "convert", str(data), str(out), "--to", "yolo", "--skip-bad", "--json"
    )
    assert result.code == 0, result.stderr
    report = result.json()
    assert [issue["kind"] for issue in report["issues"]] == ["duplicate_id"]
    assert report["splits"] == {"train": 1} and report["boxes"] == 1  # only image 3 is sure


def test_detect_predict_refuses_existing_outputs_unless_overwrite(
    detector_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "annotated"
    out.mkdir()
    kept = out / "raccoon-1.jpg"
    kept.write_bytes(b"an earlier result")
    common = [str(raccoon_image(1)), "--model", str(detector_file), "-o", str(out)]
    refused = run_deepimage("detect", "predict", *common)
    one_line_error(refused, str(kept), "already exists", "--overwrite")
    assert kept.read_bytes() == b"an earlier result"
    replaced = run_deepimage("detect", "predict", *common, "--overwrite", "--json")
    assert replaced.code == 0, replaced.stderr
    assert Image.open(kept).size == Image.open(raccoon_image(1)).size


# ---------------------------------------------------- the same faults found in other commands
def test_unwritable_output_folders_are_refused_before_any_work(
    markup_run: dict, detector_file: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way\n")
    commands = [
        ["classify", "evaluate", "--model", str(markup_run["run"]), "--data",
         str(markup_run["data"]), "-o", str(blocker / "plots")],
        ["detect", "predict", str(raccoon_image(1)), "--model", str(detector_file),
         "-o", str(blocker / "annotated")],
        ["detect", "convert", str(data_dir("raccoon")), str(blocker / "coco"), "--to", "coco"],
    ]  # fmt: skip
    for command in commands:
        one_line_error(run_deepimage(*command), "cannot write in the output folder", "a-file")


def test_class_names_given_twice_and_odd_sizes_are_handled(tmp_path: Path) -> None:
    data = tmp_path / "coco"
    (data / "images").mkdir(parents=True)
    shutil.copy(raccoon_image(1), data / "images" / "a.jpg")
    document = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 2, "bbox": [10, 10, 50, 50]}],
        "categories": [{"id": 1, "name": "raccoon"}, {"id": 2, "name": "raccoon"}],
    }
    (data / "annotations.json").write_text(json.dumps(document))
    result = run_deepimage("detect", "convert", str(data), str(tmp_path / "out"), "--to", "voc")
    one_line_error(result, str(data), "names raccoon more than once")
    voc = tmp_path / "voc"
    (voc / "images").mkdir(parents=True)
    (voc / "annotations").mkdir()
    shutil.copy(raccoon_image(1), voc / "images" / "a.jpg")
    (voc / "annotations" / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>nan</width><height>1e999</height>"
        "</size><object><name>raccoon</name><bndbox><xmin>11</xmin><ymin>6</ymin>"
        "<xmax>30</xmax><ymax>45</ymax></bndbox></object></annotation>"
    )
    result = run_deepimage("detect", "convert", str(voc), str(tmp_path / "yolo"), "--to", "yolo")
    assert result.code == 0, result.stderr  # the image's own size is used
    (label,) = (tmp_path / "yolo" / "labels" / "train").glob("*.txt")
    assert label.read_text().startswith("0 ")

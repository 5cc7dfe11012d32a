"""Every command that reads images, model files, galleries or annotations, run over one
corpus of bad inputs: each run ends with exit 0 or 2, never a traceback, within 60 s; the
inputs stay byte-identical; every image file it writes decodes."""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tests.conftest import cli_env, write_bad_images

from deepimage.io import read_image
from deepimage.io.headers import IMAGE_EXTENSIONS

TIMEOUT = 60


class Evil:
    """Unpickling this would create a file (the weights-only loader must refuse it)."""

    def __reduce__(self) -> tuple:
        return (Path.touch, (Path("/tmp/deepimage-corpus-pwned"),))


def build_corpus(root: Path) -> dict[str, Path]:
    """The bad inputs, by name: images, model files, annotations, a config, a gallery dump."""
    images = root / "images"
    images.mkdir(parents=True)
    good = images / "good.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)).save(good)
    jpeg = images / "photo.jpg"
    Image.open(good).save(jpeg, quality=90)
    write_bad_images(images, jpeg.read_bytes())
    (images / "[bold red]evil.png").write_bytes(good.read_bytes())
    (images / "name\x1b]0;title\x07.png").write_bytes(good.read_bytes())
    Image.fromarray(np.linspace(0, 0.98, 48 * 64, dtype=np.float32).reshape(48, 64)).save(
        images / "float.tif"
    )
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(images / "anim.gif")
    (images / "fake.jpg").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    models = root / "models"
    models.mkdir()
    (models / "junk.ckpt").write_bytes(b"junk\n")
    (models / "random.ckpt").write_bytes(np.random.default_rng(1).bytes(200_000))
    with (models / "evil.ckpt").open("wb") as handle:
        pickle.dump({"state_dict": Evil()}, handle)
    torch.save(
        {"hyper_parameters": {"model": "small-cnn", "img_size": 100000}}, models / "edited.ckpt"
    )
    coco = root / "coco"
    (coco / "annotations").mkdir(parents=True)
    (coco / "images").mkdir()
    nested = "[" * 100_000 + "]" * 100_000
    (coco / "annotations" / "instances_train.json").write_text(nested)
    coco_abs = root / "coco-abs"
    (coco_abs / "annotations").mkdir(parents=True)
    (coco_abs / "images").mkdir()
    doc = {
        "images": [{"id": 1, "file_name": str(good), "width": 64, "height": 48}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}],
        "categories": [{"id": 1, "name": "thing"}],
    }
    (coco_abs / "annotations" / "instances_train.json").write_text(json.dumps(doc))
    config = root / "hostile.yaml"
    config.write_text("!!python/object/apply:os.system ['touch /tmp/deepimage-corpus-pwned']\n")
    gallery_dump = root / "gallery.json"
    gallery_dump.write_text("[" * 100_000)
    return {"images": images, "models": models, "coco": coco, "coco_abs": coco_abs,
            "config": config, "gallery_dump": gallery_dump}  # fmt: skip


def commands(corpus: dict[str, Path], out: Path) -> list[list[str]]:
    images, models = str(corpus["images"]), corpus["models"]
    gallery = ["--gallery", str(out / "gallery.db")]
    model_files = sorted(str(p) for p in models.iterdir())
    runs = [
        ["process", "blur", "--sigma", "2", images, "-o", str(out / "blur"), "--skip-bad"],
        ["process", "blur", "--sigma", "2", images, "-o", str(out / "blur-strict")],
        ["process", "resize", "--width", "32", "--height", "32", images, "-o", str(out / "rs"),
         "--skip-bad", "--json"],
        ["process", "compress", "--format", "jpeg", images, "-o", str(out / "c"), "--skip-bad"],
        ["face", "detect", images, "--skip-bad", "--json"],
        ["face", "detect", images],
        ["face", "enroll", "--name", "x", images, *gallery, "--skip-bad"],
        ["face", "identify", images, *gallery, "--skip-bad", "--json"],
        ["face", "import", str(corpus["gallery_dump"]), *gallery],
        ["data", "inspect", images],
        ["data", "inspect", str(corpus["coco"])],
        ["data", "inspect", str(corpus["coco_abs"])],
        ["detect", "convert", str(corpus["coco"]), str(out / "conv1"), "--to", "voc"],
        ["detect", "convert", str(corpus["coco_abs"]), str(out / "conv2"), "--to", "voc"],
        ["augment", "preview", "--data", images, "-o", str(out / "preview.png"), "--skip-bad"],
        ["classify", "train", "--config", str(corpus["config"])],
        ["classify", "train", "--data", images, "--epochs", "1", "--runs", str(out / "runs")],
    ]  # fmt: skip
    for model in model_files:
        runs += [
            ["classify", "predict", images, "--model", model, "--skip-bad"],
            ["detect", "predict", images, "--model", model, "--skip-bad"],
            ["classify", "evaluate", "--model", model, "--data", "digits"],
            ["classify", "train", "--data", "digits", "--weights", model, "--runs", str(out)],
        ]
    return runs


def digest(folder: Path) -> dict[str, str]:
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_every_command_survives_the_bad_input_corpus(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    root = corpus["images"].parent
    before = digest(root)
    failures, codes = [], {}
    for command in commands(corpus, tmp_path):
        try:
            done = subprocess.run(
                [sys.executable, "-m", "deepimage", *command],
                capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT, cwd=tmp_path,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            failures.append((command, "hung past 60 s"))
            continue
        codes[" ".join(command[:2]) + (" --skip-bad" if "--skip-bad" in command else "")] = (
            done.returncode
        )
        if done.returncode not in (0, 2) or "Traceback" in done.stderr:
            failures.append((command, done.returncode, done.stderr[-600:]))
    assert not failures, "\n".join(map(str, failures))
    # the good images get through where bad ones may be skipped, and stop the run otherwise
    assert codes["process blur --skip-bad"] == 0 and codes["process blur"] == 2
    assert codes["face detect --skip-bad"] == 0 and codes["face detect"] == 2
    assert digest(root) == before, "an input changed"
    assert not Path("/tmp/deepimage-corpus-pwned").exists(), "a pickle or YAML tag ran code"
    written = [
        p for p in tmp_path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    assert len(written) >= 6, written  # blur, resize and compress of the readable images
    for path in written:
        read_image(path, mode="keep")  # raises on an output that does not decode

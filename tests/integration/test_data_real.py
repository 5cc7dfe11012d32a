"""Real data through the data layer: Fashion-MNIST IDX files, Yale GIFs, membrane PNGs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from deepimage.data import inspect_data, load_classification_data
from deepimage.data.classification import FASHION_MNIST_CLASSES
from deepimage.io import probe_image, read_image

pytestmark = pytest.mark.integration

RequireData = Callable[[str], Path]


def test_fashion_mnist_from_deepimage_data(
    require_data: RequireData, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = require_data("fashion-mnist")
    monkeypatch.setenv("DEEPIMAGE_DATA", str(folder.parent))
    data = load_classification_data("fashion-mnist")
    assert data.source == str(folder)
    assert data.classes == list(FASHION_MNIST_CLASSES)
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 54_000,
        "val": 6_000,
        "test": 10_000,
    }
    per_class = {name: np.bincount(split.labels).tolist() for name, split in data.splits.items()}
    assert per_class == {"train": [5400] * 10, "val": [600] * 10, "test": [1000] * 10}
    test_images = data.splits["test"].images
    assert test_images.shape == (10_000, 28, 28, 1) and test_images.dtype == np.uint8
    assert (data.channels, data.image_size) == (1, (28, 28))
    train_set = {image.tobytes() for image in data.splits["train"].images[:2000]}
    assert not any(image.tobytes() in train_set for image in data.splits["val"].images[:200])


def test_fashion_mnist_inspection(
    require_data: RequireData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPIMAGE_DATA", str(require_data("fashion-mnist").parent))
    report = inspect_data("fashion-mnist")
    assert report["skipped"] == [] and report["warnings"] == []  # skipped: was bad_files
    assert report["splits"]["test"]["per_class"]["Ankle boot"] == 1000


def test_yale_faces_gif_without_extension(require_data: RequireData) -> None:
    files = sorted((require_data("faces-ids") / "yalefaces").glob("subject*"))
    assert len(files) == 164
    for path in files:
        image = read_image(path, "gray")
        assert image.shape == (243, 320) and image.dtype == np.uint8
    info = probe_image(files[0])
    assert (info.format, info.width, info.height, info.channels) == ("GIF", 320, 243, 1)
    assert read_image(files[0]).shape == (243, 320, 3)


def test_membrane_pngs(require_data: RequireData) -> None:
    root = require_data("membrane")
    images = sorted((root / "train" / "image").glob("*.png")) + sorted(
        (root / "test").glob("*.png")
    )
    labels = sorted((root / "train" / "label").glob("*.png"))
    assert len(images) == 60 and len(labels) == 30
    for path in images:
        assert read_image(path, "keep").shape == (512, 512)
    for path in labels:
        assert set(np.unique(read_image(path, "gray")).tolist()) == {0, 255}
    assert read_image(images[0]).shape == (512, 512, 3)

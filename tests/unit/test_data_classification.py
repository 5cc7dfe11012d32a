"""deepimage.data.classification and deepimage.data.inspect on small synthetic data sets."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepimage.data import (
    ClassificationData,
    inspect_data,
    load_classification_data,
    stratified_split,
    write_idx,
)
from deepimage.data import classification as classification_module
from deepimage.data import names as names_module
from deepimage.data.classification import FASHION_MNIST_CLASSES, IDX_FILES
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError


def make_image(path: Path, size: tuple[int, int] = (6, 4), value: int = 0, mode: str = "L") -> Path:
    """Write a small image (``size`` is width, height); ``value`` makes its bytes unique."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 0)).save(path)
    return path


def make_class_folder(root: Path, counts: dict[str, int], start: int = 0) -> list[Path]:
    return [
        make_image(root / cls / f"{i:02d}.png", value=start + 10 * c + i)
        for c, (cls, count) in enumerate(counts.items())
        for i in range(count)
    ]


def split_sizes(data: ClassificationData) -> dict[str, int]:
    return {name: len(split) for name, split in data.splits.items()}


# --- stratified_split -------------------------------------------------------------------


def test_stratified_split_is_per_class_disjoint_and_seeded() -> None:
    labels = np.repeat([0, 1, 2], [20, 10, 1])
    rest, val, test = stratified_split(labels, (0.1, 0.2), seed=3)
    assert np.bincount(labels[val], minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(labels[test], minlength=3).tolist() == [4, 2, 0]
    assert sorted(np.concatenate([rest, val, test]).tolist()) == list(range(len(labels)))
    assert all((np.diff(part) > 0).all() for part in (rest, val, test))
    again = stratified_split(labels, (0.1, 0.2), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((rest, val, test), again, strict=True))
    other = stratified_split(labels, (0.1, 0.2), seed=4)
    assert not np.array_equal(val, other[1])


def test_stratified_split_keeps_a_sample_of_small_classes() -> None:
    rest, val, test = stratified_split(np.array([0, 0, 1]), (0.45, 0.45), seed=0)
    assert len(rest) == 2 and len(val) == 1 and len(test) == 0


# --- image folders ----------------------------------------------------------------------


def test_class_folder_gets_seeded_stratified_split(tmp_path: Path) -> None:
    make_class_folder(tmp_path / "pets", {"dog": 10, "cat": 20})
    data = load_classification_data(tmp_path / "pets", seed=1)
    assert data.name == "pets" and data.classes == ["cat", "dog"]
    assert split_sizes(data) == {"train": 24, "val": 3, "test": 3}
    assert np.bincount(data.splits["val"].labels).tolist() == [2, 1]
    assert (data.channels, data.image_size, data.skipped) == (1, (4, 6), [])
    train = data.splits["train"]
    assert train.labels.dtype == np.int64 and train.images is None
    assert all(
        path.parent.name == data.classes[label]
        for path, label in zip(train.paths, train.labels, strict=True)
    )
    assert [info.path for info in train.infos] == train.paths
    same = load_classification_data(tmp_path / "pets", seed=1)
    assert same.splits["val"].paths == data.splits["val"].paths
    other = load_classification_data(tmp_path / "pets", seed=2)
    assert other.splits["val"].paths != data.splits["val"].paths


def test_split_folders_are_used_as_given(tmp_path: Path) -> None:
    make_class_folder(tmp_path / "train", {"a": 3, "b": 2, "only_train": 1})
    make_class_folder(tmp_path / "val", {"a": 1, "b": 1}, start=100)
    make_image(tmp_path / "train" / "a" / "nested" / "deep.jpg", value=200)
    data = load_classification_data(tmp_path)
    assert data.classes == ["a", "b", "only_train"]
    assert split_sizes(data) == {"train": 7, "val": 2}
    make_class_folder(tmp_path / "test", {"b": 2}, start=150)
    assert split_sizes(load_classification_data(tmp_path)) == {"train": 7, "val": 2, "test": 2}


def test_val_is_held_out_of_train_when_missing(tmp_path: Path) -> None:
    make_class_folder(tmp_path / "train", {"a": 10, "b": 10})
    make_class_folder(tmp_path / "test", {"a": 2, "b": 2}, start=100)
    data = load_classification_data(tmp_path, val_fraction=0.2)
    assert split_sizes(data) == {"train": 16, "val": 4, "test": 4}


def test_sizes_channels_and_ignored_files(tmp_path: Path) -> None:
    make_image(tmp_path / "x" / "small.png", size=(4, 4))
    make_image(tmp_path / "x" / "big.PNG", size=(8, 5))
    make_image(tmp_path / "y" / "color.jpg", mode="RGB")
    (tmp_path / "y" / "notes.txt").write_text("not an image")
    make_image(tmp_path / "y" / "subject01.png", value=9).rename(tmp_path / "y" / "subject01")
    make_image(tmp_path / "y" / ".hidden.png")
    make_image(tmp_path / ".cache" / "a.png")
    data = load_classification_data(tmp_path, val_fraction=0)
    assert data.classes == ["x", "y"]
    assert split_sizes(data) == {"train": 4}  # subject01 is read by its content
    assert (data.channels, data.image_size) == (3, None)


@pytest.mark.parametrize("workers", [1, 4])
def test_bad_files_raise_the_first_or_are_skipped(tmp_path: Path, workers: int) -> None:
    make_class_folder(tmp_path, {"a": 4, "b": 4})
    (tmp_path / "a" / "zz_empty.png").touch()
    (tmp_path / "b" / "00_text.jpg").write_text("hello")
    with pytest.raises(BadImageError) as caught:
        load_classification_data(tmp_path, workers=workers)
    assert caught.value.path == str(tmp_path / "a" / "zz_empty.png")
    data = load_classification_data(tmp_path, skip_bad=True, workers=workers)
    assert sum(split_sizes(data).values()) == 8
    assert [bad["path"] for bad in data.skipped] == [
        str(tmp_path / "a" / "zz_empty.png"),
        str(tmp_path / "b" / "00_text.jpg"),
    ]
    assert "zero-byte" in data.skipped[0]["reason"]


def test_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no readable images"):
        load_classification_data(tmp_path)
    make_class_folder(tmp_path / "val", {"a": 2})
    with pytest.raises(DataNotFoundError, match="no train/"):
        load_classification_data(tmp_path)
    with pytest.raises(DeepImageError, match="val_fraction"):
        load_classification_data(tmp_path, val_fraction=0.5)


def test_unknown_spec_lists_what_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("a.png,cat\n")
    for spec in ("no-such-data", tmp_path / "list.txt"):
        with pytest.raises(DataNotFoundError, match="fashion-mnist") as caught:
            load_classification_data(spec)
        assert "folder" in str(caught.value) and "CSV" in str(caught.value)


# --- CSV files --------------------------------------------------------------------------


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("header", ["", "path,label\n"])
def test_csv_rows_relative_to_the_csv(tmp_path: Path, header: str) -> None:
    rows = []
    for i in range(10):
        make_image(tmp_path / "img" / f"{i}.png", value=i)
        rows.append(f"img/{i}.png,{'zebra' if i % 2 else 'ant'}")
    csv_path = _write_csv(tmp_path / "labels.csv", header + "\n".join(rows) + "\n\n")
    data = load_classification_data(csv_path, val_fraction=0.2)
    assert data.name == "labels" and data.classes == ["ant", "zebra"]
    assert split_sizes(data) == {"train": 6, "val": 2, "test": 2}
    assert data.source == str(csv_path)


def test_csv_errors_name_the_file_and_line(tmp_path: Path) -> None:
    make_image(tmp_path / "a.png")
    missing = _write_csv(tmp_path / "missing.csv", "path,label\na.png,x\nb.png,y\n")
    with pytest.raises(DeepImageError, match=r"missing\.csv, line 3: image file .*b\.png"):
        load_classification_data(missing)
    bad_row = _write_csv(tmp_path / "bad.csv", "a.png,x\na.png,x,extra\n")
    with pytest.raises(DeepImageError, match=r"bad\.csv, line 2: expected 'path,label'"):
        load_classification_data(bad_row)
    empty_label = _write_csv(tmp_path / "empty.csv", "a.png,\n")
    with pytest.raises(DeepImageError, match=r"empty\.csv, line 1"):
        load_classification_data(empty_label)
    with pytest.raises(DataNotFoundError, match="no 'path,label' rows"):
        load_classification_data(_write_csv(tmp_path / "header.csv", "path,label\n"))


def test_csv_bad_images_follow_skip_bad(tmp_path: Path) -> None:
    make_image(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    csv_path = _write_csv(tmp_path / "d.csv", "a.png,x\nb.png,y\n")
    with pytest.raises(BadImageError, match=r"b\.png"):
        load_classification_data(csv_path)
    data = load_classification_data(csv_path, skip_bad=True, val_fraction=0)
    assert split_sizes(data) == {"train": 1} and len(data.skipped) == 1


# --- built-in data sets -----------------------------------------------------------------


def test_digits() -> None:
    data = load_classification_data("digits", seed=5)
    assert data.classes == [str(d) for d in range(10)]
    assert split_sizes(data) == {"train": 1259, "val": 269, "test": 269}
    images = data.splits["train"].images
    assert images.dtype == np.uint8 and images.shape[1:] == (8, 8, 1) and images.max() == 255
    assert (data.channels, data.image_size) == (1, (8, 8))
    again = load_classification_data("digits", seed=5)
    np.testing.assert_array_equal(again.splits["test"].images, data.splits["test"].images)


def test_digits_honours_an_explicit_val_fraction() -> None:
    data = load_classification_data("digits", val_fraction=0.1)
    assert split_sizes(data) == {"train": 1439, "val": 179, "test": 179}  # per-class rounding


def write_fake_idx(folder: Path, gz: bool = True, train_per_class: int = 10) -> list[bytes]:
    """Four small IDX files (4x4 images, 10 classes); returns their contents."""
    train_labels = np.repeat(np.arange(10, dtype=np.uint8), train_per_class)
    test_labels = np.repeat(np.arange(10, dtype=np.uint8), 2)
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, (len(train_labels), 4, 4), dtype=np.uint8),
        train_labels,
        rng.integers(0, 256, (len(test_labels), 4, 4), dtype=np.uint8),
        test_labels,
    ]
    paths = [folder / (f"{stem}.gz" if gz else stem) for stem in IDX_FILES]
    for path, array in zip(paths, arrays, strict=True):
        write_idx(path, array)
    return [path.read_bytes() for path in paths]


@pytest.fixture
def no_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point DEEPIMAGE_DATA, the cache (HOME) and the system folder into empty tmp folders."""
    monkeypatch.setenv("DEEPIMAGE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(names_module, "SYSTEM_DATA_DIR", tmp_path / "system")
    return tmp_path


def test_idx_dataset_from_deepimage_data(no_data_dirs: Path) -> None:
    write_fake_idx(no_data_dirs / "data" / "fashion-mnist")
    data = load_classification_data("fashion-mnist", val_fraction=0.2)
    assert data.classes == list(FASHION_MNIST_CLASSES)
    assert split_sizes(data) == {"train": 80, "val": 20, "test": 20}
    assert np.bincount(data.splits["val"].labels).tolist() == [2] * 10
    assert data.splits["test"].images.shape == (20, 4, 4, 1)
    assert data.splits["train"].labels.dtype == np.int64
    assert data.source == str(no_data_dirs / "data" / "fashion-mnist")


def test_idx_labels_must_match_images(no_data_dirs: Path) -> None:
    folder = no_data_dirs / "data" / "mnist"
    write_fake_idx(folder)
    write_idx(folder / f"{IDX_FILES[3]}.gz", np.arange(20, dtype=np.uint8))
    with pytest.raises(DeepImageError, match=r"t10k-labels.*labels must lie in 0\.\.9"):
        load_classification_data("mnist")
    write_idx(folder / f"{IDX_FILES[1]}.gz", np.zeros(3, np.uint8))
    with pytest.raises(DeepImageError, match="expected 100 labels"):
        load_classification_data("mnist")


def test_idx_resolution_order(no_data_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_fake_idx(no_data_dirs / "system" / "mnist", gz=False)
    assert load_classification_data("mnist").source == str(no_data_dirs / "system" / "mnist")
    write_fake_idx(no_data_dirs / "home" / ".cache" / "deepimage" / "mnist")
    cache = load_classification_data("mnist")
    assert cache.source == str(no_data_dirs / "home" / ".cache" / "deepimage" / "mnist")
    assert cache.classes == [str(d) for d in range(10)]
    write_fake_idx(no_data_dirs / "data" / "mnist")
    assert load_classification_data("mnist").source == str(no_data_dirs / "data" / "mnist")
    monkeypatch.delenv("DEEPIMAGE_DATA")
    assert load_classification_data("mnist").source == cache.source


def test_missing_builtin_explains_how_to_get_it(
    no_data_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("must not download unless asked")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    (no_data_dirs / "data" / "fashion-mnist").mkdir(parents=True)
    (no_data_dirs / "data" / "fashion-mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    with pytest.raises(DataNotFoundError) as caught:
        load_classification_data("fashion-mnist")
    message = str(caught.value)
    for expected in (
        *(f"{stem}[.gz]" for stem in IDX_FILES),
        str(no_data_dirs / "data" / "fashion-mnist"),
        str(no_data_dirs / "home" / ".cache" / "deepimage" / "fashion-mnist"),
        str(no_data_dirs / "system" / "fashion-mnist"),
        "DEEPIMAGE_DATA",
        "apt-get install dataset-fashion-mnist",
        "--download",
    ):
        assert expected in message
    with pytest.raises(DataNotFoundError) as caught:
        load_classification_data("mnist")
    assert "apt-get" not in str(caught.value) and "--download" in str(caught.value)


class _FakeResponse(io.BytesIO):
    pass


def _serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> list[str]:
    requested: list[str] = []

    def urlopen(url: str, timeout: float) -> _FakeResponse:
        requested.append(url)
        name = url.rsplit("/", 1)[-1]
        if name not in files:
            raise urllib.error.URLError("offline")
        return _FakeResponse(files[name])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


def test_download_checks_md5_and_writes_atomically(
    no_data_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_fake_idx(no_data_dirs / "served")
    files = {f"{stem}.gz": content for stem, content in zip(IDX_FILES, written, strict=True)}
    requested = _serve(monkeypatch, files)
    cache = no_data_dirs / "home" / ".cache" / "deepimage" / "mnist"
    with pytest.raises(DataNotFoundError, match="MD5"):  # the real MD5s do not match fakes
        load_classification_data("mnist", download=True)
    assert requested == ["https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"]
    assert list(cache.iterdir()) == []
    source = classification_module._IDX_SOURCES["mnist"]
    md5s = tuple(hashlib.md5(content).hexdigest() for content in written)
    monkeypatch.setitem(classification_module._IDX_SOURCES, "mnist", source._replace(md5s=md5s))
    data = load_classification_data("mnist", download=True)
    assert data.source == str(cache) and split_sizes(data)["test"] == 20
    assert sorted(path.name for path in cache.iterdir()) == sorted(files)


def test_download_failure_is_data_not_found(
    no_data_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, {})
    with pytest.raises(DataNotFoundError, match=r"cannot download .*offline"):
        load_classification_data("fashion-mnist", download=True)


# --- inspect_data -----------------------------------------------------------------------


def test_inspect_folder_report(tmp_path: Path) -> None:
    make_class_folder(tmp_path / "train", {"a": 6, "b": 3})
    make_class_folder(tmp_path / "val", {"a": 2, "b": 1}, start=100)
    shutil.copy(tmp_path / "train" / "a" / "00.png", tmp_path / "val" / "b" / "copy.png")
    make_image(tmp_path / "train" / "a" / "wide.png", size=(10, 4), value=77)
    (tmp_path / "train" / "b" / "broken.png").write_text("no")
    report = inspect_data(tmp_path)
    assert json.loads(json.dumps(report)) == report
    train = report["splits"]["train"]
    assert train["count"] == 10 and train["per_class"] == {"a": 7, "b": 3}
    assert train["width"] == {"min": 6, "max": 10, "mean": 6.4}
    assert train["height"] == {"min": 4, "max": 4, "mean": 4.0}
    assert train["modes"] == {"L": 10} and train["channels"] == {"1": 10}
    assert report["skipped"][0]["path"].endswith("broken.png")  # skipped: was bad_files
    assert report["duplicates"] == [
        [str(tmp_path / "train" / "a" / "00.png"), str(tmp_path / "val" / "b" / "copy.png")]
    ]
    warnings = " | ".join(report["warnings"])
    assert "train: class imbalance: a has 7 images, b 3" in warnings
    assert "val:" not in warnings
    assert "span more than one split" in warnings and "1 bad file" in warnings


def test_inspect_builtin_reports_in_memory_duplicates(no_data_dirs: Path) -> None:
    folder = no_data_dirs / "data" / "mnist"
    write_fake_idx(folder, gz=False, train_per_class=1)
    images = np.zeros((10, 4, 4), np.uint8)  # ten identical training images
    write_idx(folder / IDX_FILES[0], images)
    report = inspect_data("mnist")
    assert report["splits"]["train"]["modes"] == {"L": 10}
    assert report["duplicates"] == [[f"train:{i}" for i in range(10)]]
    assert report["warnings"] == []

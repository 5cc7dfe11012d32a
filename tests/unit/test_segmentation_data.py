"""deepimage.data.segmentation: every layout read into class masks, the encodings, the
checks of each bad mask, inspect and ``deepimage data inspect --task segment``."""

from __future__ import annotations

import json
import pickle
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.segmentation_data import COLOURS, draw_shapes, write_shapes

from deepimage.cli.main import main
from deepimage.data.inspect import data_task
from deepimage.data.segmentation import (
    VOC_CLASSES,
    MaskEncoding,
    SegmentationData,
    inspect_segmentation,
    load_segmentation_data,
    segmentation_format,
)
from deepimage.errors import DataNotFoundError, DeepImageError
from deepimage.io import write_image
from deepimage.io.paths import shown_path

RequireData = Callable[[str], Path]
SKIP_HINT = "(or pass --skip-bad to leave it out)"


def truth(layout: str, **drawing: Any) -> dict[str, np.ndarray]:
    """The decoded mask the writer drew for each image stem."""
    return {d.stem: d.mask for d in draw_shapes(layout, **drawing)}


def assert_masks_are(data: SegmentationData, expected: dict[str, np.ndarray]) -> int:
    """Every item's decoded mask is the drawn one; the number of items."""
    items = [item for items in data.splits.values() for item in items]
    for item in items:
        mask = data.read_mask(item)
        assert mask.dtype == np.uint8 and mask.shape == (item.height, item.width)
        np.testing.assert_array_equal(mask, expected[item.image.stem], err_msg=str(item.image))
    return len(items)


def counts(data: SegmentationData) -> dict[str, int]:
    return {split: len(items) for split, items in data.splits.items()}


# --- every layout -------------------------------------------------------------------------


def test_image_and_mask_folders(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=12, classes=4)
    data = load_segmentation_data(root)
    assert (data.format, data.classes, data.colours) == ("folders", ["0", "1", "2", "3"], None)
    assert data.encoding == MaskEncoding("index", 4, (255,))
    assert counts(data) == {"train": 10, "val": 2}  # seeded: 12 x 0.2, rounded
    assert assert_masks_are(data, truth("folders", count=12, classes=4)) == 12
    item = data.splits["train"][0]
    assert item.image.suffix == ".jpg" and item.mask.name == f"{item.image.stem}_mask.png"
    assert (item.width, item.height) == (64, 48) and data.issues == data.skipped == []
    assert segmentation_format(root) == "folders" and data_task(root) == "segment"


def test_membrane_layout_is_binary_and_its_test_folder_is_no_split(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "membrane", "membrane", count=12)
    data = load_segmentation_data(root)
    assert data.classes == ["background", "foreground"]
    assert data.encoding == MaskEncoding("binary", 2, ())
    assert counts(data) == {"train": 8, "val": 2}  # 10 masked images; test/ has no masks
    assert assert_masks_are(data, truth("membrane", count=12)) == 10
    assert [(Path(i["path"]).name, i["kind"]) for i in data.issues] == [("test", "no_masks")]


def test_segnet_layout_with_a_void_value(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "camvid", "segnet", count=12, void=11)
    data = load_segmentation_data(root, ignore_index=11)
    assert (data.format, data.classes) == ("segnet", ["0", "1", "2"])
    assert data.encoding == MaskEncoding("index", 3, (11, 255))
    assert counts(data) == {"train": 8, "val": 2, "test": 2}
    assert assert_masks_are(data, truth("segnet", count=12, void=11)) == 12
    assert (data.read_mask(data.splits["test"][0])[-2:] == 255).all()
    unignored = load_segmentation_data(root)  # 11 is then a class of its own
    assert unignored.classes == [str(i) for i in range(12)]
    assert (unignored.read_mask(unignored.splits["test"][0])[-2:] == 11).all()


def test_voc_layout_reads_palette_indices_with_255_borders(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "VOC2012", "voc", count=12)
    data = load_segmentation_data(root)
    assert (data.format, data.classes) == ("voc", list(VOC_CLASSES))
    assert data.encoding == MaskEncoding("palette", 21, (255,))
    assert counts(data) == {"train": 10, "val": 2}  # from ImageSets/Segmentation
    assert assert_masks_are(data, truth("voc", count=12)) == 12
    assert data.colours is not None and data.colours[:2] == [(0, 0, 0), (128, 0, 0)]
    assert any((data.read_mask(item) == 255).any() for item in data.splits["train"])
    devkit = tmp_path / "VOCdevkit"
    devkit.mkdir()
    shutil.move(root, devkit / "VOC2012")
    assert counts(load_segmentation_data(devkit)) == {"train": 10, "val": 2}
    shutil.rmtree(devkit / "VOC2012" / "ImageSets")
    (devkit / "VOC2012" / "classes.txt").write_text("background\nred\ngreen\n")
    unlisted = load_segmentation_data(devkit, seed=3)
    assert counts(unlisted) == {"train": 10, "val": 2}  # every masked image, seeded
    assert unlisted.classes == ["background", "red", "green"]


def test_voc_with_boxes_too_is_detection_data_unless_asked(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "voc", "voc", count=4)
    (root / "Annotations").mkdir()
    (root / "Annotations" / "000.xml").write_text("<annotation/>")
    assert segmentation_format(root) == "voc" and data_task(root) == "detect"


def test_coco_polygons_rles_and_crowds(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "coco", "coco", count=12, classes=4, void=1)
    data = load_segmentation_data(root)
    assert (data.format, data.classes) == ("coco", ["background", "red", "green", "blue"])
    assert data.encoding.kind == "coco" and data.encoding.classes == 4
    assert counts(data) == {"train": 10, "val": 2}  # instances_train.json, instances_val.json
    assert assert_masks_are(data, truth("coco", count=12, classes=4, void=1)) == 12
    item = data.splits["val"][0]
    assert item.mask is None and len(item.coco) == 4  # three objects and a crowd
    assert (data.read_mask(item) == 255).any()  # the crowd is ignored
    assert pickle.loads(pickle.dumps(item)) == item
    assert segmentation_format(root) == "coco" and data_task(root) == "detect"
    lone = load_segmentation_data(root / "annotations" / "instances_val.json")
    assert counts(lone) == {"val": 2} and lone.name == "instances_val"


def test_coco_paints_large_objects_first_and_crowds_only_where_no_object_lies(
    tmp_path: Path,
) -> None:
    write_image(tmp_path / "images" / "a.png", np.zeros((10, 12, 3), np.uint8))
    small = [[4, 4, 6, 4, 6, 6, 4, 6]]  # listed first, painted last: it stays on top
    large = [[1, 1, 11, 1, 11, 9, 1, 9]]
    crowd = np.zeros((10, 12), np.uint8)
    crowd[:, 8:] = 1  # the right third, over the large object
    document = {
        "images": [{"id": 1, "file_name": "a.png", "width": 12, "height": 10}],
        "categories": [{"id": 3, "name": "small"}, {"id": 1, "name": "large"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "segmentation": small, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": large, "iscrowd": 0},
            {
                "id": 3,
                "image_id": 1,
                "category_id": 1,
                "segmentation": {"size": [10, 12], "counts": _runs(crowd)},
                "iscrowd": 1,
            },
        ],
    }
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_train.json").write_text(json.dumps(document))
    data = load_segmentation_data(tmp_path, val_fraction=0)
    assert data.classes == ["background", "large", "small"]  # category ids in order
    expected = np.zeros((10, 12), np.uint8)
    expected[crowd == 1] = 255
    expected[1:9, 1:11] = 1
    expected[4:6, 4:6] = 2
    np.testing.assert_array_equal(data.read_mask(data.splits["train"][0]), expected)
    ignored = load_segmentation_data(tmp_path, val_fraction=0, ignore_index=2)
    assert (ignored.read_mask(ignored.splits["train"][0])[4:6, 4:6] == 255).all()


def _runs(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts: run lengths column by column, starting with 0s."""
    flat = mask.T.ravel()
    edges = [0, *(np.flatnonzero(np.diff(flat)) + 1).tolist(), len(flat)]
    runs = np.diff(edges).tolist()
    return [0, *runs] if flat[0] else runs


def test_coco_file_names_outside_the_data_and_bad_shapes_are_refused(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "coco", "coco", count=6)
    file = root / "annotations" / "instances_train.json"
    document = json.loads(file.read_text())
    document["images"][0]["file_name"] = "../../secret.jpg"
    document["annotations"][-1]["segmentation"] = {"size": [48, 64], "counts": "!!"}
    file.write_text(json.dumps(document))
    with pytest.raises(DeepImageError, match="outside the data set folder") as caught:
        load_segmentation_data(root)
    assert str(caught.value).startswith(f"{file}: ")
    data = load_segmentation_data(root, skip_bad=True)
    kinds = {issue["kind"] for issue in data.issues}
    assert kinds == {"outside_data", "malformed_annotation"}
    assert counts(data) == {"train": 3, "val": 1}  # 5 train images, 2 left out
    assert all(row["path"] == shown_path(file) for row in data.skipped)


def test_the_seeded_split_is_reproducible(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=20)

    def val(seed: int) -> list[str]:
        data = load_segmentation_data(root, seed=seed, val_fraction=0.25)
        return [item.image.stem for item in data.splits["val"]]

    assert val(0) == val(0) and len(val(0)) == 5
    assert val(0) != val(1)
    everything = load_segmentation_data(root, val_fraction=0)
    assert counts(everything) == {"train": 20}


def test_the_shared_membrane_set(require_data: RequireData) -> None:
    require_data("membrane")
    data = load_segmentation_data("membrane")
    again = load_segmentation_data("membrane")
    assert data.classes == ["background", "foreground"] and data.encoding.kind == "binary"
    assert counts(data) == {"train": 24, "val": 6}
    assert [i.image for i in data.splits["val"]] == [i.image for i in again.splits["val"]]
    mask = data.read_mask(data.splits["val"][0])
    assert mask.shape == (512, 512) and set(np.unique(mask).tolist()) == {0, 1}
    share = data.pixels["train"][:, 1].sum() / data.pixels["train"].sum()
    assert 0.73 < share < 0.83  # the README's white fraction


# --- classes and encodings ------------------------------------------------------------------


def test_classes_txt_names_the_classes_and_the_argument_overrides_it(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=6)
    (root / "classes.txt").write_text("# the shapes\nbackground\n\nred\ngreen\nblue\n")
    data = load_segmentation_data(root)
    assert data.classes == ["background", "red", "green", "blue"] and data.colours is None
    assert data.encoding == MaskEncoding("index", 4, (255,))
    assert load_segmentation_data(root, classes=["a", "b", "c"]).classes == ["a", "b", "c"]
    (root / "classes.txt").write_text("background\nred\nred\n")
    with pytest.raises(DeepImageError, match="names red more than once"):
        load_segmentation_data(root)
    with pytest.raises(DeepImageError, match="at most 255"):
        load_segmentation_data(root, classes=[f"c{i}" for i in range(256)])


def test_rgb_masks_map_through_the_colours_of_classes_txt(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=6)
    colours = np.array(COLOURS[:3], np.uint8)
    for d in draw_shapes("folders", count=6):
        write_image(root / "masks" / f"{d.stem}_mask.png", colours[d.mask])
    with pytest.raises(DeepImageError, match="RGB mask where class indices are expected"):
        load_segmentation_data(root)
    (root / "masks" / "classes.txt").write_text(  # beside the mask folder, three spellings
        "background 40 40 40\nred #dc1e1e\ngreen 30,200,40\n"
    )
    data = load_segmentation_data(root)
    assert data.encoding.kind == "colour" and data.classes == ["background", "red", "green"]
    assert data.colours == [(40, 40, 40), (220, 30, 30), (30, 200, 40)]
    assert assert_masks_are(data, truth("folders", count=6)) == 6
    (root / "masks" / "classes.txt").write_text("background 40 40 40\nred #dc1e1e\n")
    with pytest.raises(DeepImageError, match=r"mask colours \(30, 200, 40\) are not among"):
        load_segmentation_data(root)


def test_binary_masks_png_and_nearly_binary_jpeg(tmp_path: Path) -> None:
    root = tmp_path / "jpeg"
    rng = np.random.default_rng(0)
    expected = {}
    for i in range(5):
        mask = np.zeros((32, 40), np.uint8)
        mask[4 : 10 + 3 * i, 6:30] = 255
        write_image(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 40, 3), np.uint8))
        write_image(root / "masks" / f"{i}.jpg", mask, quality=90)
        expected[str(i)] = (mask > 0).astype(np.uint8)
    data = load_segmentation_data(root)
    assert data.encoding == MaskEncoding("binary", 2, ())
    assert data.classes == ["background", "foreground"]
    assert assert_masks_are(data, expected) == 5  # thresholded at 128
    membrane = write_shapes(tmp_path / "membrane", "membrane", count=6)
    three = load_segmentation_data(membrane, classes=["membrane", "cell", "other"])
    assert three.encoding == MaskEncoding("index", 3, (255,))  # 255 is then ignored
    item = three.splits["train"][0]
    assert set(np.unique(three.read_mask(item)).tolist()) <= {0, 255}


def test_mask_encodings_decode_and_refuse() -> None:
    index = MaskEncoding("index", 3, (7, 255))
    assert index.decode(np.array([[0, 2, 7, 255]], np.uint16), "m.png").tolist() == [
        [0, 2, 255, 255]
    ]
    grey_as_rgb = np.repeat(np.array([[0, 1, 2]], np.uint8)[..., None], 3, axis=2)
    assert index.decode(grey_as_rgb, "m.png").tolist() == [[0, 1, 2]]
    with pytest.raises(DeepImageError, match=r"m\.png: RGB mask where class indices"):
        index.decode(np.array([[[0, 1, 2]]], np.uint8), "m.png")
    with pytest.raises(DeepImageError, match=r"m\.png: mask values 3, 300 are outside the 3"):
        index.decode(np.array([[0, 3, 300]], np.int32), "m.png")
    palette = np.array([[0, 0, 0], [9, 8, 7]], np.uint8)
    colour = MaskEncoding("colour", 2, (), ((0, 0, 0), (9, 8, 7)))
    assert colour.decode(np.array([[1, 0]], np.uint8), "m.png", palette).tolist() == [[1, 0]]
    with pytest.raises(DeepImageError, match="a mask holds 1 to 255 classes"):
        MaskEncoding("index", 256)
    with pytest.raises(DeepImageError, match="must be one of"):
        MaskEncoding("rgb", 2)


# --- bad inputs -----------------------------------------------------------------------------


def break_item(root: Path, kind: str, stem: str = "003") -> Path:
    """Make the item ``stem`` of a folders data set bad in the way ``kind`` says; the file
    its error names."""
    mask = root / "masks" / f"{stem}_mask.png"
    if kind == "size_mismatch":
        write_image(mask, np.zeros((10, 10), np.uint8))
    elif kind == "values_outside_classes":
        write_image(mask, np.full((48, 64), 7, np.uint8))
    elif kind == "missing_mask":
        mask.unlink()
        return root / "masks" / f"{stem}.png"
    elif kind == "bad_mask":
        mask.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif kind == "colour_mask":
        write_image(mask, np.full((48, 64, 3), (10, 20, 30), np.uint8))
    elif kind == "bad_image":
        image = root / "images" / f"{stem}.jpg"
        image.write_bytes(image.read_bytes()[:100])
        return image
    return mask


BAD_KINDS = [
    "size_mismatch",
    "values_outside_classes",
    "missing_mask",
    "bad_mask",
    "colour_mask",
    "bad_image",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_a_bad_item_is_one_clear_error_or_skipped(tmp_path: Path, kind: str) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=8)
    (root / "classes.txt").write_text("background\nred\ngreen\n")
    bad = break_item(root, kind)
    with pytest.raises(DeepImageError) as caught:
        load_segmentation_data(root)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{bad}: ")
    assert message.endswith(SKIP_HINT)
    data = load_segmentation_data(root, skip_bad=True)
    assert sum(counts(data).values()) == 7
    assert [row["path"] for row in data.skipped] == [shown_path(bad)]
    assert [issue["kind"] for issue in data.issues] == [kind]
    assert all(item.image.stem != "003" for items in data.splits.values() for item in items)
    assert assert_masks_are(data, truth("folders", count=8)) == 7


def test_the_first_bad_messages_say_what_to_do(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=4)
    (root / "classes.txt").write_text("background\nred\ngreen\n")
    expected = {
        "size_mismatch": "mask is 10x10 but its image 003.jpg is 64x48",
        "missing_mask": "missing mask for image",
        "values_outside_classes": "mask values 7 are outside the 3 classes",
        "colour_mask": "save it as a grey or palette PNG of class indices",
    }
    for kind, text in expected.items():
        fresh = write_shapes(tmp_path / kind, "folders", count=4)
        shutil.copy(root / "classes.txt", fresh / "classes.txt")
        break_item(fresh, kind)
        with pytest.raises(DeepImageError, match=text):
            load_segmentation_data(fresh)


def test_no_data_and_no_usable_item_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="SegNet train/ \\+ trainannot/") as caught:
        load_segmentation_data(tmp_path / "nothing")
    assert "\n" not in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no segmentation data found"):
        load_segmentation_data(tmp_path / "empty")
    root = write_shapes(tmp_path / "shapes", "folders", count=2)
    for mask in (root / "masks").iterdir():
        mask.write_text("broken")
    with pytest.raises(DataNotFoundError, match="no usable image with a mask"):
        load_segmentation_data(root, skip_bad=True)
    with pytest.raises(DeepImageError, match="val_fraction"):
        load_segmentation_data(root, val_fraction=1.0)


# --- inspect --------------------------------------------------------------------------------


def test_inspect_reports_every_bad_file_and_the_pixel_shares(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes", "folders", count=12)
    (root / "classes.txt").write_text("background\nred\ngreen\n")
    for stem, kind in zip(["001", "003", "005", "007", "009", "011"], BAD_KINDS, strict=True):
        break_item(root, kind, stem)
    write_image(root / "masks" / "stray.png", np.zeros((48, 64), np.uint8))
    report = inspect_segmentation(root)
    assert json.loads(json.dumps(report)) == report
    assert report["task"] == "segmentation" and report["format"] == "folders"
    assert report["issue_counts"] == {**dict.fromkeys(BAD_KINDS, 1), "orphan_mask": 1}
    assert len(report["skipped"]) == 6 and all(
        Path(r["path"]).is_absolute() for r in report["skipped"]
    )
    assert sum(s["images"] for s in report["splits"].values()) == 6
    kept = [d.mask for d in draw_shapes("folders", count=12) if int(d.stem) % 2 == 0]
    pixels = np.bincount(np.concatenate([m.ravel() for m in kept]), minlength=3)[:3]
    names = ["background", "red", "green"]
    expected = {name: round(n / pixels.sum(), 6) for name, n in zip(names, pixels, strict=True)}
    assert report["pixel_frequency"] == expected
    assert report["ignored_fraction"] == 0.0
    for split in report["splits"].values():
        assert abs(sum(split["pixels"].values()) - 1) < 1e-5
        assert split["width"] == {"min": 64, "max": 64, "mean": 64.0}
    assert "6 bad file(s) skipped (see skipped)" in report["warnings"]


def test_inspect_warns_about_rare_and_missing_classes(tmp_path: Path) -> None:
    root = tmp_path / "rare"
    for i in range(5):
        mask = np.zeros((40, 40), np.uint8)
        if i == 0:
            mask[0, :4] = 2  # 4 of 8000 pixels: rare, and only in one split
        mask[10:30, 10:30] = 1
        write_image(root / "images" / f"{i}.png", np.zeros((40, 40, 3), np.uint8))
        write_image(root / "masks" / f"{i}.png", mask)
    report = inspect_segmentation(root, ignore_index=None)
    assert report["classes"] == ["0", "1", "2"]
    warnings = " | ".join(report["warnings"])
    assert "class 2 has 0.05% of the pixels (under 1%)" in warnings
    missing = [split for split, s in report["splits"].items() if s["pixels"]["2"] == 0]
    assert missing and f"{missing[0]}: no pixels of class(es) 2" in warnings


# --- the command ----------------------------------------------------------------------------


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """``deepimage ARGS`` through :func:`deepimage.cli.main.main`: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["deepimage", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out, out.err


def test_data_inspect_task_segment_json_and_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_shapes(tmp_path / "camvid", "segnet", count=10, void=11)
    break_item_segnet = root / "trainannot" / "000.png"
    break_item_segnet.write_text("broken")
    code, out, err = run_cli(capsys, monkeypatch, "data", "inspect", str(root), "--task", "segment", "--ignore-index", "11", "--json")  # fmt: skip
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["ignore_index"] == 11 and report["encoding"]["ignore"] == [11, 255]
    assert report["issue_counts"] == {"bad_mask": 1}
    assert report["skipped"][0]["path"] == shown_path(break_item_segnet)
    assert report["ignored_fraction"] > 0  # the void band
    code, out, err = run_cli(capsys, monkeypatch, "data", "inspect", str(root), "--ignore-index", "11")  # fmt: skip
    assert code == 0, err
    assert "train pixels" in out and "%" in out and "images" in out
    assert "bad_mask: 1" in err and str(break_item_segnet) in err
    assert "bad_mask" not in out


def test_data_inspect_bad_sources_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(capsys, monkeypatch, "data", "inspect", str(tmp_path / "none"), "--task", "segment")  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no segmentation data found" in err
    assert "Traceback" not in err
    code, out, err = run_cli(capsys, monkeypatch, "data", "inspect", "digits", "--ignore-index", "3")  # fmt: skip
    assert code == 2 and "--ignore-index is for segmentation data" in err


def test_data_inspect_auto_reads_the_shared_membrane_as_segmentation(
    require_data: RequireData, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_data("membrane")
    code, out, err = run_cli(capsys, monkeypatch, "data", "inspect", "membrane", "--json")
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["classes"] == ["background", "foreground"]
    assert {split: s["images"] for split, s in report["splits"].items()} == {"train": 24, "val": 6}
    assert 0.73 < report["pixel_frequency"]["foreground"] < 0.83
    assert report["issue_counts"] == {"no_masks": 1}


def test_palette_masks_are_read_by_index_not_colour(tmp_path: Path) -> None:
    root = tmp_path / "palette"
    mask = np.array([[0, 1], [2, 255]], np.uint8)
    for i in range(3):
        write_image(root / "images" / f"{i}.png", np.zeros((2, 2, 3), np.uint8))
        indexed = Image.fromarray(mask, "P")
        indexed.putpalette([0, 0, 0, 250, 0, 0, 0, 250, 0] + [255, 255, 255] * 253)
        (root / "masks").mkdir(exist_ok=True)
        indexed.save(root / "masks" / f"{i}.png")
    data = load_segmentation_data(root)
    assert data.encoding == MaskEncoding("palette", 3, (255,))
    assert data.colours == [(0, 0, 0), (250, 0, 0), (0, 250, 0)]
    assert data.read_mask(data.splits["train"][0]).tolist() == mask.tolist()

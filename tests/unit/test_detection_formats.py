"""deepimage.data.detection: COCO / VOC / YOLO read, write, convert, split and broken data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from deepimage.cli.main import app
from deepimage.data.detection import (
    DetectionData,
    DetectionItem,
    convert,
    detection_format,
    inspect_detection,
    load_detection_data,
    write_coco,
    write_voc,
    write_yolo,
)
from deepimage.errors import BadImageError, DeepImageError

Box = tuple[str, int, int, int, int]  # VOC: name, xmin, ymin, xmax, ymax (1-based inclusive)


def make_image(path: Path, size: tuple[int, int], value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, 60, 90)).save(path)
    return path


def voc_xml(filename: str, size: tuple[int, int] | None, boxes: list[Box]) -> str:
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height></size>" if size else ""
    objects = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
        f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
        for name, x1, y1, x2, y2 in boxes
    )
    return f"<annotation><filename>{filename}</filename>{size_xml}{objects}</annotation>"


def add_voc(root: Path, stem: str, size: tuple[int, int], boxes: list[Box], value: int = 0) -> Path:
    """One VOC image + annotation; returns the annotation path."""
    make_image(root / "images" / f"{stem}.png", size, value)
    xml = root / "annotations" / f"{stem}.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(voc_xml(f"{stem}.png", size, boxes))
    return xml


def good_voc(root: Path, count: int = 6) -> Path:
    """``count`` images of assorted sizes with cat/dog boxes, some touching the borders."""
    for i in range(count):
        width, height = 40 + 7 * i, 30 + 5 * i
        boxes: list[Box] = [("cat", 1, 2 + i, 10 + i, 20)]
        if i % 2:
            boxes.append(("dog", 5, 3, width, height))
        add_voc(root, f"img{i}", (width, height), boxes, value=i)
    return root


def by_name(data: DetectionData) -> dict[str, tuple[str, list[str], np.ndarray]]:
    """image name -> (split, class names, boxes)."""
    return {
        item.image.name: (split, [data.classes[i] for i in item.labels], item.boxes)
        for split, items in data.splits.items()
        for item in items
    }


def tree_digest(root: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


# --- conversions -----------------------------------------------------------------------


def test_round_trip_voc_coco_yolo_voc_keeps_boxes_labels_and_splits(tmp_path: Path) -> None:
    source = good_voc(tmp_path / "voc")
    before = tree_digest(source)
    original = load_detection_data(source, val_fraction=0.34, seed=3)
    coco = load_detection_data(write_coco(original, tmp_path / "coco"))
    yolo = load_detection_data(write_yolo(coco, tmp_path / "yolo"))
    back = load_detection_data(write_voc(yolo, tmp_path / "voc2"))
    assert [d.format for d in (original, coco, yolo, back)] == ["voc", "coco", "yolo", "voc"]
    assert back.classes == original.classes == ["cat", "dog"]
    start, end = by_name(original), by_name(back)
    assert start.keys() == end.keys() and len(start) == 6
    for name, (split, labels, boxes) in start.items():
        assert end[name][:2] == (split, labels)
        assert np.abs(end[name][2] - boxes).max() <= 1
    assert back.issues == original.issues == []
    assert tree_digest(source) == before  # inputs untouched


def test_coco_boxes_are_xywh_exactly(tmp_path: Path) -> None:
    image = make_image(tmp_path / "a.png", (50, 40))
    boxes = np.array([[1.25, 2.5, 30.75, 39.125], [0, 0, 50, 40]], np.float32)
    item = DetectionItem(image, 50, 40, boxes, np.array([1, 0]))
    data = DetectionData("toy", ["a", "b"], {"val": [item]}, [], str(tmp_path), "voc")
    out = write_coco(data, tmp_path / "coco")
    document = json.loads((out / "annotations" / "instances_val.json").read_text())
    assert [a["bbox"] for a in document["annotations"]] == [
        [1.25, 2.5, 29.5, 36.625],
        [0.0, 0.0, 50.0, 40.0],
    ]
    assert [a["category_id"] for a in document["annotations"]] == [2, 1]
    assert document["categories"] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    loaded = load_detection_data(out).splits["val"][0]
    assert np.array_equal(loaded.boxes, boxes) and loaded.labels.tolist() == [1, 0]


def test_yolo_lines_are_normalised_cxcywh(tmp_path: Path) -> None:
    image = make_image(tmp_path / "a.png", (300, 200))
    boxes = np.array([[10, 20, 110, 70], [0.5, 0.25, 299.5, 199.75]], np.float32)
    item = DetectionItem(image, 300, 200, boxes, np.array([0, 0]))
    data = DetectionData("toy", ["a"], {"train": [item]}, [], str(tmp_path), "voc")
    out = write_yolo(data, tmp_path / "yolo")
    rows = [line.split() for line in (out / "labels/train/a.txt").read_text().splitlines()]
    values = np.array([[float(v) for v in row[1:]] for row in rows])
    assert [row[0] for row in rows] == ["0", "0"]
    np.testing.assert_allclose(values[0], [60 / 300, 45 / 200, 100 / 300, 50 / 200], rtol=1e-9)
    np.testing.assert_allclose(values[1], [0.5, 0.5, 299 / 300, 199.5 / 200], rtol=1e-9)
    assert (out / "classes.txt").read_text() == "a\n"
    np.testing.assert_allclose(load_detection_data(out).splits["train"][0].boxes, boxes, atol=1e-4)


def test_convert_refuses_a_non_empty_output(tmp_path: Path) -> None:
    source = good_voc(tmp_path / "voc", count=2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DeepImageError, match="out: already exists and is not empty"):
        convert(source, tmp_path / "out", "coco")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


# --- layouts and splits ----------------------------------------------------------------


def test_split_is_seeded_and_reproducible(tmp_path: Path) -> None:
    source = good_voc(tmp_path / "voc", count=20)

    def val_names(seed: int) -> list[str]:
        data = load_detection_data(source, val_fraction=0.2, seed=seed, check_images=False)
        assert len(data.splits["train"]) == 16
        return [item.image.name for item in data.splits["val"]]

    assert val_names(0) == val_names(0) and len(val_names(0)) == 4
    assert val_names(0) != val_names(1)


def test_split_subfolders_and_coco_json_file(tmp_path: Path) -> None:
    for split in ("train", "val"):
        add_voc(tmp_path / "voc" / split, f"{split}0", (20, 20), [("cat", 2, 2, 9, 9)])
    data = load_detection_data(tmp_path / "voc")
    assert {s: [i.image.name for i in items] for s, items in data.splits.items()} == {
        "train": ["train0.png"],
        "val": ["val0.png"],
    }
    coco = write_coco(data, tmp_path / "coco")
    json_file = coco / "annotations" / "instances_val.json"
    assert detection_format(json_file) == "coco"
    assert load_detection_data(json_file).splits["val"][0].boxes.tolist() == [[1, 1, 9, 9]]
    assert detection_format(tmp_path) is None


def test_a_data_set_name_resolves_through_deepimage_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_voc(tmp_path / "toyvoc", count=2)
    monkeypatch.setenv("DEEPIMAGE_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path / "toyvoc")
    data = load_detection_data("toyvoc", val_fraction=0)
    assert (data.name, data.source, len(data.splits["train"])) == (
        "toyvoc",
        str(tmp_path / "toyvoc"),
        2,
    )


# --- broken data -----------------------------------------------------------------------


def kinds(data: DetectionData) -> list[tuple[str, str]]:
    return [(Path(issue["path"]).name, issue["kind"]) for issue in data.issues]


def test_malformed_xml_names_the_file(tmp_path: Path) -> None:
    root = good_voc(tmp_path / "voc", count=2)
    (root / "annotations" / "img1.xml").write_text("<annotation><object>")
    with pytest.raises(DeepImageError, match=r"img1\.xml: .*malformed XML.*line 1"):
        load_detection_data(root)
    data = load_detection_data(root, skip_bad=True, val_fraction=0)
    assert kinds(data) == [("img1.xml", "malformed_annotation")]
    assert [item.image.name for item in data.splits["train"]] == ["img0.png"]


def test_bad_field_names_the_object_and_tag(tmp_path: Path) -> None:
    root = good_voc(tmp_path / "voc", count=1)
    xml = root / "annotations" / "img0.xml"
    xml.write_text(xml.read_text().replace("<xmax>10</xmax>", "<xmax>ten</xmax>"))
    with pytest.raises(DeepImageError, match=r"img0\.xml: .*object 1: <xmax> is 'ten'"):
        load_detection_data(root)


def test_box_outside_the_image_is_clipped_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "voc"
    add_voc(root, "a", (40, 30), [("cat", 30, 5, 55, 30), ("cat", 50, 5, 60, 20)])
    data = load_detection_data(root, val_fraction=0)
    assert data.splits["train"][0].boxes.tolist() == [[29, 4, 40, 30]]
    assert kinds(data) == [("a.xml", "clipped_box"), ("a.xml", "clipped_box")]
    assert "clipped to xyxy [29, 4, 40, 30]" in data.issues[0]["detail"]
    assert "dropped" in data.issues[1]["detail"]


def test_zero_area_box_is_dropped_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "voc"
    add_voc(root, "a", (40, 30), [("cat", 5, 5, 4, 20), ("cat", 5, 5, 20, 20)])
    data = load_detection_data(root, val_fraction=0)
    assert data.splits["train"][0].boxes.tolist() == [[4, 4, 20, 20]]
    assert kinds(data) == [("a.xml", "zero_area_box")]


def test_unknown_class_names_the_file(tmp_path: Path) -> None:
    root = good_voc(tmp_path / "voc", count=2)  # img1 has a dog
    with pytest.raises(DeepImageError, match=r"img1\.xml: unknown class\(es\) dog"):
        load_detection_data(root, classes=["cat"])
    data = load_detection_data(root, classes=["cat"], skip_bad=True, val_fraction=0)
    assert kinds(data) == [("img1.xml", "unknown_class")]
    assert len(data.splits["train"]) == 1


def test_truncated_jpeg_names_the_image(tmp_path: Path) -> None:
    root = tmp_path / "voc"
    add_voc(root, "a", (64, 48), [("cat", 2, 2, 20, 20)])
    add_voc(root, "b", (64, 48), [("cat", 2, 2, 20, 20)])
    jpeg = root / "images" / "b.jpg"
    Image.effect_noise((64, 48), 40).convert("RGB").save(jpeg, quality=95)
    jpeg.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    (root / "images" / "b.png").unlink()
    xml = root / "annotations" / "b.xml"
    xml.write_text(xml.read_text().replace("b.png", "b.jpg"))
    with pytest.raises(BadImageError, match=r"b\.jpg: truncated or corrupt"):
        load_detection_data(root)
    data = load_detection_data(root, skip_bad=True, val_fraction=0)
    assert kinds(data) == [("b.jpg", "bad_image")]
    assert load_detection_data(root, check_images=False).issues == []  # not decoded


def test_missing_image_names_annotation_and_image(tmp_path: Path) -> None:
    root = good_voc(tmp_path / "voc", count=2)
    (root / "images" / "img0.png").unlink()
    with pytest.raises(DeepImageError, match=r"img0\.xml: image .*img0\.png not found"):
        load_detection_data(root)
    assert kinds(load_detection_data(root, skip_bad=True)) == [("img0.xml", "missing_image")]


def test_images_without_boxes_are_kept_as_negatives(tmp_path: Path) -> None:
    root = good_voc(tmp_path / "voc", count=1)
    add_voc(root, "empty", (20, 20), [])
    make_image(root / "images" / "unannotated.png", (20, 10))
    data = load_detection_data(root, val_fraction=0)
    items = {item.image.name: item for item in data.splits["train"]}
    assert items["empty.png"].boxes.shape == (0, 4) and items["empty.png"].labels.shape == (0,)
    assert (items["unannotated.png"].width, items["unannotated.png"].height) == (20, 10)
    assert kinds(data) == [("empty.xml", "no_boxes"), ("unannotated.png", "no_boxes")]


def test_size_is_probed_when_the_annotation_lacks_it(tmp_path: Path) -> None:
    root = tmp_path / "voc"
    make_image(root / "images" / "a.png", (33, 22))
    (root / "annotations").mkdir()
    (root / "annotations" / "a.xml").write_text(voc_xml("a.png", None, [("cat", 1, 1, 33, 22)]))
    item = load_detection_data(root, val_fraction=0, check_images=False).splits["train"][0]
    assert (item.width, item.height, item.boxes.tolist()) == (33, 22, [[0, 0, 33, 22]])


def test_malformed_coco_names_file_and_field(tmp_path: Path) -> None:
    make_image(tmp_path / "coco" / "images" / "a.png", (10, 10))
    document = {
        "images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}],
        "categories": [{"id": 1, "name": "a"}],
    }
    path = tmp_path / "coco" / "annotations" / "instances_train.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    with pytest.raises(
        DeepImageError, match=r"instances_train\.json: .*annotations\[0\]: \"bbox\""
    ):
        load_detection_data(tmp_path / "coco")
    path.write_text("{not json")
    with pytest.raises(DeepImageError, match=r"instances_train\.json: .*invalid JSON"):
        load_detection_data(tmp_path / "coco")


def test_malformed_yolo_line_and_unknown_index(tmp_path: Path) -> None:
    root = tmp_path / "yolo"
    for stem in ("a", "b", "c"):
        make_image(root / "images" / f"{stem}.png", (10, 10))
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.5 0.5\n")
    (root / "labels" / "b.txt").write_text("3 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("names: {0: a, 1: b}\n")
    with pytest.raises(DeepImageError, match=r"a\.txt: .*line 2: expected 'class cx cy w h'"):
        load_detection_data(root)
    data = load_detection_data(root, skip_bad=True)
    assert data.classes == ["a", "b"]
    assert kinds(data) == [
        ("a.txt", "malformed_annotation"),
        ("b.txt", "unknown_class"),
        ("c.png", "no_boxes"),
    ]
    assert "class index 3" in data.issues[1]["detail"]


# --- inspection and the command line ------------------------------------------------------


def broken_voc(root: Path) -> Path:
    """Good images plus one of each kind of broken file."""
    good_voc(root, count=3)
    (root / "annotations" / "img0.xml").write_text("<annotation>")
    add_voc(root, "outside", (20, 20), [("cat", 5, 5, 40, 15)])
    add_voc(root, "zero", (20, 20), [("cat", 5, 5, 4, 15), ("cat", 2, 2, 8, 8)])
    (root / "images" / "img2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return root


def test_inspect_names_each_broken_file(tmp_path: Path) -> None:
    root = broken_voc(tmp_path / "voc")
    report = inspect_detection(root)
    assert report["issue_counts"] == {
        "malformed_annotation": 1,
        "bad_image": 1,
        "clipped_box": 1,
        "zero_area_box": 1,
    }
    assert [Path(row["path"]).name for row in report["skipped"]] == ["img0.xml", "img2.png"]
    assert sum(s["images"] for s in report["splits"].values()) == 3
    assert report["box_size"]["width"]["min"] == 7


def cli() -> typer.Typer:
    return app


def test_data_inspect_command_reports_detection_data(tmp_path: Path) -> None:
    root = broken_voc(tmp_path / "voc")
    result = CliRunner().invoke(cli(), ["data", "inspect", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["format"] == "voc" and report["issue_counts"]["bad_image"] == 1
    human = CliRunner().invoke(cli(), ["data", "inspect", str(root)])
    assert human.exit_code == 0 and "malformed_annotation" in human.output


def test_convert_command(tmp_path: Path) -> None:
    root = broken_voc(tmp_path / "voc")
    args = ["detect", "convert", str(root), str(tmp_path / "yolo"), "--to", "yolo", "--json"]
    failed = CliRunner().invoke(cli(), args)
    assert isinstance(failed.exception, DeepImageError) and "img0.xml" in str(failed.exception)
    result = CliRunner().invoke(cli(), [*args[:-1], "--skip-bad", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["from"], summary["to"], summary["boxes"]) == ("voc", "yolo", 4)
    assert sum(summary["splits"].values()) == 3
    assert detection_format(tmp_path / "yolo") == "yolo"

"""deepimage.faces on synthetic data: distances, matching, the gallery, indexes, calibration,
anonymization, and finding labelled images."""

from __future__ import annotations

import json
import sqlite3
import stat
import sys
from pathlib import Path

import dlib
import numpy as np
import pytest

from deepimage.api.face_scan import labelled_images
from deepimage.errors import DeepImageError
from deepimage.faces import (
    Gallery,
    Match,
    anonymize,
    calibrate,
    default_gallery_path,
    detect,
    distance,
    match,
    verify,
)
from deepimage.faces import index as index_module
from deepimage.faces.analyse import FaceOptions
from deepimage.faces.anonymize import face_regions
from deepimage.faces.calibrate import best_threshold
from deepimage.faces.detect import box_of_rectangle, dlib_rectangle
from deepimage.faces.gallery_export import EXPORT_FORMAT
from deepimage.faces.index import ExactIndex, FaissIndex, build_index
from deepimage.io.paths import find_images

RNG = np.random.default_rng(0)
WEIRD_NAMES = [
    "Robert'); DROP TABLE identities;--",
    "../../etc/passwd",
    'x" OR 1=1 --',
    "Zoë Ñúñez 李",
    "%_*?",
]


def people(count: int = 4, per_person: int = 3, size: int = 128) -> tuple[np.ndarray, list[str]]:
    """Embeddings in tight clusters, one cluster per person."""
    centres = RNG.normal(0, 1, (count, size))
    vectors = np.concatenate([c + RNG.normal(0, 0.01, (per_person, size)) for c in centres])
    return vectors, [f"p{i}" for i in range(count) for _ in range(per_person)]


# --- distances and matching ---------------------------------------------------------


def test_euclidean_distance_equals_numpy_norm_in_every_shape() -> None:
    a, b = RNG.normal(size=(3, 128)), RNG.normal(size=(5, 128))
    expected = np.linalg.norm(a[:, None] - b[None], axis=2)
    np.testing.assert_allclose(distance(a, b), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(distance(a[0], b), expected[0], atol=1e-9)
    np.testing.assert_allclose(distance(a, b[0]), expected[:, 0], atol=1e-9)
    assert distance(a[0], b[0]).shape == ()
    assert float(distance(a[0], a[0])) == pytest.approx(0.0, abs=1e-7)


def test_cosine_distance_is_one_minus_cosine_similarity() -> None:
    a, b = RNG.normal(size=(2, 16)), RNG.normal(size=(4, 16))
    cosine = (a @ b.T) / np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(distance(a, b, "cosine"), 1 - cosine, atol=1e-12)
    assert float(distance(a[0], 3 * a[0], "cosine")) == pytest.approx(0.0, abs=1e-12)


def test_distance_refuses_mismatched_sizes_and_unknown_metrics() -> None:
    with pytest.raises(DeepImageError, match="sizes 3 and 4"):
        distance(np.zeros(3), np.zeros(4))
    with pytest.raises(DeepImageError, match="unknown metric 'manhattan'"):
        distance(np.zeros(3), np.zeros(3), "manhattan")  # type: ignore[arg-type]


def test_match_names_the_nearest_person_or_unknown() -> None:
    vectors, names = people()
    queries = np.stack([vectors[4] + 0.001, vectors[0] + 10.0])
    found = match(queries, vectors, names)
    assert found[0].name == "p1" and found[0].distance < 0.1
    assert found[1].name == "unknown" and found[1].distance > 0.6
    assert match(queries, vectors, names, threshold=1000.0)[1].name != "unknown"
    assert match(queries, np.zeros((0, 128)), []) == [Match("unknown", float("inf"))] * 2


def test_knn_vote_takes_the_majority_within_the_threshold() -> None:
    known = np.array([[0.0], [0.1], [0.15], [0.2], [5.0]])
    names = ["ann", "bob", "bob", "ann", "bob"]
    assert match(np.array([[0.0]]), known, names, knn=1)[0] == Match("ann", 0.0)
    assert match(np.array([[0.0]]), known, names, knn=3)[0] == Match("bob", 0.1)
    # 2 against 2: the tie goes to the name with the nearer neighbour
    assert match(np.array([[0.0]]), known, names, knn=4)[0].name == "ann"
    # the far "bob" lies outside the threshold and has no vote
    assert match(np.array([[0.0]]), known, names, knn=5, threshold=0.6)[0].name == "ann"
    with pytest.raises(DeepImageError, match="knn must be 1 or more"):
        match(np.array([[0.0]]), known, names, knn=0)


def test_verify_compares_with_each_metrics_own_threshold() -> None:
    a = np.ones(128) / np.sqrt(128)
    assert verify(a, a * 1.5) == (True, pytest.approx(0.5))
    assert verify(a, a * 1.7) == (False, pytest.approx(0.7))
    assert verify(a, a * 1.7, "cosine").same
    assert verify(a, a * 1.7, threshold=0.71).same


# --- the gallery --------------------------------------------------------------------


@pytest.fixture
def gallery_path(tmp_path: Path) -> Path:
    return tmp_path / "gallery" / "faces.db"


def test_names_are_data_never_sql_or_paths(gallery_path: Path) -> None:
    vectors, _ = people(len(WEIRD_NAMES), 1)
    with Gallery(gallery_path) as gallery:
        for name, vector in zip(WEIRD_NAMES, vectors, strict=True):
            assert gallery.add(name, vector[None]) == 1
        assert [i.name for i in gallery.identities()] == sorted(WEIRD_NAMES)
        assert [m.name for m in gallery.identify(vectors)] == WEIRD_NAMES
        gallery.rename(WEIRD_NAMES[0], WEIRD_NAMES[0] + " 2")
        assert gallery.remove(WEIRD_NAMES[1]) == {WEIRD_NAMES[1]: 1}
    database = sqlite3.connect(gallery_path)
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    assert {"identities", "embeddings"} <= tables
    names = {row[0] for row in database.execute("SELECT name FROM identities")}
    assert names == {WEIRD_NAMES[0] + " 2", *WEIRD_NAMES[2:]}
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    database.close()
    assert sorted(p.name for p in gallery_path.parent.iterdir()) == ["faces.db"]


def test_gallery_file_is_private_and_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "faces.db"
    Gallery(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(DeepImageError, match="no face gallery here"):
        Gallery(tmp_path / "missing.db", create=False)
    (tmp_path / "photo.db").write_bytes(b"\xff\xd8\xff" + bytes(2000))
    with pytest.raises(DeepImageError, match=r"photo\.db: not a face gallery"):
        Gallery(tmp_path / "photo.db")
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE t (x)")
    other.close()
    with pytest.raises(DeepImageError, match="not a deepimage face gallery"):
        Gallery(tmp_path / "other.db")


def test_gallery_refuses_bad_names_and_missing_people(gallery_path: Path) -> None:
    with Gallery(gallery_path) as gallery:
        for bad in ["", "   ", "unknown"]:
            with pytest.raises(DeepImageError):
                gallery.add(bad, np.zeros((1, 4)))
        gallery.add("ann", np.zeros((1, 4)))
        gallery.add("bob", np.ones((1, 4)))
        with pytest.raises(DeepImageError, match="nobody called 'cy'"):
            gallery.remove("ann", "cy")  # all or nothing: ann stays
        with pytest.raises(DeepImageError, match="'bob' is already enrolled"):
            gallery.rename("ann", "bob")
        with pytest.raises(DeepImageError, match="NaN"):
            gallery.add("ann", np.full((1, 4), np.nan))
        assert [(i.name, i.embeddings) for i in gallery.identities()] == [("ann", 1), ("bob", 1)]


def test_the_same_embedding_is_stored_once_per_person(gallery_path: Path) -> None:
    vectors, _ = people(1, 3)
    with Gallery(gallery_path) as gallery:
        assert gallery.add("ann", vectors) == 3
        assert gallery.add("ann", vectors[::-1]) == 0
        assert gallery.add("ann", np.concatenate([vectors, vectors + 1])) == 3
        assert gallery.add("bob", vectors[:1]) == 1  # another person may hold the same vector
        assert [i.embeddings for i in gallery.identities()] == [6, 1]


def test_embeddings_of_different_models_are_never_compared(gallery_path: Path) -> None:
    with Gallery(gallery_path) as gallery:
        gallery.add("ann", np.zeros((1, 4)), model="model-a")
        gallery.add("bob", np.zeros((1, 4)), model="model-b")
        gallery.add("cy", np.ones((1, 8)), model="model-c")
        assert gallery.identify(np.zeros((1, 4)), model="model-a")[0].name == "ann"
        assert gallery.identify(np.zeros((0, 4)), model="model-a") == []  # no face, no answer
        assert gallery.identify(np.zeros((1, 4)), model="model-b")[0].name == "bob"
        assert gallery.vectors("model-c")[1] == ["cy"]
        assert gallery.models() == {"model-a": 1, "model-b": 1, "model-c": 1}
        with pytest.raises(DeepImageError, match=r"no dlib-resnet-v1 embeddings.*model-a"):
            gallery.identify(np.zeros((1, 128)))
        with pytest.raises(DeepImageError, match="have 4 values in this gallery, not 5"):
            gallery.add("ann", np.zeros((1, 5)), model="model-a")


def test_export_and_import_round_trip_exactly(tmp_path: Path) -> None:
    vectors, names = people(3, 2)
    with Gallery(tmp_path / "a.db") as source:
        for name in dict.fromkeys(names):
            rows = [i for i, n in enumerate(names) if n == name]
            source.add(name, vectors[rows], [f"/photos/{name}/{i}.jpg" for i in rows])
        source.add(WEIRD_NAMES[0], vectors[:1] + 5, model="other-model")
        exported = source.export(tmp_path / "export.json")
        assert exported == {"identities": 4, "embeddings": 7, "issues": []}
        before = source.identities()
    with Gallery(tmp_path / "b.db") as copy:
        assert copy.import_file(tmp_path / "export.json") == {
            "identities": 4,
            "embeddings": 7,
            "duplicates": 0,
            "skipped": [],
        }
        assert copy.identities() == before
        got, got_names = copy.vectors()
        assert got_names == names and np.array_equal(got, vectors)  # bit for bit
        assert copy.import_file(tmp_path / "export.json")["duplicates"] == 7
        assert sum(i.embeddings for i in copy.identities()) == 7
        assert copy.export(tmp_path / "again.json")["embeddings"] == 7
    assert (tmp_path / "again.json").read_text() == (tmp_path / "export.json").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"format": "other"}', "not a gallery export"),
        ('{"format": "deepimage-face-gallery", "version": 99, "identities": []}', "version 99"),
        ('{"format": "deepimage-face-gallery", "version": 1, "identities": {}}', "a list"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_a_file_that_is_not_an_export_changes_nothing(
    gallery_path: Path, content: str, message: str
) -> None:
    export = gallery_path.parent / "export.json"
    with Gallery(gallery_path) as gallery:
        gallery.add("ann", np.zeros((1, 1)), model="m")
        export.write_text(content)
        with pytest.raises(DeepImageError, match=message):
            gallery.import_file(export)
        assert [(i.name, i.embeddings) for i in gallery.identities()] == [("ann", 1)]


def test_an_import_leaves_out_and_lists_what_it_cannot_use(gallery_path: Path) -> None:
    rows = [
        {"name": "ok", "embeddings": [{"model": "m", "vector": [1.0]}]},
        {"name": "unknown", "embeddings": []},
        {"name": "bad", "embeddings": [{"model": "m", "vector": ["x"]}, {"vector": [2.0]}]},
        {"name": "nan", "embeddings": [{"model": "m", "vector": [float("nan")]}]},
        {"name": "long", "embeddings": [{"model": "m", "vector": [3.0, 4.0]}]},
        "not an identity",
    ]
    export = gallery_path.parent / "export.json"
    with Gallery(gallery_path) as gallery:
        gallery.add("ann", np.zeros((1, 1)), model="m")
        export.write_text(json.dumps({"format": EXPORT_FORMAT, "version": 1, "identities": rows}))
        report = gallery.import_file(export)
        assert [(i.name, i.embeddings) for i in gallery.identities()] == [
            ("ann", 1), ("bad", 0), ("long", 0), ("nan", 0), ("ok", 1),
        ]  # fmt: skip
    reasons = [item["reason"] for item in report["skipped"]]
    assert [reason.split(":")[0] for reason in reasons] == [
        "identity 2", "identity 3 ('bad'), embedding 1", "identity 3 ('bad'), embedding 2",
        "identity 4 ('nan'), embedding 1", "identity 6", "identity 5 ('long'), embedding 1",
    ]  # fmt: skip
    assert "NaN" in reasons[3] and "2 values where m has 1" in reasons[5]
    assert report["embeddings"] == 1 and report["identities"] == 4


def test_damaged_embeddings_are_left_out_of_searches_and_exports(gallery_path: Path) -> None:
    with Gallery(gallery_path) as gallery:
        gallery.add("ann", np.array([[0.0] * 3, [1.0] * 3]), model="m")
        gallery.add("bob", np.full((1, 3), 5.0), model="m")
    with sqlite3.connect(gallery_path) as database:
        nan = np.full(3, np.nan).tobytes()
        database.execute("UPDATE embeddings SET vector = ? WHERE id = 1", (nan,))
        database.execute("UPDATE embeddings SET vector = x'0102' WHERE id = 3")
    database.close()
    with Gallery(gallery_path) as gallery:
        assert gallery.identify(np.zeros((1, 3)), model="m", threshold=2.0)[0].name == "ann"
        assert [i["detail"].split(":")[0] for i in gallery.issues] == [
            "embedding 1 of 'ann' (m)", "embedding 3 of 'bob' (m)",
        ]  # fmt: skip
        report = gallery.export(gallery_path.parent / "clean.json")
        assert report["embeddings"] == 1 and len(report["issues"]) == 2
        with pytest.raises(DeepImageError, match="the face gallery itself"):
            gallery.export(gallery_path)
        with pytest.raises(DeepImageError, match="exists; pass --force"):
            gallery.export(gallery_path.parent / "clean.json")
        assert gallery.export(gallery_path.parent / "clean.json", overwrite=True)["embeddings"] == 1
    with Gallery(gallery_path.parent / "clean.db") as clean:
        assert clean.import_file(gallery_path.parent / "clean.json")["skipped"] == []
        assert clean.vectors("m")[1] == ["ann"] and clean.issues == []


def test_default_gallery_lives_in_the_users_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_gallery_path() == tmp_path / "deepimage" / "faces.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_gallery_path() == Path.home() / ".local/share/deepimage/faces.db"


# --- indexes ------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_index_finds_the_true_nearest(metric: str) -> None:
    vectors, _ = people(20, 5)
    queries = vectors[::7] + RNG.normal(0, 0.005, (len(vectors[::7]), 128))
    distances, indices = ExactIndex(vectors, metric).search(queries, 3)  # type: ignore[arg-type]
    table = distance(queries, vectors, metric)  # type: ignore[arg-type]
    assert np.array_equal(indices, np.argsort(table, axis=1)[:, :3])
    np.testing.assert_allclose(distances, np.sort(table, axis=1)[:, :3])
    assert ExactIndex(vectors[:2], metric).search(queries, 5)[1].shape == (len(queries), 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_faiss_gallery_answers_like_the_exact_one(gallery_path: Path, metric: str) -> None:
    vectors, names = people(30, 3)
    queries = vectors[1::4] + RNG.normal(0, 0.003, (len(vectors[1::4]), 128))
    with Gallery(gallery_path) as gallery:
        for name in dict.fromkeys(names):
            gallery.add(name, vectors[[i for i, n in enumerate(names) if n == name]])
        exact = gallery.identify(queries, metric=metric, index="exact", knn=3)  # type: ignore[arg-type]
        approximate = gallery.identify(queries, metric=metric, index="faiss", knn=3)  # type: ignore[arg-type]
        assert isinstance(gallery.index("dlib-resnet-v1", metric, "faiss")[0], FaissIndex)  # type: ignore[arg-type]
    assert [m.name for m in approximate] == [m.name for m in exact] == names[1::4]
    np.testing.assert_allclose(
        [m.distance for m in approximate], [m.distance for m in exact], atol=1e-5
    )


def test_auto_index_switches_to_faiss_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors, _ = people(5, 2)
    assert isinstance(build_index(vectors, "euclidean"), ExactIndex)
    monkeypatch.setattr(index_module, "FAISS_FROM", 10)
    assert isinstance(build_index(vectors, "euclidean"), FaissIndex)
    monkeypatch.setitem(sys.modules, "faiss", None)  # as if faiss were not installed
    assert isinstance(build_index(vectors, "euclidean"), ExactIndex)
    with pytest.raises(DeepImageError, match=r"pip install 'deepimage\[faces-large\]'"):
        build_index(vectors, "euclidean", "faiss")


# --- calibration --------------------------------------------------------------------


def test_best_threshold_beats_every_other_cut() -> None:
    distances = np.round(RNG.uniform(0, 1, 300), 2)  # ties included
    same = RNG.uniform(0, 1, 300) > distances
    threshold, accuracy = best_threshold(distances, same)
    cuts = np.concatenate([[-1.0], np.unique(distances)])
    accuracies = [((distances <= cut) == same).mean() for cut in cuts]
    assert accuracy == pytest.approx(max(accuracies))
    assert ((distances <= threshold) == same).mean() == pytest.approx(accuracy)


def test_calibrate_reports_accuracy_auc_and_needs_both_kinds_of_pairs() -> None:
    vectors, names = people(4, 3)
    result = calibrate(vectors, names)
    assert (result.accuracy, result.auc, result.pairs, result.same_pairs) == (1.0, 1.0, 66, 12)
    same = distance(vectors, vectors)[np.equal.outer(names, names)].max()
    assert same < result.threshold and result.operating_point == (0.0, 1.0)
    summary = result.summary()
    assert summary["accuracy_at_default"] == 1.0 and summary["metric"] == "euclidean"
    with pytest.raises(DeepImageError, match="at least two people"):
        calibrate(vectors[:3], names[:3])


# --- anonymization and detection ----------------------------------------------------


@pytest.mark.parametrize("method", ["blur", "pixelate"])
@pytest.mark.parametrize("channels", [None, 3])
def test_anonymize_changes_only_the_face_regions(method: str, channels: int | None) -> None:
    shape = (120, 160) if channels is None else (120, 160, channels)
    image = RNG.integers(0, 256, shape, dtype=np.uint8)
    # pixel-edge boxes (x2 - x1 is the width); the second one crosses the border
    boxes = [[20, 30, 60, 80], [150, 100, 171, 131]]
    hidden = anonymize(image, boxes, method)  # type: ignore[arg-type]
    assert hidden.shape == image.shape and hidden.dtype == np.uint8
    inside = np.zeros(shape[:2], bool)
    for rows, cols in face_regions(boxes, shape, 0.2):
        inside[rows, cols] = True
    changed = hidden != image if channels is None else (hidden != image).any(axis=2)
    assert not changed[~inside].any()
    face = hidden[22:88, 12:68].astype(float)
    assert face.std() < image[22:88, 12:68].std() / 3  # noise is gone: nothing to recognise


def test_face_regions_grow_by_the_margin_and_stay_inside() -> None:
    # boxes are pixel-edge since the one box convention (were dlib's inclusive rectangles)
    assert face_regions([[10, 10, 20, 20]], (100, 100), 0.0) == [(slice(10, 20), slice(10, 20))]
    assert face_regions([[0, 90, 10, 100]], (100, 100), 0.5) == [(slice(85, 100), slice(0, 15))]
    assert face_regions([[10.5, 10, 19.5, 20]], (100, 100), 0.0) == [
        (slice(10, 20), slice(10, 20))
    ]  # a cut pixel is hidden too
    with pytest.raises(DeepImageError, match="margin"):
        face_regions([[0, 0, 1, 1]], (10, 10), -1)


def test_dlib_rectangles_convert_to_pixel_edge_boxes_and_back_exactly() -> None:
    """dlib's right and bottom are the last pixel inside: x2 = right + 1, and back."""
    for rect in [dlib.rectangle(3, 4, 50, 51), dlib.rectangle(0, 0, 79, 59)]:
        box = box_of_rectangle(rect, (60, 80))
        assert box[2] - box[0] == rect.width() and box[3] - box[1] == rect.height()
        assert dlib_rectangle(box) == rect
    assert box_of_rectangle(dlib.rectangle(0, 0, 79, 59), (60, 80)) == [0.0, 0.0, 80.0, 60.0]
    # clipped as face_recognition clips (left and top to 0, right and bottom to W and H)
    assert box_of_rectangle(dlib.rectangle(-7, -2, 90, 70), (60, 80)) == [0.0, 0.0, 81.0, 61.0]


def test_detect_checks_its_arguments() -> None:
    with pytest.raises(DeepImageError, match="unknown face detector 'yolo'"):
        detect(np.zeros((10, 10), np.uint8), "yolo")  # type: ignore[arg-type]
    with pytest.raises(DeepImageError, match="uint8"):
        detect(np.zeros((10, 10), np.float32))
    with pytest.raises(DeepImageError, match="upsample"):
        detect(np.zeros((10, 10), np.uint8), upsample=-1)
    with pytest.raises(DeepImageError, match="landmarks 5 or 68"):
        FaceOptions(landmarks=7).check()


# --- finding labelled images --------------------------------------------------------


def test_folders_yield_images_by_extension_or_by_content(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "subject01.happy").write_bytes(b"GIF89a" + bytes(10))
    (tmp_path / "sub" / "a.jpg").write_bytes(b"")  # an image name, even if broken
    (tmp_path / "README.md").write_text("# faces\n")
    (tmp_path / ".hidden.png").write_bytes(b"\x89PNG")
    root, files = find_images(tmp_path, by_content=True)
    assert root == tmp_path
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["sub/a.jpg", "subject01.happy"]


def test_labels_come_from_subfolders_or_name_prefixes(tmp_path: Path) -> None:
    for name in ["ann/1.jpg", "ann/deep/2.jpg", "bob/1.png", "loose.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    pairs, unlabelled = labelled_images(tmp_path)
    assert [(label, p.name) for label, p in pairs] == [
        ("ann", "1.jpg"),
        ("ann", "2.jpg"),
        ("bob", "1.png"),
    ]
    assert [Path(u["path"]).name for u in unlabelled] == ["loose.jpg"]
    pairs, unlabelled = labelled_images(tmp_path, "name-prefix")
    assert sorted({label for label, _ in pairs}) == ["1", "2", "loose"] and unlabelled == []
    with pytest.raises(DeepImageError, match="not a folder"):
        labelled_images(tmp_path / "ann" / "1.jpg")

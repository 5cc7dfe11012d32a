"""``deepimage process``: the batch engine and its command line, on small synthetic images."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from tests.conftest import BAD_IMAGE_NAMES, write_bad_images
from typer.testing import CliRunner

import deepimage.cli.main as cli_main
from deepimage import process
from deepimage.api.batch_process import process_files
from deepimage.api.process_steps import load_pipeline, parse_step
from deepimage.cli.process import app
from deepimage.errors import DeepImageError
from deepimage.io.images import read_image


def photo(seed: int, shape: tuple[int, ...] = (48, 64, 3)) -> np.ndarray:
    """A smooth image with noise, so every operation has something to do."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, shape[1], dtype=np.float32)[None, :]
    base = np.broadcast_to(ramp, shape[:2])
    if len(shape) == 3:
        base = np.stack([base, base[::-1], base.T[: shape[1], : shape[0]].T], axis=-1)
    noisy = base + rng.normal(0, 12, shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def make_tree(root: Path) -> Path:
    """in/a.png (RGB), in/sub/b.png (gray), in/sub/deeper/c.jpg (RGB)."""
    folder = root / "in"
    (folder / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(photo(0)).save(folder / "a.png")
    Image.fromarray(photo(1, (40, 56))).save(folder / "sub" / "b.png")
    Image.fromarray(photo(2)).save(folder / "sub" / "deeper" / "c.jpg", quality=95)
    return folder


def make_bad_folder(root: Path) -> Path:
    folder = root / "mixed"
    folder.mkdir()
    Image.fromarray(photo(3)).save(folder / "a_good.jpg", quality=90)
    Image.fromarray(photo(4)).save(folder / "f_good.png")
    write_bad_images(folder, (folder / "a_good.jpg").read_bytes())
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def invoke(*args: str | Path) -> dict:
    """Run ``process ARGS --json --quiet`` through the typer app; the report."""
    result = CliRunner().invoke(app, [*map(str, args), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the real ``deepimage`` entry point (exit codes, error printing)."""
    if "process" not in {group.name for group in cli_main.app.registered_groups}:
        root = typer.Typer(pretty_exceptions_enable=False)
        root.add_typer(app, name="process")
        root.callback()(lambda: None)
        monkeypatch.setattr(cli_main, "app", root)
    monkeypatch.setattr(sys, "argv", ["deepimage", "process", *args])
    with pytest.raises(SystemExit) as stop:
        cli_main.main()
    return stop.value.code


# --- the operations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["blur", "--sigma", "2"], lambda im: process.gaussian_blur(im, sigma=2)),
        (
            ["edges", "--method", "canny", "--low", "40", "--high", "120"],
            lambda im: process.canny(im, 40, 120),
        ),
        (["edges", "--method", "sobel"], process.sobel),
        (["edges", "--method", "scharr"], process.scharr),
        (["edges", "--method", "laplacian"], process.laplacian),
        (["threshold", "--method", "otsu"], process.otsu_threshold),
        (
            ["threshold", "--method", "global", "--value", "90"],
            lambda im: process.threshold(im, 90),
        ),
        (
            ["threshold", "--method", "adaptive", "--adaptive-method", "mean", "--block-size", "7"],
            lambda im: process.adaptive_threshold(im, "mean", 7),
        ),
        (["resize", "--width", "30", "--height", "20"], lambda im: process.resize(im, 30, 20)),
        (["denoise"], process.denoise_nl_means),
        (
            ["rotate", "--angle", "30", "--fill", "255,0,0"],
            lambda im: process.rotate(im, 30, fill=(255, 0, 0)),
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_outputs_equal_direct_function_results(tmp_path: Path, args: list[str], expected) -> None:
    folder = make_tree(tmp_path)
    report = invoke(*args, folder, "-o", tmp_path / "out")
    assert report["totals"]["processed"] == 3
    for name in ["a.png", "sub/b.png"]:
        np.testing.assert_array_equal(
            read_image(tmp_path / "out" / name, "keep"),
            expected(read_image(folder / name, "keep")),
        )


def test_folder_structure_is_mirrored_and_formats_kept(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    report = invoke("blur", folder, "-o", tmp_path / "out")
    outputs = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert outputs == ["a.png", "report.json", "sub", "sub/b.png", "sub/deeper", "sub/deeper/c.jpg"]
    assert Image.open(tmp_path / "out" / "sub" / "deeper" / "c.jpg").format == "JPEG"
    assert Image.open(tmp_path / "out" / "sub" / "b.png").mode == "L"
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report
    row = report["results"][0]
    assert {"path", "output", "seconds", "bytes_in", "bytes_out", "width_in", "height_out"} <= set(
        row
    )


def test_sixteen_bit_png_stays_sixteen_bit(tmp_path: Path) -> None:
    deep = (photo(5, (32, 32)).astype(np.uint16) * 257 + 100).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    invoke("blur", "--sigma", "1.5", tmp_path / "deep.png", "-o", tmp_path / "out")
    out = read_image(tmp_path / "out" / "deep.png", "keep")
    expected = process.gaussian_blur(deep.astype(np.float32) / 65535, sigma=1.5) * 65535
    assert out.dtype == np.uint16
    assert np.abs(out.astype(np.float64) - expected).max() <= 1


def test_glob_inputs_keep_their_relative_paths(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    report = invoke("grayscale", f"{folder}/**/*.png", "-o", tmp_path / "out")
    assert sorted(
        Path(row["output"]).relative_to(tmp_path / "out").as_posix() for row in report["results"]
    ) == [
        "a.png",
        "sub/b.png",
    ]


# --- safety --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [".", "sub", "file"])
def test_refuses_to_write_into_the_input_location(tmp_path: Path, target: str) -> None:
    folder = make_tree(tmp_path)
    before = snapshot(folder)
    inputs, out = (folder / "a.png", folder) if target == "file" else (folder, folder / target)
    result = CliRunner().invoke(app, ["blur", str(inputs), "-o", str(out), "--quiet"])
    assert isinstance(result.exception, DeepImageError)
    assert "--inplace" in str(result.exception)
    assert snapshot(folder) == before


def test_inplace_replaces_inputs_atomically(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    original = read_image(folder / "a.png", "keep")
    invoke("flip", folder, "-o", folder, "--inplace")
    np.testing.assert_array_equal(read_image(folder / "a.png", "keep"), original[:, ::-1])
    assert not [p for p in folder.rglob("*.tmp")]


def test_two_inputs_with_one_output_name_are_numbered(tmp_path: Path) -> None:
    Image.fromarray(photo(0)).save(tmp_path / "x.png")
    Image.fromarray(photo(1)).save(tmp_path / "x.jpg")
    report = process_files(
        [tmp_path / "x.png", tmp_path / "x.jpg"],
        tmp_path / "out",
        [parse_step("compress")],
        quiet=True,
    )
    assert [Path(row["output"]).name for row in report["results"]] == ["x.jpg", "x-1.jpg"]


def test_skip_existing_leaves_outputs_alone(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    existing = tmp_path / "out" / "a.png"
    existing.parent.mkdir()
    existing.write_bytes(b"keep me")
    report = invoke("blur", folder, "-o", tmp_path / "out", "--skip-existing")
    assert report["totals"] | {"seconds": 0, "images_per_s": 0} == {
        "images": 3,
        "processed": 2,
        "skipped_existing": 1,
        "skipped": 0,
        "seconds": 0,
        "images_per_s": 0,
    }
    assert existing.read_bytes() == b"keep me"


def test_bad_files_stop_the_run_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_bad_folder(tmp_path)
    before = snapshot(folder)
    code = run_main(["blur", str(folder), "-o", str(tmp_path / "out"), "--quiet"], monkeypatch)
    err = capsys.readouterr().err.replace("\n", "")  # rich wraps long lines
    assert code == 2
    assert "b_truncated.jpg" in err and "Traceback" not in err and "--skip-bad" in err
    assert snapshot(folder) == before
    written = (
        {p.name for p in (tmp_path / "out").rglob("*")} if (tmp_path / "out").exists() else set()
    )
    assert not written & set(BAD_IMAGE_NAMES) and not [name for name in written if ".tmp" in name]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_skip_bad_processes_the_good_and_lists_the_bad(tmp_path: Path, workers: str) -> None:
    folder = make_bad_folder(tmp_path)
    before = snapshot(folder)
    report = invoke("blur", folder, "-o", tmp_path / "out", "--skip-bad", "--workers", workers)
    # adapted to the output conventions: skipped (was bad_files), results (was images)
    assert [Path(row["path"]).name for row in report["skipped"]] == BAD_IMAGE_NAMES
    assert report["totals"]["processed"] == 2 and report["totals"]["skipped"] == 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a_good.jpg",
        "f_good.png",
        "report.json",
    ]
    assert "zero-byte" in report["skipped"][1]["reason"]
    assert snapshot(folder) == before


def test_operation_errors_name_the_file(tmp_path: Path) -> None:
    Image.fromarray(photo(1, (16, 16))).save(tmp_path / "gray.png")
    with pytest.raises(DeepImageError, match=r"gray\.png: white_balance needs an RGB"):
        process_files(
            [tmp_path / "gray.png"], tmp_path / "out", [parse_step("white-balance")], quiet=True
        )


# --- compress, pipelines, workers, listing --------------------------------------------


def test_compress_report_has_sizes_and_quality_metrics(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    report = invoke(
        "compress", "--format", "jpeg", "--quality", "70", folder, "-o", tmp_path / "out"
    )
    row = next(row for row in report["results"] if row["path"].endswith("a.png"))
    expected = process.compress(read_image(folder / "a.png", "keep"), "jpeg", 70)
    assert row["output"].endswith("a.jpg")
    assert (tmp_path / "out" / "a.jpg").read_bytes() == expected.data
    assert row["bytes_in"] == (folder / "a.png").stat().st_size
    assert row["bytes_out"] == expected.bytes_out
    assert row["psnr"] == pytest.approx(expected.psnr) and row["ssim"] == pytest.approx(
        expected.ssim
    )
    assert row["quality"] == 70 and row["format"] == "jpeg"


def test_compress_to_a_target_size(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    report = invoke(
        "compress", "--format", "webp", "--target-bytes", "1500", folder, "-o", tmp_path / "out"
    )
    assert all(
        row["bytes_out"] <= 1500 and row["output"].endswith(".webp") for row in report["results"]
    )


def test_pipeline_chains_steps(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    spec = tmp_path / "steps.yaml"
    spec.write_text(
        "- op: resize\n  width: 32\n  height: 24\n- {op: blur, sigma: 1.5}\n- {op: compress, format: png}\n"
    )
    result = CliRunner().invoke(
        app, ["pipeline", str(spec), str(folder), "-o", str(tmp_path / "out"), "-q"]
    )
    assert result.exit_code == 0, result.output
    expected = process.gaussian_blur(
        process.resize(read_image(folder / "a.png", "keep"), 32, 24), sigma=1.5
    )
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "a.png", "keep"), expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("op: blur\n", "a pipeline is a YAML list"),
        ("- [blur]\n", "step 1 must be a mapping with an 'op' key"),
        (
            "- {op: blur}\n- {op: blurr}\n",
            r"step 2 \(blurr\): unknown operation 'blurr'; did you mean blur",
        ),
        (
            "- {op: blur, sigma: soft}\n",
            r"step 1 \(blur\): option sigma: cannot read 'soft' as float",
        ),
        ("- {op: edges, method: sobel, low: 3}\n", "edges --method sobel has no option low"),
        ("- {op: compress}\n- {op: blur}\n", "compress .* can only be the last step"),
        ("- {op: rotate}\n", "rotate needs option angle"),
        ("[]\n", "the pipeline has no steps"),
        ("- {op: blur\n", "not valid YAML"),
    ],
)
def test_pipeline_errors_name_the_file_and_step(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    with pytest.raises(DeepImageError, match=message) as error:
        load_pipeline(spec)
    assert str(spec) in str(error.value)


def test_two_workers_give_identical_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(12):
        Image.fromarray(photo(index, (40, 40, 3))).save(folder / f"{index:02d}.png")
    one = invoke("denoise", folder, "-o", tmp_path / "one")
    two = invoke("denoise", folder, "-o", tmp_path / "two", "--workers", "2")
    assert two["workers"] == 2
    assert [row["path"] for row in one["results"]] == [row["path"] for row in two["results"]]
    assert snapshot(tmp_path / "one") | {"report.json": b""} == snapshot(tmp_path / "two") | {
        "report.json": b""
    }


def test_option_errors_are_user_errors(tmp_path: Path) -> None:
    folder = make_tree(tmp_path)
    result = CliRunner().invoke(
        app, ["edges", "--method", "sobel", "--low", "3", str(folder), "-o", str(tmp_path / "o")]
    )
    assert isinstance(result.exception, DeepImageError)
    assert "has no option low" in str(result.exception)
    assert not (tmp_path / "o").exists()


def test_list_shows_every_operation_with_options() -> None:
    result = CliRunner().invoke(app, ["list", "--json"])
    items = json.loads(result.stdout.strip().splitlines()[-1])["items"]  # was a bare list
    catalog = {op["name"]: op for op in items}
    assert {"blur", "edges", "threshold", "resize", "denoise", "compress", "canny"} <= set(catalog)
    assert catalog["edges"]["methods"] == ["canny", "sobel", "scharr", "laplacian"]
    assert [o["name"] for o in catalog["compress"]["options"]] == [
        "format",
        "quality",
        "target_bytes",
    ]
    table = CliRunner().invoke(app, ["list"]).stdout
    assert "denoise-nl-means" in table and "--sigma" in table


def test_each_operation_has_help_with_its_options() -> None:
    output = CliRunner().invoke(app, ["threshold", "--help"], terminal_width=200).output
    assert "--method" in output and "--block-size" in output and "--skip-bad" in output

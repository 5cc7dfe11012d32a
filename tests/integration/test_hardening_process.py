"""``deepimage process`` against bad input and faults, through the real command line.

Each test reproduces one item of the hardening issue (numbers in the test docstrings):
nothing written into the inputs, no partial file on a full disk, pixels kept, workers that
die with their parent, bounded work, options checked before the first image, no
traceback, and one rule for files already in ``-o``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import CliResult, cli_env, run_deepimage

from deepimage.io.images import read_frames, read_image
from deepimage.io.writing import write_frames, write_image

pytestmark = pytest.mark.integration


def photo(seed: int, shape: tuple[int, ...] = (48, 64, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def process(*args: str | Path, timeout: float = 120) -> CliResult:
    return run_deepimage("process", *map(str, args), "--quiet", timeout=timeout)


def assert_clean_error(result: CliResult, *words: str) -> None:
    """Exit 2, one ``error:`` line on stderr naming ``words``, no traceback."""
    text = " ".join(result.stderr.split())  # rich wraps long lines
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr and text.startswith("error: "), result.stderr
    for word in words:
        assert word in text, (word, text)


def outputs_decode(folder: Path) -> None:
    """Every file under ``folder`` is a whole image or the report; no temporary files."""
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "report.json":
            assert ".tmp" not in path.name, path
            read_image(path)


# --- 1. no output into the inputs through a link ----------------------------------------


@pytest.mark.parametrize("name", ["a.png", "a.jpg"])
def test_a_symlinked_output_folder_never_writes_into_the_inputs(tmp_path: Path, name: str) -> None:
    """Item 1: out/sub -> ../in/sub; compress to JPEG would land in in/sub."""
    write_image(tmp_path / "in" / "sub" / name, photo(0))
    write_image(tmp_path / "in" / "b.png", photo(1))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").symlink_to("../in/sub")
    before = snapshot(tmp_path / "in")
    result = process(
        "compress", "--format", "jpeg", "--quality", "5", tmp_path / "in", "-o", tmp_path / "out"
    )
    assert_clean_error(result, "in/sub", "-o/--out")
    assert snapshot(tmp_path / "in") == before
    assert not (tmp_path / "out" / "b.jpg").exists()  # refused before the first write


# --- 3. a full disk -----------------------------------------------------------------


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 600 KB tmpfs (root only; skipped where it cannot be mounted)."""
    folder = Path(tempfile.mkdtemp())
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


@pytest.mark.parametrize("skip_bad", [False, True])
def test_a_full_disk_leaves_no_partial_image_and_a_clear_error(
    tmp_path: Path, small_disk: Path, skip_bad: bool
) -> None:
    """Item 3: 4 incompressible 117 KB PNGs onto a disk with room for about 2."""
    for index in range(4):
        write_image(tmp_path / "in" / f"{index}.png", photo(index, (200, 200, 3)))
    (small_disk / "filler").write_bytes(bytes(330_000))
    out = small_disk / "out"
    result = process(
        "blur", "--sigma", "0.5", tmp_path / "in", "-o", out, *(["--skip-bad"] if skip_bad else [])
    )
    assert_clean_error(result, "was not written: the disk is full", str(out))
    assert not (out / "report.json").exists()
    written = sorted(p.name for p in out.iterdir())
    assert written and len(written) < 4
    outputs_decode(out)


# --- 4. pixels kept ---------------------------------------------------------------------


def kept_inputs(folder: Path) -> None:
    """A float32 TIFF in 0..0.98, 16-bit RGB PNG, RGBA PNG, 3-page TIFF, 3-frame GIF."""
    floats = np.linspace(0, 0.98, 48 * 64, dtype=np.float32).reshape(48, 64)
    write_image(folder / "float.tif", floats)
    deep = np.random.default_rng(0).integers(0, 65536, (48, 64, 3), dtype=np.uint16)
    write_image(folder / "deep.png", deep)
    alpha = np.dstack([photo(1), np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    write_image(folder / "alpha.png", alpha)
    write_frames(folder / "pages.tif", [photo(index, (48, 64)) for index in range(3)])
    frames = [Image.fromarray(photo(index, (48, 64))) for index in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])


def test_depth_float_alpha_and_frames_are_kept_or_reported(tmp_path: Path) -> None:
    """Item 4: flip keeps every kind exactly where the output holds it."""
    kept_inputs(tmp_path / "in")
    result = process("flip", tmp_path / "in", "-o", tmp_path / "out", "--json")
    assert result.code == 0, result.stderr
    lost = {Path(row["path"]).name: row["lost"] for row in result.json()["results"]}
    assert lost == {
        "alpha.png": [],
        "anim.gif": ["frames 2-3 dropped: PNG holds one frame"],
        "deep.png": [],
        "float.tif": [],
        "pages.tif": [],
    }
    for name in ("float.tif", "deep.png", "alpha.png"):
        before = read_image(tmp_path / "in" / name, "keep")
        after = read_image(tmp_path / "out" / name, "keep")
        assert after.dtype == before.dtype and after.shape == before.shape, name
        np.testing.assert_array_equal(after, before[:, ::-1])
    assert read_image(tmp_path / "out" / "float.tif", "keep").max() == pytest.approx(0.98)
    pages = read_frames(tmp_path / "out" / "pages.tif")
    for page, source in zip(pages, read_frames(tmp_path / "in" / "pages.tif"), strict=True):
        np.testing.assert_array_equal(page, source[:, ::-1])


def test_what_an_output_format_cannot_hold_is_reported(tmp_path: Path) -> None:
    """Item 4: JPEG holds no alpha and no 16 bits; float values are scaled, not clipped."""
    kept_inputs(tmp_path / "in")
    result = process(
        "compress", "--format", "jpeg", tmp_path / "in", "-o", tmp_path / "out", "--json"
    )
    assert result.code == 0, result.stderr
    lost = {Path(row["path"]).name: row["lost"] for row in result.json()["results"]}
    assert lost["alpha.png"] == ["alpha flattened onto white: compress writes no alpha channel"]
    assert lost["deep.png"] == ["uint16 pixels written as uint8: compress writes 8 bits"]
    assert lost["pages.tif"] == ["frames 2-3 dropped: compress writes one frame"]
    assert lost["float.tif"] == ["float32 pixels written as uint8: compress writes 8 bits"]
    assert read_image(tmp_path / "out" / "float.jpg", "gray").max() > 240  # not all black


# --- 5. workers die with their parent ---------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    """Item 5: kill -9 of ``process denoise -w 2`` leaves no worker behind."""
    for index in range(30):
        write_image(tmp_path / "in" / f"{index:02d}.png", photo(index, (300, 300, 3)))
    parent = subprocess.Popen(
        [sys.executable, "-m", "deepimage", "process", "denoise", str(tmp_path / "in"),
         "-o", str(tmp_path / "out"), "-w", "2", "--quiet"],
        env=cli_env(), start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert len(workers) >= 2, "the workers never started"
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"


# --- 9, 10, 11. bounded work, finite options, checked before the first image ------------


@pytest.fixture
def two_images(tmp_path: Path) -> Path:
    for index in range(2):
        write_image(tmp_path / "in" / f"{index}.png", photo(index))
    return tmp_path / "in"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["blur", "--sigma", "100000"], ["sigma must be between 0 and 125"]),
        (["blur", "--sigma", "nan"], ["sigma", "not a finite number"]),
        (["blur", "--sigma", "inf"], ["sigma", "not a finite number"]),
        (["blur", "--sigma", "1e9"], ["sigma must be between"]),
        (["resize", "--width", "60000", "--height", "60000"], ["over the limit", "pixels"]),
        (["resize"], ["resize needs width, height or max_side"]),
        (["crop", "--box", "1,2,3"], ["crop box must be x1,y1,x2,y2"]),
        (["blur", "--ksize", "99999999999999999999"], ["ksize", "too large"]),
        (["blur", "--method", "bilateral", "--diameter", "5000"], ["diameter"]),
        (["denoise", "--search-window", "1001"], ["search_window"]),
        (["erode", "--iterations", "1000000"], ["iterations"]),
        (["kmeans-quantize", "--k", "100000"], ["k must be"]),
        (["compress", "--target-bytes", "0"], ["target_bytes"]),
        (["compress", "--format", "png", "--quality", "50"], ["lossless"]),
        (
            ["pad", *(f"--{side}=10000" for side in ("top", "bottom", "left", "right"))],
            ["over the limit"],
        ),
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("skip_bad", [False, True], ids=["", "skip-bad"])
def test_options_are_refused_before_the_first_image(
    two_images: Path, tmp_path: Path, args: list[str], words: list[str], skip_bad: bool
) -> None:
    """Items 9-11: a clear error at once, even with --skip-bad, and nothing written."""
    flags = ["--skip-bad"] if skip_bad else []
    result = process(*args, two_images, "-o", tmp_path / "out", *flags, timeout=60)
    assert_clean_error(result, *words)
    assert "--skip-bad" not in result.stderr  # not an image's fault
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("skip_bad", [False, True], ids=["", "skip-bad"])
def test_an_unwritable_output_folder_is_one_clear_error(
    two_images: Path, tmp_path: Path, skip_bad: bool
) -> None:
    """Items 10-11: -o under a file cannot be created; said once, before any image."""
    (tmp_path / "file").write_text("")
    flags = ["--skip-bad"] if skip_bad else []
    result = process("blur", two_images, "-o", tmp_path / "file" / "out", *flags)
    assert_clean_error(result, "cannot write in the output folder", "file/out")


def test_a_resize_too_big_for_one_image_is_that_images_error(
    two_images: Path, tmp_path: Path
) -> None:
    """Item 9: a size that depends on the image is refused before allocating it."""
    result = process("resize", "--width", "60000", two_images, "-o", tmp_path / "out", timeout=60)
    assert_clean_error(result, "0.png", "would make a 60000x45000 image", "--skip-bad")


def test_a_jpeg_whose_header_claims_far_more_pixels_is_bad(tmp_path: Path) -> None:
    """Item 9: a 56 KB JPEG whose header says 9000x9000 (81 Mpx, under the pixel limit)."""
    write_image(tmp_path / "in" / "good.png", photo(0))
    write_image(tmp_path / "small.jpg", photo(1, (200, 300, 3)), quality=95)
    data = bytearray((tmp_path / "small.jpg").read_bytes())
    frame = data.find(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 9000, 9000)
    (tmp_path / "in" / "bomb.jpg").write_bytes(bytes(data))
    result = process("blur", tmp_path / "in", "-o", tmp_path / "out", "--skip-bad", "--json")
    assert result.code == 0, result.stderr
    (skipped,) = result.json()["skipped"]
    assert skipped["path"].endswith("bomb.jpg") and "9000x9000" in skipped["reason"]


# --- 14. unreadable folders, existing outputs -------------------------------------------


def _without_root_powers() -> list[str]:
    """A command prefix under which a mode-000 folder is unreadable: none for a user;
    for root, a user namespace (root there cannot override permissions on files owned by
    users it does not map)."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-r", "true"]).returncode != 0:
        pytest.skip("running as root without user namespaces: every folder is readable")
    return [unshare, "-r"]


def test_an_unreadable_subfolder_is_reported_as_skipped(tmp_path: Path) -> None:
    """Item 14: a mode-000 folder is listed under skipped with the reason."""
    prefix = _without_root_powers()
    write_image(tmp_path / "in" / "a.png", photo(0))
    write_image(tmp_path / "in" / "locked" / "b.png", photo(1))
    locked = tmp_path / "in" / "locked"
    if prefix:
        os.chown(locked, 12345, 12345)
    locked.chmod(0)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "deepimage", "process", "blur", str(tmp_path / "in"),
             "-o", str(tmp_path / "out"), "--json", "--quiet"],
            capture_output=True, text=True, env=cli_env(), timeout=120,
        )  # fmt: skip
    finally:
        locked.chmod(0o755)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert [Path(row["path"]).name for row in report["results"]] == ["a.png"]
    (skipped,) = report["skipped"]
    assert skipped["path"] == str(locked) and "cannot read the folder" in skipped["reason"]
    assert report["totals"]["skipped"] == 1


def test_existing_outputs_are_never_replaced_silently(two_images: Path, tmp_path: Path) -> None:
    """Item 14: refused naming the file and both flags; --overwrite replaces,
    --skip-existing keeps."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "0.png").write_bytes(b"keep me")
    refused = process("blur", two_images, "-o", out)
    assert_clean_error(
        refused, str(out / "0.png"), "already exists", "--overwrite", "--skip-existing"
    )
    assert (out / "0.png").read_bytes() == b"keep me" and not (out / "1.png").exists()
    kept = process("blur", two_images, "-o", out, "--skip-existing", "--json")
    assert kept.code == 0 and kept.json()["totals"]["skipped_existing"] == 1
    assert (out / "0.png").read_bytes() == b"keep me"
    replaced = process("blur", two_images, "-o", out, "--overwrite", "--json")
    assert replaced.code == 0 and replaced.json()["totals"]["processed"] == 2
    outputs_decode(out)
    both = process("blur", two_images, "-o", out, "--overwrite", "--skip-existing")
    assert_clean_error(both, "pass one")


# --- the other subcommands: pipeline, compress, watershed ------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- {op: blur, sigma: .nan}\n", ["step 1 (blur)", "not a finite number"]),
        ("- {op: resize}\n", ["step 1 (resize)", "needs width, height or max_side"]),
        ("- {op: blur, sigma: [[1, 2], [3]]}\n", ["step 1 (blur)", "flat list"]),
        ("- {op: blur, 3: 4}\n", ["step 1 (blur)", "option names are words"]),
        (
            "- {op: blur, x: &a [1, 1, 1, 1, 1, 1, 1, 1], y: &b [*a, *a, *a, *a, *a, *a],\n"
            "   sigma: [*b, *b, *b, *b, *b, *b, *b, *b]}\n",
            ["step 1 (blur)", "flat list"],
        ),
        ("- {op: crop, box: &a [*a]}\n", []),
        ("[" * 20000 + "]" * 20000, ["nested too deeply"]),
    ],
    ids=["nan", "missing size", "nested list", "number key", "aliases", "self alias", "deep"],
)
def test_bad_pipeline_files_are_clear_errors(
    two_images: Path, tmp_path: Path, text: str, words: list[str]
) -> None:
    spec = tmp_path / "steps.yaml"
    spec.write_text(text)
    result = process("pipeline", spec, two_images, "-o", tmp_path / "out", "--skip-bad", timeout=60)
    assert_clean_error(result, str(spec), *words)
    assert not (tmp_path / "out").exists()


def test_a_binary_pipeline_file_is_a_clear_error(two_images: Path, tmp_path: Path) -> None:
    spec = tmp_path / "steps.yaml"
    spec.write_bytes(b"\xff\xfe\x00\x81 not yaml")
    assert_clean_error(
        process("pipeline", spec, two_images, "-o", tmp_path / "out"), "not a text file"
    )


def test_watershed_labels_are_written_as_an_image(tmp_path: Path) -> None:
    """watershed returns int32 labels, which no output could take before."""
    disks = np.zeros((40, 80), np.uint8)
    disks[10:30, 10:30] = disks[10:30, 50:70] = 255
    write_image(tmp_path / "in" / "disks.png", disks)
    result = process("watershed", tmp_path / "in", "-o", tmp_path / "out", "--json")
    assert result.code == 0, result.stderr
    labels = read_image(tmp_path / "out" / "disks.png", "keep")
    assert labels.dtype == np.uint16 and set(np.unique(labels)) >= {0, 1, 2}

"""deepimage.io.images: decoding every image kind safely, refusing bad files, atomic writes."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageFile

from deepimage.errors import BadImageError, DeepImageError
from deepimage.io import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, probe_image, read_image, write_image
from deepimage.io.images import read_frames, read_mask
from deepimage.io.writing import format_holds, write_frames


def _bilevel_png(path: Path, width: int, height: int) -> Path:
    """A valid all-black 1-bit PNG of any size, built row by row in a few MB of memory."""
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def _noise_jpeg(path: Path, size: int = 64) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def _bad_reason(path: Path, **kwargs: int) -> str:
    with pytest.raises(BadImageError) as caught:
        read_image(path, **kwargs)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    return caught.value.reason


def test_constants() -> None:
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"} <= IMAGE_EXTENSIONS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_rgb_png_in_three_modes(tmp_path: Path) -> None:
    pixels = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 255]]], np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    rgb = read_image(tmp_path / "a.png")
    assert rgb.dtype == np.uint8 and rgb.flags.writeable
    np.testing.assert_array_equal(rgb, pixels)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png", "keep"), pixels)
    gray = read_image(tmp_path / "a.png", "gray")
    assert gray.shape == (2, 2) and gray[1, 1] == 255 and gray[0, 0] == 76  # ITU-R 601 luma


def test_gray_and_bilevel(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 100]], np.uint8)).save(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png", "keep").shape == (1, 2)
    np.testing.assert_array_equal(read_image(tmp_path / "g.png")[0, 1], [100, 100, 100])
    Image.new("1", (3, 2), 1).save(tmp_path / "b.png")
    bilevel = read_image(tmp_path / "b.png", "keep")
    assert bilevel.dtype == np.uint8 and bilevel.shape == (2, 3) and (bilevel == 255).all()


def test_16bit_png_keeps_uint16_and_scales_to_8bit(tmp_path: Path) -> None:
    values = np.array([[0, 128, 129, 257, 32896, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    kept = read_image(tmp_path / "deep.png", "keep")
    assert kept.dtype == np.uint16
    np.testing.assert_array_equal(kept, values)
    np.testing.assert_array_equal(
        read_image(tmp_path / "deep.png", "gray"), [[0, 0, 1, 1, 128, 255]]
    )
    assert read_image(tmp_path / "deep.png").shape == (1, 6, 3)
    info = probe_image(tmp_path / "deep.png")
    assert (info.mode, info.bit_depth, info.channels) == ("I;16", 16, 1)


def test_16bit_pgm(tmp_path: Path) -> None:
    values = np.array([[0, 1000, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.pgm")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.pgm", "keep"), values)
    np.testing.assert_array_equal(read_image(tmp_path / "deep.pgm", "gray"), [[0, 4, 255]])


def test_cmyk_jpeg(tmp_path: Path) -> None:
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "cyan.jpg")  # pure cyan
    rgb = read_image(tmp_path / "cyan.jpg")
    assert rgb.shape == (8, 8, 3)
    np.testing.assert_allclose(rgb[4, 4], [0, 255, 255], atol=8)
    assert probe_image(tmp_path / "cyan.jpg").mode == "CMYK"


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "p.png", transparency=0)
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), [[[255, 255, 255], [255, 0, 0]]])
    kept = read_image(tmp_path / "p.png", "keep")
    assert kept.shape == (1, 2, 4) and kept[0, :, 3].tolist() == [0, 255]
    info = probe_image(tmp_path / "p.png")
    assert (info.mode, info.channels) == ("P", 4)


def test_alpha_is_composited_on_white(tmp_path: Path) -> None:
    Image.fromarray(np.array([[[0, 0], [0, 255]]], np.uint8), "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png", "gray"), [[255, 0]])
    assert read_image(tmp_path / "la.png", "keep").shape == (1, 2, 4)
    rgba = np.array([[[0, 0, 0, 128], [10, 20, 30, 255]]], np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    rgb = read_image(tmp_path / "rgba.png")
    np.testing.assert_allclose(rgb[0, 0], [127, 127, 127], atol=1)
    np.testing.assert_array_equal(rgb[0, 1], [10, 20, 30])
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png", "keep"), rgba)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, :16] = (255, 0, 0)  # left half red
    stored[:, 16:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(stored).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    image = read_image(tmp_path / "rotated.jpg")
    assert image.shape == (32, 16, 3)
    assert image[4, 8, 0] > 200 and image[4, 8, 2] < 50  # left became top
    assert image[28, 8, 2] > 200 and image[28, 8, 0] < 50
    info = probe_image(tmp_path / "rotated.jpg")
    assert (info.width, info.height) == (16, 32)


def test_gif_without_extension_and_wrong_extension(tmp_path: Path) -> None:
    Image.fromarray(np.full((5, 7), 9, np.uint8)).save(tmp_path / "subject01.happy", "GIF")
    assert read_image(tmp_path / "subject01.happy", "gray").shape == (5, 7)
    assert probe_image(tmp_path / "subject01.happy").format == "GIF"
    Image.new("RGB", (3, 3), (1, 2, 3)).save(tmp_path / "really_png.jpg", "PNG")
    np.testing.assert_array_equal(read_image(tmp_path / "really_png.jpg")[0, 0], [1, 2, 3])


def test_missing_empty_folder_and_text_files_are_bad(tmp_path: Path) -> None:
    assert "not found" in _bad_reason(tmp_path / "missing.png")
    (tmp_path / "empty.png").touch()
    assert "zero-byte" in _bad_reason(tmp_path / "empty.png")
    assert "folder" in _bad_reason(tmp_path)
    (tmp_path / "notes.png").write_text("hello, I am not a picture\n")
    reason = _bad_reason(tmp_path / "notes.png")
    assert "not an image" in reason and ".png" in reason


def test_truncated_jpeg_and_png_are_bad(tmp_path: Path) -> None:
    data = _noise_jpeg(tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert "truncated" in _bad_reason(tmp_path / "cut.jpg")
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64), np.uint8)).save(
        tmp_path / "full.png"
    )
    (tmp_path / "cut.png").write_bytes((tmp_path / "full.png").read_bytes()[:1500])
    assert "truncated" in _bad_reason(tmp_path / "cut.png")
    with pytest.raises(BadImageError):
        probe_image(tmp_path / "cut.jpg")


def test_huge_png_is_refused_from_its_header(tmp_path: Path) -> None:
    path = _bilevel_png(tmp_path / "huge.png", 20_000, 20_000)
    assert path.stat().st_size < 1_000_000
    assert "pixels" in _bad_reason(path)
    with pytest.raises(BadImageError):
        probe_image(path)


def test_pillow_bomb_warning_becomes_bad_image(tmp_path: Path) -> None:
    path = _bilevel_png(tmp_path / "big.png", 10_000, 9_000)  # between 1x and 2x Pillow's limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reason = _bad_reason(path)
    assert "10000x9000" in reason and "max_pixels" in reason


def test_max_pixels_is_checked_before_decoding(tmp_path: Path) -> None:
    Image.new("L", (40, 30)).save(tmp_path / "small.png")
    assert "1,200 pixels" in _bad_reason(tmp_path / "small.png", max_pixels=1000)
    assert read_image(tmp_path / "small.png", max_pixels=1200).shape == (30, 40, 3)


def test_truncated_images_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(DeepImageError, match="LOAD_TRUNCATED_IMAGES"):
        read_image(tmp_path / "a.png")


def test_bad_mode_argument(tmp_path: Path) -> None:
    with pytest.raises(DeepImageError, match="mode"):
        read_image(tmp_path / "a.png", "bgr")  # type: ignore[arg-type]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_no_file_handles_are_left_open(tmp_path: Path) -> None:
    good = _noise_jpeg(tmp_path / "good.jpg")
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:500])
    (tmp_path / "text.png").write_text("text")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        read_image(good)
        probe_image(good)
        for bad in ("cut.jpg", "text.png"):
            with pytest.raises(BadImageError):
                read_image(tmp_path / bad)
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("name", ["a.png", "a.bmp", "a.tif", "a.tiff", "a.webp"])
def test_lossless_write_round_trip(tmp_path: Path, name: str) -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    write_image(tmp_path / "sub" / name, pixels)
    decoded = read_image(tmp_path / "sub" / name)
    if name.endswith(".webp"):  # lossy by default: only the shape survives exactly
        assert decoded.shape == pixels.shape
    else:
        np.testing.assert_array_equal(decoded, pixels)


def test_write_gray_uint16_and_jpeg_quality(tmp_path: Path) -> None:
    deep = np.array([[0, 40000, 65535]], np.uint16)
    write_image(tmp_path / "deep.png", deep)
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png", "keep"), deep)
    write_image(tmp_path / "g.png", np.zeros((3, 4, 1), np.uint8))
    assert read_image(tmp_path / "g.png", "keep").shape == (3, 4)
    noise = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    write_image(tmp_path / "low.jpg", noise, quality=10)
    write_image(tmp_path / "high.jpeg", noise, quality=95)
    assert (tmp_path / "low.jpg").stat().st_size < (tmp_path / "high.jpeg").stat().st_size


@pytest.mark.parametrize(
    ("name", "array", "quality", "message"),
    [
        ("a.gif", np.zeros((2, 2), np.uint8), None, "cannot write .gif"),
        ("noext", np.zeros((2, 2), np.uint8), None, "without extension"),
        ("a.png", np.zeros((2, 2), np.float32), None, "float32"),
        ("a.png", np.zeros((2, 2, 2), np.uint8), None, "shape"),
        ("a.jpg", np.zeros((2, 2), np.uint16), None, "uint16"),
        ("a.jpg", np.zeros((2, 2, 4), np.uint8), None, "alpha"),
        ("a.png", np.zeros((2, 2), np.uint8), 90, "quality"),
        ("a.jpg", np.zeros((2, 2), np.uint8), 0, "between 1 and 100"),
    ],
)
def test_write_refuses_what_it_cannot_write(
    tmp_path: Path, name: str, array: np.ndarray, quality: int | None, message: str
) -> None:
    with pytest.raises(DeepImageError, match=message):
        write_image(tmp_path / name, array, quality=quality)
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    write_image(target, np.zeros((2, 2), np.uint8))
    before = target.read_bytes()

    def failing_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(DeepImageError, match="disk full"):
        write_image(target, np.full((2, 2), 255, np.uint8))
    assert target.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["out.png"]


@settings(max_examples=25, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3]))))
def test_png_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, pixels: np.ndarray
) -> None:
    path = tmp_path_factory.mktemp("prop") / "x.png"
    write_image(path, pixels)
    kept = read_image(path, "keep")
    np.testing.assert_array_equal(kept, pixels[..., 0] if pixels.shape[2] == 1 else pixels)


def test_16bit_colour_keeps_its_depth_and_orientation(tmp_path: Path) -> None:
    deep = np.random.default_rng(4).integers(0, 65536, (16, 24, 4), dtype=np.uint16)
    write_image(tmp_path / "deep.png", deep)
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png", "keep"), deep)
    assert probe_image(tmp_path / "deep.png").bit_depth == 16
    np.testing.assert_array_equal(
        read_image(tmp_path / "deep.png"), read_image(tmp_path / "deep.png", "rgb")
    )  # the 8-bit modes still come from Pillow
    tifffile = pytest.importorskip("tifffile")
    stored = np.zeros((16, 32, 3), np.uint16)
    stored[:, :16] = (65535, 0, 0)  # left half red
    orientation = (0x0112, 3, 1, 6, True)  # rotate 90 degrees clockwise to display
    tifffile.imwrite(tmp_path / "with_exif.tif", stored, photometric="rgb", extratags=[orientation])
    upright = read_image(tmp_path / "with_exif.tif", "keep")
    assert upright.dtype == np.uint16 and upright.shape == (32, 16, 3)
    assert upright[2, 8, 0] == 65535 and upright[30, 8, 0] == 0  # left became top


def test_frames_are_read_and_written_and_bounded_together(tmp_path: Path) -> None:
    pages = [np.full((10, 20), value, np.uint8) for value in (1, 2, 3)]
    write_frames(tmp_path / "pages.tif", pages)
    assert [int(page[0, 0]) for page in read_frames(tmp_path / "pages.tif")] == [1, 2, 3]
    assert read_image(tmp_path / "pages.tif", "keep")[0, 0] == 1
    with pytest.raises(BadImageError, match="3 frames hold more than 500 pixels"):
        read_frames(tmp_path / "pages.tif", max_pixels=500)
    with pytest.raises(DeepImageError, match="PNG holds one frame, not 3"):
        write_frames(tmp_path / "pages.png", pages)


def test_float_and_wide_integer_tiffs_round_trip(tmp_path: Path) -> None:
    floats = np.array([[-1.5, 0.25, 1e6]], np.float32)
    write_image(tmp_path / "f.tif", floats)
    np.testing.assert_array_equal(read_image(tmp_path / "f.tif", "keep"), floats)
    wide = np.array([[-70000, 0, 70000]], np.int32)
    write_image(tmp_path / "i.tif", wide)
    np.testing.assert_array_equal(read_image(tmp_path / "i.tif", "keep"), wide)
    assert format_holds(tmp_path / "f.webp").alpha and not format_holds("a.bmp").alpha


def test_a_jpeg_header_claiming_more_pixels_than_its_bytes_hold_is_bad(tmp_path: Path) -> None:
    data = bytearray(_noise_jpeg(tmp_path / "small.jpg", 128).read_bytes())
    frame = data.find(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 9000, 9000)
    (tmp_path / "forged.jpg").write_bytes(bytes(data))
    reason = _bad_reason(tmp_path / "forged.jpg")
    assert "9000x9000" in reason and "too few to hold them" in reason
    flat = tmp_path / "flat.jpg"
    Image.new("L", (3000, 3000), 128).save(flat, quality=5, optimize=True)
    assert read_image(flat, "gray").shape == (3000, 3000)  # the most compressible real JPEG


# --- read_mask ----------------------------------------------------------------------------


def test_masks_keep_their_raw_values(tmp_path: Path) -> None:
    indices = np.array([[0, 1, 255], [20, 1, 0]], np.uint8)
    palette_mask = Image.fromarray(indices, "P")
    palette_mask.putpalette([0, 0, 0, 128, 0, 0] + [9, 9, 9] * 254)
    palette_mask.save(tmp_path / "p.png")
    values, palette = read_mask(tmp_path / "p.png")
    assert values.dtype == np.uint8 and values.flags.writeable
    np.testing.assert_array_equal(values, indices)  # indices, not colours
    assert palette is not None and palette.shape == (256, 3) and palette.dtype == np.uint8
    assert palette[1].tolist() == [128, 0, 0] and palette[255].tolist() == [9, 9, 9]
    grey = np.array([[0, 7, 200]], np.uint8)
    write_image(tmp_path / "l.png", grey)
    values, palette = read_mask(tmp_path / "l.png")
    assert palette is None and values.dtype == np.uint8
    np.testing.assert_array_equal(values, grey)
    deep = np.array([[0, 300, 65535]], np.uint16)
    write_image(tmp_path / "16.png", deep)
    values, _ = read_mask(tmp_path / "16.png")
    assert values.dtype == np.uint16
    np.testing.assert_array_equal(values, deep)  # not narrowed to 8 bits
    wide = np.array([[0, 70000]], np.int32)
    write_image(tmp_path / "i.tif", wide)
    values, _ = read_mask(tmp_path / "i.tif")
    assert values.dtype == np.int32
    np.testing.assert_array_equal(values, wide)


def test_bilevel_masks_read_as_0_and_255_and_colour_masks_drop_alpha(tmp_path: Path) -> None:
    bits = Image.new("1", (3, 2), 0)
    bits.putpixel((2, 1), 1)
    bits.save(tmp_path / "b.png")
    values, palette = read_mask(tmp_path / "b.png")
    assert values.dtype == np.uint8 and palette is None
    assert values.tolist() == [[0, 0, 0], [0, 0, 255]]
    rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 255]]], np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    values, palette = read_mask(tmp_path / "rgba.png")
    assert values.shape == (1, 2, 3) and palette is None
    assert values.tolist() == [[[10, 20, 30], [40, 50, 60]]]  # not composited on white


def test_masks_turn_with_their_exif_orientation_like_images(tmp_path: Path) -> None:
    stored = np.zeros((2, 4), np.uint8)
    stored[:, :2] = 1  # left half class 1
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    mask = Image.fromarray(stored, "P")
    mask.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    mask.save(tmp_path / "rotated.png", exif=exif)
    values, _ = read_mask(tmp_path / "rotated.png")
    assert values.shape == (4, 2) == read_image(tmp_path / "rotated.png", "gray").shape
    assert values.tolist() == [[1, 1], [1, 1], [0, 0], [0, 0]]  # left became top


def test_bad_masks_are_bad_images(tmp_path: Path) -> None:
    (tmp_path / "text.png").write_text("not a mask")
    (tmp_path / "empty.png").touch()
    write_image(tmp_path / "f.tif", np.array([[0.5, 1.0]], np.float32))
    for name, reason in [
        ("text.png", "not an image"),
        ("empty.png", "zero-byte"),
        ("missing.png", "not found"),
        ("f.tif", "floating point"),
    ]:
        with pytest.raises(BadImageError, match=reason) as caught:
            read_mask(tmp_path / name)
        assert caught.value.path == str(tmp_path / name)
    write_image(tmp_path / "big.png", np.zeros((40, 50), np.uint8))
    with pytest.raises(BadImageError, match="over the limit of 1,000"):
        read_mask(tmp_path / "big.png", max_pixels=1000)

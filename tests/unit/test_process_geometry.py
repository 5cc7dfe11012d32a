from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, assert_matches, photo

from deepimage.errors import DeepImageError
from deepimage.process import (
    center_crop,
    crop,
    flip,
    pad,
    resize,
    rotate,
    to_float32,
    translate,
    warp_affine,
    warp_perspective,
)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("interpolation", "flag"),
    [("nearest", cv2.INTER_NEAREST), ("area", cv2.INTER_AREA), ("lanczos", cv2.INTER_LANCZOS4)],
)
def test_resize_matches_opencv(name: str, interpolation: str, flag: int) -> None:
    image = photo(name)
    ours = resize(image, 100, 80, interpolation=interpolation)
    assert_matches(ours, cv2.resize(image, (100, 80), interpolation=flag))


@pytest.mark.parametrize("name", PHOTOS)
def test_resize_keeps_aspect_ratio(name: str) -> None:
    image = photo(name)
    h, w = image.shape[:2]
    assert resize(image, width=128).shape[:2] == (round(h * 128 / w), 128)
    assert resize(image, height=64).shape[:2] == (64, round(w * 64 / h))
    by_side = resize(image, max_side=100)
    assert max(by_side.shape[:2]) == 100
    assert by_side.ndim == image.ndim


def test_resize_letterbox_pads_with_fill_and_centres() -> None:
    image = np.full((50, 100, 3), 200, np.uint8)
    boxed = resize(image, 64, 64, letterbox=True, fill=(1, 2, 3))
    assert boxed.shape == (64, 64, 3)
    assert boxed[:16].tolist() == [[[1, 2, 3]] * 64] * 16
    assert (boxed[16:48] == 200).all()
    assert (boxed[48:] == (1, 2, 3)).all()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"width": 10, "max_side": 5}, {"width": 10, "letterbox": True}, {"width": 0}],
)
def test_resize_rejects_bad_sizes(kwargs: dict) -> None:
    with pytest.raises(DeepImageError):
        resize(photo("camera"), **kwargs)


@pytest.mark.parametrize("name", PHOTOS)
def test_rotate_matches_opencv(name: str) -> None:
    image = photo(name)
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 30, 1.0)
    reference = cv2.warpAffine(image, matrix, (w, h), borderValue=(0, 0, 0, 0))
    assert_matches(rotate(image, 30), reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_rotate_90_with_expand_is_exact(name: str) -> None:
    image = photo(name)
    np.testing.assert_array_equal(rotate(image, 90, expand=True), np.rot90(image))
    np.testing.assert_array_equal(rotate(image, -90, expand=True), np.rot90(image, -1))


@pytest.mark.parametrize("angle", [17, 45, 135, -60])
def test_rotate_expand_keeps_the_whole_image(angle: float) -> None:
    white = np.full((60, 100), 255, np.uint8)
    expanded = rotate(white, angle, expand=True, interpolation="nearest")
    kept = rotate(white, angle, interpolation="nearest")
    # Every input pixel lands somewhere: the covered area equals the input area, up to the
    # one-pixel border, and the rotated shape touches all four canvas edges.
    assert abs(np.count_nonzero(expanded) - white.size) < 2 * (60 + 100)
    assert np.count_nonzero(kept) < white.size - 500
    rows, cols = np.nonzero(expanded)
    assert rows.min() <= 1 and cols.min() <= 1
    assert rows.max() >= expanded.shape[0] - 2 and cols.max() >= expanded.shape[1] - 2


def test_rotate_fill_colour() -> None:
    rotated = rotate(np.zeros((20, 20, 3), np.uint8), 45, expand=True, fill=(255, 0, 0))
    assert rotated[0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize("name", PHOTOS)
def test_crop_and_center_crop(name: str) -> None:
    image = photo(name)
    np.testing.assert_array_equal(crop(image, (10, 20, 110, 70)), image[20:70, 10:110])
    h, w = image.shape[:2]
    centre = center_crop(image, 100, 50)
    top, left = (h - 50) // 2, (w - 100) // 2
    np.testing.assert_array_equal(centre, image[top : top + 50, left : left + 100])


@pytest.mark.parametrize("box", [(0, 0, 0, 10), (10, 10, 5, 20), (0, 0, 300, 10), (-1, 0, 5, 5)])
def test_crop_rejects_boxes_outside_or_empty(box: tuple) -> None:
    with pytest.raises(DeepImageError, match="crop box"):
        crop(photo("camera"), box)


def test_crop_returns_a_copy() -> None:
    image = np.zeros((10, 10), np.uint8)
    crop(image, (0, 0, 5, 5))[:] = 7
    assert image.sum() == 0


@pytest.mark.parametrize("name", PHOTOS)
def test_translate_matches_opencv(name: str) -> None:
    image = photo(name)
    h, w = image.shape[:2]
    matrix = np.float64([[1, 0, 12.5], [0, 1, -7]])
    reference = cv2.warpAffine(image, matrix, (w, h), borderValue=(9, 9, 9, 9))
    assert_matches(translate(image, 12.5, -7, fill=9), reference)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(("direction", "code"), [("horizontal", 1), ("vertical", 0), ("both", -1)])
def test_flip_matches_opencv(name: str, direction: str, code: int) -> None:
    image = photo(name)
    np.testing.assert_array_equal(flip(image, direction), cv2.flip(image, code))


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("mode", "border"),
    [
        ("constant", cv2.BORDER_CONSTANT),
        ("reflect", cv2.BORDER_REFLECT_101),
        ("symmetric", cv2.BORDER_REFLECT),
        ("replicate", cv2.BORDER_REPLICATE),
    ],
)
def test_pad_matches_opencv(name: str, mode: str, border: int) -> None:
    image = photo(name)
    reference = cv2.copyMakeBorder(image, 1, 2, 3, 4, border, value=(5, 5, 5, 5))
    np.testing.assert_array_equal(pad(image, 1, 2, 3, 4, mode=mode, fill=5), reference)


def test_pad_reflect_is_numpy_reflect() -> None:
    row = np.array([[1, 2, 3]], np.uint8)
    np.testing.assert_array_equal(
        pad(row, left=2, mode="reflect"), np.pad(row, ((0, 0), (2, 0)), "reflect")
    )
    np.testing.assert_array_equal(
        pad(row, left=2, mode="symmetric"), np.pad(row, ((0, 0), (2, 0)), "symmetric")
    )


@pytest.mark.parametrize("name", PHOTOS)
def test_warp_affine_matches_opencv(name: str) -> None:
    image = photo(name)
    matrix = np.float64([[0.9, 0.2, 5], [-0.1, 1.1, 3]])
    reference = cv2.warpAffine(image, matrix, (200, 150), flags=cv2.INTER_CUBIC)
    ours = warp_affine(image, matrix.ravel().tolist(), 200, 150, interpolation="cubic")
    assert_matches(ours, reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_warp_perspective_matches_opencv(name: str) -> None:
    image = photo(name)
    src = np.float32([[0, 0], [200, 10], [190, 180], [5, 170]])
    dst = np.float32([[0, 0], [199, 0], [199, 199], [0, 199]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    reference = cv2.warpPerspective(image, matrix, (200, 200))
    assert_matches(warp_perspective(image, matrix, width=200, height=200), reference)
    by_points = warp_perspective(image, src_points=src, dst_points=dst, width=200, height=200)
    assert_matches(by_points, reference)


def test_warps_reject_bad_matrices() -> None:
    image = photo("camera")
    with pytest.raises(DeepImageError, match="2x3"):
        warp_affine(image, [1, 0, 0, 1])
    with pytest.raises(DeepImageError, match="either matrix"):
        warp_perspective(image)
    with pytest.raises(DeepImageError, match="either matrix"):
        warp_perspective(image, np.eye(3), src_points=np.zeros((4, 2)), dst_points=np.zeros((4, 2)))


@pytest.mark.parametrize(
    "op",
    [
        lambda im: resize(im, 50, 40),
        lambda im: rotate(im, 33, expand=True),
        lambda im: translate(im, 3, 4),
        lambda im: flip(im, "both"),
        lambda im: pad(im, 2, 2, 2, 2, mode="reflect"),
        lambda im: center_crop(im, 20, 20),
    ],
)
@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_geometry_keeps_dtype_and_channels(op, name: str) -> None:
    for image in (photo(name), to_float32(photo(name))):
        out = op(image)
        assert out.dtype == image.dtype
        assert out.ndim == image.ndim


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.int64),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((0, 4), np.uint8),
        [[0, 1], [2, 3]],
    ],
)
def test_bad_images_raise_with_advice(bad) -> None:
    with pytest.raises(DeepImageError, match=r"pass|convert"):
        flip(bad)


def test_unknown_choice_lists_the_choices() -> None:
    with pytest.raises(DeepImageError, match="nearest, linear, cubic, area, lanczos"):
        resize(photo("camera"), 10, 10, interpolation="bicubic")

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, assert_matches, photo

from deepimage.errors import DeepImageError
from deepimage.process import (
    bilateral_filter,
    box_blur,
    gaussian_blur,
    median_blur,
    sharpen,
    to_float32,
)


@pytest.mark.parametrize("name", PHOTOS)
def test_gaussian_blur_matches_opencv(name: str) -> None:
    image = photo(name)
    np.testing.assert_array_equal(
        gaussian_blur(image, sigma=2.0), cv2.GaussianBlur(image, (0, 0), 2.0)
    )
    np.testing.assert_array_equal(
        gaussian_blur(image, sigma=0, ksize=7), cv2.GaussianBlur(image, (7, 7), 0)
    )
    np.testing.assert_array_equal(
        gaussian_blur(image, sigma=1.5, ksize=5), cv2.GaussianBlur(image, (5, 5), 1.5)
    )


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("ksize", [3, 7])
def test_median_blur_matches_opencv(name: str, ksize: int) -> None:
    image = photo(name)
    np.testing.assert_array_equal(median_blur(image, ksize), cv2.medianBlur(image, ksize))
    floats = to_float32(image)
    assert_matches(median_blur(floats, ksize), to_float32(cv2.medianBlur(image, ksize)))


@pytest.mark.parametrize("name", PHOTOS)
def test_bilateral_filter_matches_opencv(name: str) -> None:
    image = photo(name)
    reference = cv2.bilateralFilter(image, 7, 50, 5)
    np.testing.assert_array_equal(bilateral_filter(image, 7, 50, 5), reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_box_blur_matches_opencv(name: str) -> None:
    image = photo(name)
    np.testing.assert_array_equal(box_blur(image, 5), cv2.blur(image, (5, 5)))


@pytest.mark.parametrize("name", PHOTOS)
def test_sharpen_matches_opencv_unsharp_mask(name: str) -> None:
    image = photo(name)
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    reference = cv2.addWeighted(image, 1.8, blurred, -0.8, 0)
    assert_matches(sharpen(image, amount=0.8, sigma=2.0), reference)


def test_sharpen_threshold_leaves_small_detail() -> None:
    image = photo("camera")
    sharp = sharpen(image, amount=1.0, sigma=1.0, threshold=30)
    detail = np.abs(image.astype(int) - cv2.GaussianBlur(image, (0, 0), 1.0).astype(int))
    small = detail < 29
    np.testing.assert_array_equal(sharp[small], image[small])
    assert not np.array_equal(sharp, image)


@pytest.mark.parametrize(
    "op",
    [
        lambda im: gaussian_blur(im, 1.0),
        lambda im: median_blur(im, 5),
        lambda im: bilateral_filter(im, 5, 0.1, 3),
        lambda im: box_blur(im, 3),
        lambda im: sharpen(im),
    ],
)
@pytest.mark.parametrize("name", ["camera", "coffee"])
def test_filters_keep_dtype_and_shape(op, name: str) -> None:
    for image in (photo(name), to_float32(photo(name))):
        out = op(image)
        assert out.dtype == image.dtype
        assert out.shape == image.shape


@pytest.mark.parametrize(
    "call",
    [
        lambda: gaussian_blur(photo("camera"), sigma=0, ksize=0),
        lambda: gaussian_blur(photo("camera"), ksize=4),
        lambda: median_blur(photo("camera"), 4),
        lambda: median_blur(photo("camera"), 1),
        lambda: box_blur(photo("camera"), 0),
        lambda: sharpen(photo("camera"), sigma=0),
    ],
)
def test_bad_filter_arguments_raise(call) -> None:
    with pytest.raises(DeepImageError):
        call()

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import adaptive_threshold, otsu_threshold, threshold, to_float32


def gray(name: str) -> np.ndarray:
    image = photo(name)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("invert", "kind"), [(False, cv2.THRESH_BINARY), (True, cv2.THRESH_BINARY_INV)]
)
def test_threshold_matches_opencv(name: str, invert: bool, kind: int) -> None:
    reference = cv2.threshold(gray(name), 100, 255, kind)[1]
    np.testing.assert_array_equal(threshold(photo(name), 100, invert), reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_otsu_matches_opencv(name: str) -> None:
    reference = cv2.threshold(gray(name), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    np.testing.assert_array_equal(otsu_threshold(photo(name)), reference)
    np.testing.assert_array_equal(otsu_threshold(photo(name), invert=True), 255 - reference)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("method", "flag"),
    [("mean", cv2.ADAPTIVE_THRESH_MEAN_C), ("gaussian", cv2.ADAPTIVE_THRESH_GAUSSIAN_C)],
)
def test_adaptive_matches_opencv(name: str, method: str, flag: int) -> None:
    reference = cv2.adaptiveThreshold(gray(name), 255, flag, cv2.THRESH_BINARY, 15, 4)
    np.testing.assert_array_equal(adaptive_threshold(photo(name), method, 15, 4), reference)


@pytest.mark.parametrize(
    "op",
    [
        lambda im: threshold(im, 0.5 * (255 if im.dtype == np.uint8 else 1)),
        otsu_threshold,
        adaptive_threshold,
    ],
)
@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_masks_are_2d_binary_in_the_input_dtype(op, name: str) -> None:
    for image, top in ((photo(name), 255), (to_float32(photo(name)), 1.0)):
        mask = op(image)
        assert mask.shape == image.shape[:2]
        assert mask.dtype == image.dtype
        assert set(np.unique(mask).tolist()) == {0, top}


def test_bad_threshold_arguments_raise() -> None:
    with pytest.raises(DeepImageError, match="block_size"):
        adaptive_threshold(photo("camera"), block_size=4)
    with pytest.raises(DeepImageError, match="adaptive method"):
        adaptive_threshold(photo("camera"), method="median")

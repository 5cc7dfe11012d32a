from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import (
    closing,
    dilate,
    erode,
    morph_gradient,
    opening,
    structuring_element,
    to_float32,
)

SHAPES = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}


@pytest.mark.parametrize("shape", SHAPES)
def test_structuring_element_matches_opencv(shape: str) -> None:
    reference = cv2.getStructuringElement(SHAPES[shape], (7, 7))
    np.testing.assert_array_equal(structuring_element(shape, 7), reference)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_erode_and_dilate_match_opencv(name: str, shape: str) -> None:
    image = photo(name)
    kernel = cv2.getStructuringElement(SHAPES[shape], (5, 5))
    np.testing.assert_array_equal(erode(image, shape, 5, 2), cv2.erode(image, kernel, iterations=2))
    np.testing.assert_array_equal(
        dilate(image, shape, 5, 2), cv2.dilate(image, kernel, iterations=2)
    )


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("op", "flag"),
    [(opening, cv2.MORPH_OPEN), (closing, cv2.MORPH_CLOSE), (morph_gradient, cv2.MORPH_GRADIENT)],
)
def test_compound_morphology_matches_opencv(name: str, op, flag: int) -> None:
    image = photo(name)
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    reference = cv2.morphologyEx(image, flag, kernel)
    np.testing.assert_array_equal(op(image, "cross", 3), reference)


@pytest.mark.parametrize("op", [erode, dilate, opening, closing, morph_gradient])
def test_morphology_keeps_float32_and_gray(op) -> None:
    image = to_float32(photo("camera"))
    out = op(image)
    assert out.dtype == np.float32 and out.shape == image.shape


def test_bad_morphology_arguments_raise() -> None:
    with pytest.raises(DeepImageError, match="iterations"):
        erode(photo("camera"), iterations=0)
    with pytest.raises(DeepImageError, match="kernel shape"):
        dilate(photo("camera"), shape="disk")
    with pytest.raises(DeepImageError, match="size"):
        opening(photo("camera"), size=0)

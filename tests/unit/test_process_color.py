from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.exposure
from test_process_data import GRAY_PHOTOS, PHOTOS, assert_matches, photo

from deepimage.errors import DeepImageError
from deepimage.process import (
    adjust_brightness_contrast,
    adjust_gamma,
    auto_contrast,
    clahe,
    convert_color,
    equalize_hist,
    grayscale,
    to_float32,
    white_balance,
)

COLOR_PHOTOS = ["astronaut", "coffee"]


@pytest.mark.parametrize("name", COLOR_PHOTOS)
@pytest.mark.parametrize(
    ("space", "code"),
    [
        ("gray", cv2.COLOR_RGB2GRAY),
        ("bgr", cv2.COLOR_RGB2BGR),
        ("hsv", cv2.COLOR_RGB2HSV),
        ("hls", cv2.COLOR_RGB2HLS),
        ("lab", cv2.COLOR_RGB2Lab),
        ("luv", cv2.COLOR_RGB2Luv),
        ("ycrcb", cv2.COLOR_RGB2YCrCb),
        ("xyz", cv2.COLOR_RGB2XYZ),
        ("yuv", cv2.COLOR_RGB2YUV),
    ],
)
def test_convert_color_matches_opencv(name: str, space: str, code: int) -> None:
    image = photo(name)
    np.testing.assert_array_equal(convert_color(image, space), cv2.cvtColor(image, code))


@pytest.mark.parametrize("name", COLOR_PHOTOS)
def test_convert_color_round_trips_and_chains_through_rgb(name: str) -> None:
    image = photo(name)
    lab = convert_color(image, "lab")
    assert_matches(convert_color(lab, "rgb", source="lab"), image)
    hsv = convert_color(image, "hsv")
    via_rgb = cv2.cvtColor(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), cv2.COLOR_RGB2Lab)
    np.testing.assert_array_equal(convert_color(hsv, "lab", source="hsv"), via_rgb)


def test_convert_color_checks_source_shape_and_names() -> None:
    with pytest.raises(DeepImageError, match="does not match"):
        convert_color(photo("camera"), "hsv")
    with pytest.raises(DeepImageError, match="colour space"):
        convert_color(photo("astronaut"), "cmyk")
    assert convert_color(photo("camera"), "rgb", source="gray").shape == (256, 256, 3)


@pytest.mark.parametrize("name", PHOTOS)
def test_grayscale_matches_opencv_and_is_2d(name: str) -> None:
    image = photo(name)
    gray = grayscale(image)
    assert gray.ndim == 2
    expected = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    np.testing.assert_array_equal(gray, expected)
    assert grayscale(to_float32(image)).dtype == np.float32


@pytest.mark.parametrize("name", PHOTOS)
def test_brightness_contrast_matches_opencv(name: str) -> None:
    image = photo(name)
    alpha, brightness = 1.4, 0.1
    beta = 127.5 * (1 - alpha) + 255 * brightness
    reference = cv2.addWeighted(image, alpha, image, 0, beta)
    assert_matches(adjust_brightness_contrast(image, brightness, alpha), reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_gamma_matches_scikit_image(name: str) -> None:
    image = photo(name)
    assert_matches(adjust_gamma(image, 0.6), skimage.exposure.adjust_gamma(image, 0.6))
    floats = to_float32(image)
    reference = skimage.exposure.adjust_gamma(floats, 2.2)
    np.testing.assert_allclose(adjust_gamma(floats, 2.2), reference, atol=1e-6)


@pytest.mark.parametrize("name", PHOTOS)
def test_auto_contrast_matches_rescale_intensity(name: str) -> None:
    image = photo(name)
    low, high = np.percentile(image, (2, 98))
    reference = skimage.exposure.rescale_intensity(image, in_range=(low, high))
    assert_matches(auto_contrast(image, 2, 98), reference)
    stretched = auto_contrast(image, 0, 100)
    assert stretched.min() == 0 and stretched.max() == 255


def test_auto_contrast_flat_image_and_bad_percentiles() -> None:
    flat = np.full((8, 8), 77, np.uint8)
    np.testing.assert_array_equal(auto_contrast(flat), flat)
    with pytest.raises(DeepImageError, match="low < high"):
        auto_contrast(flat, 90, 10)


@pytest.mark.parametrize("name", COLOR_PHOTOS)
def test_white_balance_matches_opencv_gray_world(name: str) -> None:
    image = photo(name)
    means = image.reshape(-1, 3).mean(axis=0)
    gains = means.mean() / means
    reference = cv2.multiply(image, (*gains, 0.0))
    assert_matches(white_balance(image), reference)
    balanced = white_balance(to_float32(image))
    assert balanced.dtype == np.float32
    assert np.ptp(balanced.reshape(-1, 3).mean(axis=0)) < np.ptp(means) / 255 / 2


def test_white_balance_needs_colour() -> None:
    with pytest.raises(DeepImageError, match="RGB"):
        white_balance(photo("camera"))


@pytest.mark.parametrize("name", PHOTOS)
def test_equalize_hist_matches_opencv(name: str) -> None:
    image = photo(name)
    if image.ndim == 2:
        reference = cv2.equalizeHist(image)
    else:
        ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
        ycrcb[..., 0] = cv2.equalizeHist(ycrcb[..., 0])
        reference = cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)
    np.testing.assert_array_equal(equalize_hist(image), reference)


@pytest.mark.parametrize("name", PHOTOS)
def test_clahe_matches_opencv(name: str) -> None:
    image = photo(name)
    equalizer = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4))
    if image.ndim == 2:
        reference = equalizer.apply(image)
    else:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
        lab[..., 0] = equalizer.apply(lab[..., 0])
        reference = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    np.testing.assert_array_equal(clahe(image, 3.0, 4), reference)


@pytest.mark.parametrize("name", GRAY_PHOTOS + COLOR_PHOTOS)
@pytest.mark.parametrize(
    "op",
    [
        lambda im: adjust_brightness_contrast(im, -0.1, 1.2),
        lambda im: adjust_gamma(im, 1.5),
        auto_contrast,
        equalize_hist,
        clahe,
        grayscale,
    ],
)
def test_float32_stays_float32_in_range(op, name: str) -> None:
    image = to_float32(photo(name))
    out = op(image)
    assert out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert out.ndim == (2 if op is grayscale else image.ndim)


def test_bad_tone_arguments_raise() -> None:
    with pytest.raises(DeepImageError, match="gamma"):
        adjust_gamma(photo("camera"), 0)
    with pytest.raises(DeepImageError, match="clip_limit"):
        clahe(photo("camera"), clip_limit=-1)

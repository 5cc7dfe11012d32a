from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import canny, canny_thresholds, laplacian, scharr, sobel, to_float32


def gray(name: str) -> np.ndarray:
    image = photo(name)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


@pytest.mark.parametrize("name", PHOTOS)
def test_sobel_matches_opencv(name: str) -> None:
    g = gray(name)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=5)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=5)
    magnitude = cv2.magnitude(gx, gy)
    np.testing.assert_array_equal(sobel(photo(name), 5), cv2.convertScaleAbs(magnitude))
    np.testing.assert_allclose(sobel(photo(name), 5, as_float=True), magnitude, rtol=1e-6)
    np.testing.assert_array_equal(sobel(photo(name), 5, "x"), cv2.convertScaleAbs(gx))


@pytest.mark.parametrize("name", PHOTOS)
def test_scharr_matches_opencv(name: str) -> None:
    g = gray(name)
    gx, gy = cv2.Scharr(g, cv2.CV_32F, 1, 0), cv2.Scharr(g, cv2.CV_32F, 0, 1)
    np.testing.assert_array_equal(scharr(photo(name)), cv2.convertScaleAbs(cv2.magnitude(gx, gy)))
    np.testing.assert_array_equal(scharr(photo(name), "y"), cv2.convertScaleAbs(gy))


@pytest.mark.parametrize("name", PHOTOS)
def test_laplacian_matches_opencv(name: str) -> None:
    g = gray(name)
    reference = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
    np.testing.assert_array_equal(laplacian(photo(name), 3), cv2.convertScaleAbs(reference))
    np.testing.assert_allclose(
        laplacian(photo(name), 3, as_float=True), np.abs(reference), rtol=1e-6
    )


@pytest.mark.parametrize("op", [sobel, scharr, laplacian])
def test_gradients_of_float_images_use_the_255_scale(op) -> None:
    image = photo("camera")
    as_uint8 = op(image)
    from_float = op(to_float32(image))
    assert from_float.dtype == np.uint8 and from_float.ndim == 2
    assert np.abs(from_float.astype(int) - as_uint8.astype(int)).max() <= 1
    assert op(to_float32(image), as_float=True).max() < 20


@pytest.mark.parametrize("name", PHOTOS)
def test_canny_matches_opencv(name: str) -> None:
    g = gray(name)
    np.testing.assert_array_equal(canny(photo(name), 50, 150), cv2.Canny(g, 50, 150))
    np.testing.assert_array_equal(
        canny(photo(name), 30, 90, aperture=5, l2_gradient=True),
        cv2.Canny(g, 30, 90, apertureSize=5, L2gradient=True),
    )


@pytest.mark.parametrize("name", PHOTOS)
def test_canny_automatic_thresholds_use_the_median_rule(name: str) -> None:
    g = gray(name)
    median = np.median(g)
    low, high = int(max(0, 0.67 * median)), int(min(255, 1.33 * median))
    assert canny_thresholds(g) == (low, high)
    np.testing.assert_array_equal(canny(photo(name)), cv2.Canny(g, low, high))


def test_canny_float_input_gives_float_mask() -> None:
    edges = canny(to_float32(photo("coins")))
    assert edges.dtype == np.float32
    assert set(np.unique(edges).tolist()) == {0.0, 1.0}


def test_bad_edge_arguments_raise() -> None:
    with pytest.raises(DeepImageError, match="both"):
        canny(photo("camera"), low=10)
    with pytest.raises(DeepImageError, match="aperture"):
        canny(photo("camera"), aperture=4)
    with pytest.raises(DeepImageError, match="ksize"):
        sobel(photo("camera"), ksize=2)
    with pytest.raises(DeepImageError, match="direction"):
        sobel(photo("camera"), direction="z")

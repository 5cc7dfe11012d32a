from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import (
    connected_components,
    draw_contours,
    find_contours,
    kmeans_cluster,
    kmeans_quantize,
    to_float32,
    watershed,
)


def opencv_tutorial_watershed(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's watershed tutorial, step by step, on a BGR copy of the image."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    kernel = np.ones((3, 3), np.uint8)
    opening = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel, iterations=2)
    sure_bg = cv2.dilate(opening, kernel, iterations=3)
    dist = cv2.distanceTransform(opening, cv2.DIST_L2, 5)
    sure_fg = cv2.threshold(dist, 0.5 * dist.max(), 255, 0)[1].astype(np.uint8)
    unknown = cv2.subtract(sure_bg, sure_fg)
    markers = cv2.connectedComponents(sure_fg)[1] + 1
    markers[unknown == 255] = 0
    return cv2.watershed(bgr, markers)


@pytest.mark.parametrize("name", PHOTOS)
def test_watershed_matches_the_opencv_tutorial(name: str) -> None:
    image = photo(name)
    rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    markers = opencv_tutorial_watershed(rgb)
    labels = watershed(image)
    assert labels.dtype == np.int32 and labels.shape == image.shape[:2]
    np.testing.assert_array_equal(labels == -1, markers == -1)
    np.testing.assert_array_equal(labels[markers > 0], markers[markers > 0] - 1)


def test_watershed_separates_the_coins() -> None:
    coins = skimage.data.coins()
    labels = watershed(coins)
    assert len(np.unique(labels[labels > 0])) >= 8
    assert (labels == 0).mean() > 0.5
    assert (labels == -1).any()
    # A lower sure-foreground fraction seeds more objects (dimmer coins too).
    assert watershed(coins, foreground=0.3).max() > labels.max()


def test_watershed_rejects_bad_foreground() -> None:
    with pytest.raises(DeepImageError, match="foreground"):
        watershed(photo("coins"), foreground=1.5)


@pytest.mark.parametrize("name", PHOTOS)
def test_kmeans_matches_opencv_with_the_same_seed(name: str) -> None:
    image = photo(name)
    data = image.reshape(-1, 1 if image.ndim == 2 else 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 0.255)
    cv2.setRNGSeed(7)
    _, labels, centers = cv2.kmeans(data, 4, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    ours = kmeans_cluster(image, k=4, attempts=2, max_iter=10, seed=7)
    np.testing.assert_array_equal(ours.labels, labels.reshape(image.shape[:2]))
    np.testing.assert_array_equal(ours.centers, centers)
    quantized = kmeans_quantize(image, k=4, attempts=2, max_iter=10, seed=7)
    expected = np.rint(np.clip(centers[labels.ravel()], 0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(quantized, expected.reshape(image.shape))


def test_kmeans_is_repeatable_and_keeps_dtype() -> None:
    image = to_float32(photo("coffee"))
    first = kmeans_quantize(image, k=5)
    np.testing.assert_array_equal(first, kmeans_quantize(image, k=5))
    assert first.dtype == np.float32 and first.shape == image.shape
    assert len(np.unique(first.reshape(-1, 3), axis=0)) <= 5


def test_kmeans_rejects_bad_k() -> None:
    with pytest.raises(DeepImageError, match="k must"):
        kmeans_cluster(np.zeros((2, 2), np.uint8), k=5)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("connectivity", [4, 8])
def test_connected_components_match_opencv(name: str, connectivity: int) -> None:
    image = photo(name)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        mask, connectivity=connectivity
    )
    ours, regions = connected_components(mask, connectivity)
    np.testing.assert_array_equal(ours, labels)
    assert len(regions) == count - 1
    for region in regions:
        x, y, w, h, area = stats[region["label"]]
        assert region["area"] == area
        assert region["bbox"] == (x, y, x + w, y + h)
        np.testing.assert_allclose(region["centroid"], centroids[region["label"]])


def test_connected_components_stats_on_known_blobs() -> None:
    mask = np.zeros((10, 10), bool)
    mask[1:3, 1:4] = True
    mask[5, 5] = mask[6, 6] = True
    _, regions = connected_components(mask, connectivity=4)
    assert [r["area"] for r in regions] == [6, 1, 1]
    assert regions[0]["bbox"] == (1, 1, 4, 3)
    assert regions[0]["centroid"] == (2.0, 1.5)
    assert len(connected_components(mask, connectivity=8)[1]) == 2
    with pytest.raises(DeepImageError, match="connectivity"):
        connected_components(mask, 6)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("mode", "flag"), [("external", cv2.RETR_EXTERNAL), ("tree", cv2.RETR_TREE)]
)
def test_find_contours_matches_opencv(name: str, mode: str, flag: int) -> None:
    image = photo(name)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    reference, _ = cv2.findContours(mask, flag, cv2.CHAIN_APPROX_SIMPLE)
    ours = find_contours(mask, mode)
    assert len(ours) == len(reference)
    for contour, expected in zip(ours, reference, strict=True):
        assert contour.shape[1] == 2 and contour.dtype == np.int32
        np.testing.assert_array_equal(contour, expected.reshape(-1, 2))


@pytest.mark.parametrize("name", PHOTOS)
def test_draw_contours_matches_opencv(name: str) -> None:
    image = photo(name)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    contours = find_contours(mask)
    reference = image.copy()
    cv2.drawContours(reference, [c.reshape(-1, 1, 2) for c in contours], -1, (255, 0, 0), 2)
    drawn = draw_contours(image, contours, (255, 0, 0), 2)
    np.testing.assert_array_equal(drawn, reference)
    assert not np.array_equal(drawn, image)


def test_regions_need_a_2d_mask() -> None:
    with pytest.raises(DeepImageError, match="HxW"):
        find_contours(np.zeros((4, 4, 3), np.uint8))

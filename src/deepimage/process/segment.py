"""Classical segmentation: marker-based watershed and k-means colour clustering."""

from __future__ import annotations

from typing import Any, NamedTuple

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import (
    MAX_ITERATIONS,
    cast_like,
    check_count,
    check_image,
    max_value,
    option_check,
    to_gray,
)
from deepimage.process.dtypes import to_uint8
from deepimage.process.threshold import otsu_threshold

__all__ = ["KMeansResult", "kmeans_cluster", "kmeans_quantize", "watershed"]


MAX_CLUSTERS = 256
"""Most k-means clusters; k-means costs pixels x clusters x iterations x attempts."""
MAX_ATTEMPTS = 20
MAX_KMEANS_ITERATIONS = 1000


def _check_watershed(
    foreground: float, open_iterations: int, background_iterations: int, **_: Any
) -> None:
    if not 0 < foreground < 1:
        raise DeepImageError(f"foreground must be between 0 and 1, got {foreground}")
    check_count(open_iterations, "open_iterations", 0, MAX_ITERATIONS)
    check_count(background_iterations, "background_iterations", 0, MAX_ITERATIONS)


@option_check(_check_watershed)
def watershed(
    image: np.ndarray,
    invert: bool = False,
    foreground: float = 0.5,
    open_iterations: int = 2,
    background_iterations: int = 3,
) -> np.ndarray:
    """Split touching objects: watershed seeded from the distance transform of an Otsu mask.

    Steps (OpenCV's tutorial): Otsu mask, opening with a 3x3 kernel, sure background by
    dilation, sure foreground where the distance transform exceeds ``foreground`` x its
    maximum, one marker per foreground blob, then ``cv2.watershed`` on the 8-bit colour image.

    Args:
        image: uint8 or float32 HxW or HxWx3 image with bright objects on a dark background.
        invert: objects are dark on a bright background.
        foreground: fraction (0-1) of the largest distance to the background that counts as
            sure object centre; higher separates touching objects more.
        open_iterations: 3x3 openings that clean the mask.
        background_iterations: 3x3 dilations that give the sure background.

    Returns:
        int32 HxW labels: 0 background, 1..N objects, -1 on watershed lines.

    Example:
        >>> import numpy as np
        >>> disks = np.zeros((40, 80), np.uint8)
        >>> disks[10:30, 10:30] = disks[10:30, 50:70] = 255
        >>> int(watershed(disks).max())
        2
    """
    _check_watershed(foreground, open_iterations, background_iterations)
    pixels = to_uint8(check_image(image))
    mask = otsu_threshold(to_gray(pixels), invert=invert)
    kernel = np.ones((3, 3), np.uint8)
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel, iterations=int(open_iterations))
    background = cv2.dilate(opened, kernel, iterations=int(background_iterations))
    distance = cv2.distanceTransform(opened, cv2.DIST_L2, 5)
    sure = np.where(distance > foreground * distance.max(), 255, 0).astype(np.uint8)
    markers = cv2.connectedComponents(sure)[1] + 1
    markers[cv2.subtract(background, sure) == 255] = 0
    color = pixels if pixels.ndim == 3 else cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    markers = cv2.watershed(color, markers)
    return np.where(markers == -1, -1, markers - 1).astype(np.int32)


class KMeansResult(NamedTuple):
    """Labels (int32 HxW, 0..k-1) and cluster centres (float32 k x channels, pixel units)."""

    labels: np.ndarray
    centers: np.ndarray


def _check_kmeans(k: int, attempts: int, max_iter: int, **_: Any) -> None:
    check_count(k, "k", 1, MAX_CLUSTERS)
    check_count(attempts, "attempts", 1, MAX_ATTEMPTS)
    check_count(max_iter, "max_iter", 1, MAX_KMEANS_ITERATIONS)


@option_check(_check_kmeans)
def kmeans_cluster(
    image: np.ndarray, k: int = 8, attempts: int = 3, max_iter: int = 20, seed: int = 0
) -> KMeansResult:
    """Cluster pixel colours with ``cv2.kmeans`` (k-means++ init, seeded: repeatable).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        k: number of clusters, 1-256.
        attempts: restarts (1-20); the most compact result is kept.
        max_iter: iterations per attempt, 1-1000 (also stops when centres move < 0.1% of full scale).
        seed: seed for OpenCV's random generator (``cv2.setRNGSeed``).

    Example:
        >>> import numpy as np
        >>> labels, centers = kmeans_cluster(np.array([[0, 0, 200, 200]], np.uint8), k=2)
        >>> sorted(centers.ravel().tolist())
        [0.0, 200.0]
    """
    _check_kmeans(k, attempts, max_iter)
    channels = 1 if check_image(image).ndim == 2 else 3
    data = image.reshape(-1, channels).astype(np.float32)
    if k > len(data):
        raise DeepImageError(f"k must be an integer from 1 to the pixel count {len(data)}, got {k}")
    criteria = (
        cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER,
        int(max_iter),
        1e-3 * max_value(image),
    )
    cv2.setRNGSeed(int(seed))
    _, labels, centers = cv2.kmeans(
        data, int(k), None, criteria, int(attempts), cv2.KMEANS_PP_CENTERS
    )
    return KMeansResult(labels.reshape(image.shape[:2]).astype(np.int32), centers)


@option_check(_check_kmeans)
def kmeans_quantize(
    image: np.ndarray, k: int = 8, attempts: int = 3, max_iter: int = 20, seed: int = 0
) -> np.ndarray:
    """Reduce the image to ``k`` colours by k-means (see :func:`kmeans_cluster`).

    Args:
        image: uint8 or float32 HxW or HxWx3 image.
        k: number of colours, 1-256.
        attempts: restarts (1-20); the most compact result is kept.
        max_iter: iterations per attempt, 1-1000.
        seed: seed for OpenCV's random generator.

    Example:
        >>> import numpy as np
        >>> kmeans_quantize(np.array([[0, 10, 200, 210]], np.uint8), k=2)
        array([[  5,   5, 205, 205]], dtype=uint8)
    """
    labels, centers = kmeans_cluster(image, k, attempts, max_iter, seed)
    return cast_like(centers[labels].reshape(image.shape), image)

"""Real photographs for the process tests (scikit-image's bundled images) and helpers.

Other test_process_* modules import PHOTOS, photo and assert_matches from here.
"""

from __future__ import annotations

import functools
import socket

import cv2
import numpy as np
import pytest
import skimage.data

from deepimage.process import psnr

PHOTOS = ["camera", "astronaut", "coins", "coffee"]
GRAY_PHOTOS = ["camera", "coins"]


@functools.cache
def _photo(name: str) -> np.ndarray:
    image = getattr(skimage.data, name)()
    scale = 256 / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    resized.flags.writeable = False
    return resized


def photo(name: str) -> np.ndarray:
    """The bundled image ``name`` (uint8, RGB or gray) downscaled to 256 px, read-only."""
    return _photo(name)


def assert_matches(ours: np.ndarray, reference: np.ndarray) -> None:
    """Same shape and dtype, and identical or within 40 dB PSNR."""
    assert ours.shape == reference.shape
    assert ours.dtype == reference.dtype
    if not np.array_equal(ours, reference):
        assert psnr(ours, reference) >= 40


def test_photos_are_bundled_and_load_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    shapes = {name: getattr(skimage.data, name)().shape for name in PHOTOS}
    assert shapes == {
        "camera": (512, 512),
        "astronaut": (512, 512, 3),
        "coins": (303, 384),
        "coffee": (400, 600, 3),
    }


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_is_downscaled_and_read_only(name: str) -> None:
    image = photo(name)
    assert max(image.shape[:2]) == 256
    assert image.dtype == np.uint8
    with pytest.raises(ValueError):
        image[0, 0] = 0

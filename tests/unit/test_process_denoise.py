from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import denoise_nl_means, psnr, to_float32


def noisy(name: str) -> np.ndarray:
    image = photo(name)
    noise = np.random.default_rng(0).normal(0, 15, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", PHOTOS)
def test_nl_means_matches_opencv_on_bgr(name: str) -> None:
    image = noisy(name)
    if image.ndim == 2:
        reference = cv2.fastNlMeansDenoising(image, None, 12, 7, 11)
    else:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out = cv2.fastNlMeansDenoisingColored(bgr, None, 12, 8, 7, 11)
        reference = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
    ours = denoise_nl_means(image, h=12, h_color=8, search_window=11)
    np.testing.assert_array_equal(ours, reference)


def test_nl_means_handles_rgb_order() -> None:
    # Feeding RGB straight to OpenCV's BGR-only colour variant gives a different result.
    image = noisy("astronaut")
    wrong = cv2.fastNlMeansDenoisingColored(image, None, 12, 12, 7, 11)
    assert not np.array_equal(denoise_nl_means(image, 12, search_window=11), wrong)


@pytest.mark.parametrize("name", ["camera", "coffee"])
def test_nl_means_removes_noise_and_keeps_dtype(name: str) -> None:
    clean, dirty = photo(name), noisy(name)
    denoised = denoise_nl_means(dirty, h=15, search_window=11)
    assert psnr(denoised, clean) > psnr(dirty, clean) + 2
    floats = denoise_nl_means(to_float32(dirty), h=15, search_window=11)
    assert floats.dtype == np.float32 and floats.shape == dirty.shape


def test_nl_means_rejects_even_windows() -> None:
    with pytest.raises(DeepImageError, match="template_window"):
        denoise_nl_means(photo("camera"), template_window=6)

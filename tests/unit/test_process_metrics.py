from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import gaussian_blur, mse, psnr, ssim, to_float32


@pytest.mark.parametrize("name", PHOTOS)
def test_psnr_matches_opencv_and_is_inf_for_identical(name: str) -> None:
    image = photo(name)
    blurred = gaussian_blur(image, 2.0)
    assert psnr(image, blurred) == pytest.approx(cv2.PSNR(image, blurred), rel=1e-9)
    assert psnr(image, image.copy()) == math.inf
    assert 15 < psnr(image, blurred) < 40
    assert psnr(to_float32(image), to_float32(blurred)) == pytest.approx(
        psnr(image, blurred), rel=1e-4
    )


@pytest.mark.parametrize("name", PHOTOS)
def test_mse_and_ssim_are_sane(name: str) -> None:
    image = photo(name)
    blurred = gaussian_blur(image, 2.0)
    assert mse(image, image) == 0
    assert mse(image, blurred) == pytest.approx(np.mean((image - blurred.astype(float)) ** 2))
    assert ssim(image, image) == pytest.approx(1.0)
    assert 0.2 < ssim(image, blurred) < 0.95
    assert ssim(image, gaussian_blur(image, 4.0)) < ssim(image, blurred)


@pytest.mark.parametrize("name", PHOTOS)
def test_ssim_matches_scikit_image_with_data_range(name: str) -> None:
    image = to_float32(photo(name))
    other = gaussian_blur(image, 1.0)
    reference = structural_similarity(
        image, other, data_range=1.0, channel_axis=-1 if image.ndim == 3 else None
    )
    assert ssim(image, other) == pytest.approx(reference)


def test_metrics_reject_mismatched_images() -> None:
    with pytest.raises(DeepImageError, match="differ"):
        psnr(photo("camera"), photo("astronaut"))
    with pytest.raises(DeepImageError, match="differ"):
        mse(photo("camera"), to_float32(photo("camera")))
    with pytest.raises(DeepImageError, match="7x7"):
        ssim(np.zeros((5, 5), np.uint8), np.zeros((5, 5), np.uint8))

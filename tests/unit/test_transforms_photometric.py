"""Photometric transforms change pixel values only, reproducibly, on copies."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from deepimage.transforms.photometric import ColorJitter, GaussianBlur, GaussianNoise, RandomErasing
from deepimage.transforms.sample import Sample

TRANSFORMS = {
    "jitter": ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
    "blur": GaussianBlur(sigma=(1.0, 2.0)),
    "noise": GaussianNoise(std=(5.0, 10.0)),
    "erasing": RandomErasing(p=1.0, value=None),
}


def sample(channels: int = 3) -> Sample:
    rng = np.random.default_rng(0)
    shape = (24, 32, channels) if channels > 1 else (24, 32)
    return Sample(
        rng.integers(0, 256, shape, dtype=np.uint8),
        boxes=[[2, 3, 20, 15]],
        labels=[4],
        mask=rng.integers(0, 3, (24, 32)).astype(np.uint8),
        keypoints=[[5.0, 6.0]],
    )


@pytest.mark.parametrize("name", TRANSFORMS)
@pytest.mark.parametrize("channels", [1, 3])
def test_targets_untouched_and_input_kept(name: str, channels: int) -> None:
    before = sample(channels)
    image = before.image.copy()
    after = TRANSFORMS[name](before, np.random.default_rng(1))
    for field in ("boxes", "labels", "mask", "keypoints"):
        np.testing.assert_array_equal(getattr(after, field), getattr(before, field))
    assert after.image.shape == image.shape and after.image.dtype == np.uint8
    assert not np.array_equal(after.image, image)
    np.testing.assert_array_equal(before.image, image)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_same_seed_same_image(name: str) -> None:
    first = TRANSFORMS[name](sample(), np.random.default_rng(9)).image
    np.testing.assert_array_equal(first, TRANSFORMS[name](sample(), np.random.default_rng(9)).image)


def test_brightness_scales_and_contrast_keeps_the_mean() -> None:
    flat = Sample(np.full((8, 8, 3), 100, np.uint8))
    brighter = ColorJitter(brightness=(1.5, 1.5))(flat, np.random.default_rng(0))
    assert (brighter.image == 150).all()
    ramp = Sample(np.tile(np.arange(0, 256, 4, dtype=np.uint8), (8, 1)))
    flatter = ColorJitter(contrast=(0.5, 0.5))(ramp, np.random.default_rng(0)).image
    assert abs(flatter.mean() - ramp.image.mean()) < 1
    assert flatter.std() == pytest.approx(ramp.image.std() / 2, rel=0.02)


def test_hue_rotates_by_the_drawn_turn() -> None:
    red = Sample(np.full((4, 4, 3), (255, 0, 0), np.uint8))
    probe = np.random.default_rng(3)  # ColorJitter draws 3 factors, then the hue turn
    for _ in range(3):
        probe.uniform(1, 1)
    turn = probe.uniform(-0.3, 0.3)
    out = ColorJitter(hue=0.3)(red, np.random.default_rng(3)).image
    hue = int(cv2.cvtColor(out, cv2.COLOR_RGB2HSV)[0, 0, 0])
    expected = round(turn * 180) % 180
    assert min(abs(hue - expected), 180 - abs(hue - expected)) <= 1


def test_p_zero_is_identity() -> None:
    s = sample()
    assert RandomErasing(p=0.0)(s, np.random.default_rng(0)) is s

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_process_data import PHOTOS, photo

from deepimage.errors import DeepImageError
from deepimage.process import compress, decode, encode, psnr, to_float32


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(
    ("fmt", "ext", "flag"),
    [("jpeg", ".jpg", cv2.IMWRITE_JPEG_QUALITY), ("webp", ".webp", cv2.IMWRITE_WEBP_QUALITY)],
)
def test_encode_matches_opencv_on_bgr(name: str, fmt: str, ext: str, flag: int) -> None:
    image = photo(name)
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    reference = cv2.imencode(ext, bgr, [flag, 70])[1].tobytes()
    assert encode(image, fmt, 70) == reference


@pytest.mark.parametrize("name", PHOTOS)
def test_png_round_trip_is_exact_and_keeps_rgb_order(name: str) -> None:
    image = photo(name)
    np.testing.assert_array_equal(decode(encode(image, "png")), image)
    np.testing.assert_array_equal(decode(encode(to_float32(image), "png")), image)


@pytest.mark.parametrize("name", PHOTOS)
def test_jpeg_round_trip_keeps_rgb_order(name: str) -> None:
    image = photo(name)
    decoded = decode(encode(image, "jpeg", 95))
    assert decoded.shape == image.shape
    assert psnr(decoded, image) > 30


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_compress_to_target_bytes_finds_the_best_fitting_quality(name: str, fmt: str) -> None:
    image = photo(name)
    target = len(encode(image, fmt, 60)) + 200
    result = compress(image, fmt, target_bytes=target)
    assert result.bytes_out == len(result.data) <= target
    assert result.quality is not None and result.quality >= 60
    if result.quality < 100:
        assert len(encode(image, fmt, result.quality + 1)) > target
    decoded = decode(result.data)
    if decoded.ndim != image.ndim:  # WebP stores gray as RGB
        decoded = cv2.cvtColor(decoded, cv2.COLOR_RGB2GRAY)
    assert result.psnr == pytest.approx(psnr(decoded, image))
    assert 0 < result.ssim < 1


def test_compress_reports_quality_metrics() -> None:
    image = photo("astronaut")
    low, high = compress(image, "jpeg", 10), compress(image, "jpeg", 95)
    assert low.bytes_out < high.bytes_out
    assert low.psnr < high.psnr and low.ssim < high.ssim
    assert compress(image).quality == 90
    lossless = compress(image, "png")
    assert lossless.quality is None and lossless.psnr == float("inf")
    assert lossless.ssim == pytest.approx(1.0)


def test_compress_errors_are_clear() -> None:
    image = photo("astronaut")
    with pytest.raises(DeepImageError, match="lowest quality"):
        compress(image, "jpeg", target_bytes=200)
    with pytest.raises(DeepImageError, match="png needs"):
        compress(image, "png", target_bytes=1000)
    with pytest.raises(DeepImageError, match="not both"):
        compress(image, quality=50, target_bytes=10_000)
    with pytest.raises(DeepImageError, match="lossless"):
        encode(image, "png", 50)
    with pytest.raises(DeepImageError, match="quality"):
        encode(image, "jpeg", 0)
    with pytest.raises(DeepImageError, match="format"):
        encode(image, "gif")
    with pytest.raises(DeepImageError, match="decode"):
        decode(b"not an image")

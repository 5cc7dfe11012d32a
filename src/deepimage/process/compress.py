"""Encode, decode and compress images as JPEG, WebP or PNG bytes (``cv2.imencode``).

OpenCV encodes BGR, so RGB is converted to BGR before encoding and back after decoding.
float32 images are encoded as uint8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process._common import check_count, check_image, choose, option_check, to_gray
from deepimage.process.dtypes import to_uint8
from deepimage.process.metrics import psnr, ssim

__all__ = ["CompressResult", "compress", "decode", "encode"]

Format = Literal["jpeg", "webp", "png"]
_EXTENSIONS = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}
_QUALITY_FLAGS = {"jpeg": cv2.IMWRITE_JPEG_QUALITY, "webp": cv2.IMWRITE_WEBP_QUALITY}
DEFAULT_QUALITY = 90


def _quality_params(format: str, quality: int | None) -> list[int]:
    if quality is None:
        return []
    if format == "png":
        raise DeepImageError("png is lossless: leave quality unset, or choose jpeg or webp")
    if int(quality) != quality or not 1 <= quality <= 100:
        raise DeepImageError(f"quality must be an integer from 1 to 100, got {quality}")
    return [_QUALITY_FLAGS[format], int(quality)]


def encode(image: np.ndarray, format: Format = "jpeg", quality: int | None = None) -> bytes:
    """Encode to JPEG, WebP or PNG bytes.

    Args:
        image: uint8 or float32 HxW or HxWx3 RGB image.
        format: jpeg, webp or png.
        quality: 1-100 for jpeg/webp (unset: OpenCV's defaults, quality 95 for jpeg and
            lossless for webp); must be unset for png.

    Example:
        >>> import numpy as np
        >>> encode(np.zeros((8, 8, 3), np.uint8), "png")[:4]
        b'\\x89PNG'
    """
    extension = choose(format, _EXTENSIONS, "format")
    pixels = to_uint8(check_image(image))
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(extension, pixels, _quality_params(format, quality))
    if not ok:
        raise DeepImageError(f"OpenCV could not encode {format}; try another format")
    return buffer.tobytes()


def decode(data: bytes) -> np.ndarray:
    """Decode image bytes to uint8 RGB HxWx3, or HxW for grayscale (alpha is dropped).

    Args:
        data: encoded image (JPEG, PNG, WebP, or anything else OpenCV reads).

    Example:
        >>> import numpy as np
        >>> decode(encode(np.zeros((8, 8), np.uint8), "png")).shape
        (8, 8)
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYCOLOR)
    if image is None:
        raise DeepImageError(f"cannot decode {len(data)} bytes as an image; check the data")
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class CompressResult:
    """Encoded bytes with the settings used and the quality of the decoded image."""

    data: bytes
    format: str
    quality: int | None
    bytes_out: int
    psnr: float
    ssim: float


def _check_compress(format: str, quality: int | None, target_bytes: int | None, **_: Any) -> None:
    choose(format, _EXTENSIONS, "format")
    if target_bytes is not None:
        check_count(target_bytes, "target_bytes", 1, 2**31 - 1)
        if quality is not None:
            raise DeepImageError("give quality or target_bytes, not both")
    _quality_params(format, quality)


@option_check(_check_compress)
def compress(
    image: np.ndarray,
    format: Format = "jpeg",
    quality: int | None = None,
    target_bytes: int | None = None,
) -> CompressResult:
    """Encode and measure the loss; with ``target_bytes``, the best quality that fits.

    The target search is a binary search over quality 1-100 (it assumes size grows with
    quality); the result always fits.

    Args:
        image: uint8 or float32 HxW or HxWx3 RGB image, at least 7x7.
        format: jpeg, webp or png.
        quality: 1-100 for jpeg/webp (default 90); not with target_bytes or png.
        target_bytes: largest acceptable size in bytes.

    Example:
        >>> import numpy as np
        >>> result = compress(np.zeros((32, 32, 3), np.uint8), "jpeg", target_bytes=1000)
        >>> result.bytes_out <= 1000, result.quality
        (True, 100)
    """
    _check_compress(format, quality, target_bytes)
    if target_bytes is None:
        if quality is None and format != "png":
            quality = DEFAULT_QUALITY
        return _result(image, format, quality, encode(image, format, quality))
    if format == "png":
        data = encode(image, format)
        _check_fits(data, target_bytes, "png")
        return _result(image, format, None, data)
    return _search_quality(image, format, target_bytes)


def _check_fits(data: bytes, target_bytes: int, what: str) -> None:
    if len(data) > target_bytes:
        raise DeepImageError(
            f"{what} needs {len(data)} bytes, more than target_bytes={target_bytes}; "
            "raise target_bytes, resize the image first, or try webp"
        )


def _search_quality(image: np.ndarray, format: str, target_bytes: int) -> CompressResult:
    best = (1, encode(image, format, 1))
    _check_fits(best[1], target_bytes, f"{format} at the lowest quality (1)")
    low, high = 2, 100
    while low <= high:
        quality = (low + high) // 2
        data = encode(image, format, quality)
        if len(data) <= target_bytes:
            best, low = (quality, data), quality + 1
        else:
            high = quality - 1
    return _result(image, format, *best)


def _result(image: np.ndarray, format: str, quality: int | None, data: bytes) -> CompressResult:
    original = to_uint8(image)
    decoded = decode(data)
    if decoded.ndim != original.ndim:  # WebP has no grayscale: it decodes as RGB
        decoded = to_gray(decoded)
    return CompressResult(
        data, format, quality, len(data), psnr(original, decoded), ssim(original, decoded)
    )

"""Safe image reading and writing: the one place where image files are decoded.

Every failure to read an image (missing, empty, not an image, truncated, corrupt,
too many pixels) is a :class:`~deepimage.errors.BadImageError` naming the file and
the reason. Pillow does the decoding; only the formats in :data:`IMAGE_EXTENSIONS`
are opened (no Ghostscript, no exotic plug-ins).

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "red.png"
    >>> write_image(path, np.full((2, 3, 3), (255, 0, 0), dtype=np.uint8))
    >>> read_image(path)[0, 0].tolist(), read_image(path, "gray").shape
    ([255, 0, 0], (2, 3))
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.files import atomic_write

DEFAULT_MAX_PIXELS = 89_478_485
"""Pillow's own default decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``)."""

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
)
"""File name extensions (lower case) that image folders are scanned for."""

ReadMode = Literal["rgb", "gray", "keep"]

# Pillow format names that are decoded ("JPEG" includes the MPO files of many cameras).
_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM")
_WRITE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
_QUALITY_FORMATS = frozenset({"JPEG", "WEBP"})
WRITABLE_SUFFIXES = frozenset(_WRITE_FORMATS)
"""Extensions :func:`write_image` can write."""
LOSSY_SUFFIXES = frozenset(s for s, f in _WRITE_FORMATS.items() if f in _QUALITY_FORMATS)
"""Extensions whose ``quality`` :func:`write_image` takes."""
JPEG_QUALITY = 95
"""Quality of deepimage's JPEG and WebP outputs unless a command sets its own."""
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Modes kept as they are; every other mode is converted to L, RGB or RGBA.
_NATIVE_MODES = _SIXTEEN_BIT | {"L", "RGB", "RGBA", "I", "F"}
_BIT_DEPTHS = {"1": 1, "I": 32, "F": 32} | dict.fromkeys(_SIXTEEN_BIT, 16)
# Image.open is serialised so that silencing Pillow's bomb warning (a process-wide
# warnings filter) cannot race between threads; decoding itself runs in parallel.
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`probe_image` learns about a file that decodes cleanly.

    ``width`` and ``height`` are after EXIF orientation, ``mode`` and ``format`` are
    Pillow's names for the file's pixel mode ("L", "P", "I;16", ...) and format ("PNG"),
    ``channels`` is the channel count of ``read_image(path, "keep")`` (1, 3 or 4) and
    ``bit_depth`` the bits per channel in the file (1, 8, 16 or 32).
    """

    path: Path
    width: int
    height: int
    mode: str
    format: str
    channels: int
    bit_depth: int


_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\0", b"MM\0*")


def has_image_signature(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts like a PNG, JPEG, GIF, BMP, TIFF or WebP (whatever its name).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "subject01.happy"
        >>> _ = path.write_bytes(b"GIF89a...")
        >>> has_image_signature(path)
        True
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    return head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def read_image(
    path: str | os.PathLike[str], mode: ReadMode = "rgb", max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Decode an image file into a NumPy array, applying its EXIF orientation.

    ``mode="rgb"`` gives uint8 HxWx3 RGB (transparency composited on white),
    ``"gray"`` uint8 HxW, ``"keep"`` the file's own layout: HxW for grey (uint16 for
    16-bit files, float32 for float files), HxWx3 RGB or HxWx4 RGBA uint8. 16-bit
    values become 8-bit by rounding ``value / 257``. Images with more than
    ``max_pixels`` pixels are refused from their header, before any decoding.

    Raises:
        BadImageError: the file is missing, empty, not an image, truncated, corrupt
            or too large.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "depth.png"
        >>> write_image(path, np.array([[0, 257, 65535]], dtype=np.uint16))
        >>> read_image(path, "keep").tolist(), read_image(path, "gray").tolist()
        ([[0, 257, 65535]], [[0, 1, 255]])
    """
    if mode not in ("rgb", "gray", "keep"):
        raise DeepImageError(f"read_image: mode must be 'rgb', 'gray' or 'keep', not {mode!r}")
    image, _, _ = _decode(Path(path), max_pixels)
    if mode == "keep":
        return _native_array(image)
    image = _to_8bit(image)
    if image.mode == "RGBA":
        image = _on_white(image)
    target = "RGB" if mode == "rgb" else "L"
    return np.array(image if image.mode == target else image.convert(target))


def probe_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Fully decode an image file (so truncation is caught) and describe it.

    Raises :class:`~deepimage.errors.BadImageError` exactly where :func:`read_image` would.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "gray.png"
        >>> write_image(path, np.zeros((4, 6), dtype=np.uint8))
        >>> info = probe_image(path)
        >>> info.width, info.height, info.mode, info.format, info.channels, info.bit_depth
        (6, 4, 'L', 'PNG', 1, 8)
    """
    path = Path(path)
    image, file_mode, file_format = _decode(path, max_pixels)
    return ImageInfo(
        path=path,
        width=image.width,
        height=image.height,
        mode=file_mode,
        format=file_format,
        channels=len(image.getbands()),
        bit_depth=_BIT_DEPTHS.get(file_mode, 8),
    )


def write_image(
    path: str | os.PathLike[str], array: np.ndarray, *, quality: int | None = None
) -> None:
    """Write an array as an image file, atomically (temporary file, then rename).

    The format follows the extension: .png, .jpg/.jpeg, .webp, .bmp, .tif/.tiff.
    ``array`` is uint8 HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA; not JPEG), or uint16
    HxW for .png and .tif. ``quality`` (1..100) applies to JPEG and WebP only.
    Missing parent folders are created.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jpg"
        >>> write_image(path, np.zeros((8, 8, 3), dtype=np.uint8), quality=90)
        >>> read_image(path).shape
        (8, 8, 3)
    """
    path = Path(path)
    file_format = _WRITE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise DeepImageError(
            f"{path}: cannot write {path.suffix or 'a file without extension'}; "
            f"use one of {', '.join(sorted(_WRITE_FORMATS))}"
        )
    image = _array_to_image(path, np.asarray(array), file_format)
    options = _save_options(path, file_format, quality)
    try:
        atomic_write(
            path, lambda handle: image.save(handle, format=file_format, **options), durable=False
        )
    except OSError as exc:
        raise DeepImageError(f"{path}: cannot write the image ({exc})") from exc


def _decode(path: Path, max_pixels: int) -> tuple[Image.Image, str, str]:
    """Decode ``path`` fully: (image in L/RGB/RGBA/I;16/I/F mode, file mode, format)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise DeepImageError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True (set by some other code), so "
            "truncated images would decode silently; set it back to False"
        )
    with _open_file(path) as handle:
        image = _open_header(path, handle)
        width, height = image.size
        if width * height > max_pixels:
            raise BadImageError(
                path,
                f"image is {width}x{height} = {width * height:,} pixels, "
                f"over the limit of {max_pixels:,} (max_pixels)",
            )
        file_mode, file_format = image.mode, image.format or "unknown"
        try:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
        except Exception as exc:  # Pillow raises many types on corrupt data
            raise BadImageError(path, f"truncated or corrupt image data ({exc})") from exc
    try:
        return _normalise(image), file_mode, file_format
    except ValueError as exc:
        raise BadImageError(path, f"unsupported pixel mode {file_mode} ({exc})") from exc


@contextmanager
def _open_file(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for reading; a missing, unreadable or empty file is a BadImageError."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise BadImageError(path, "file not found") from None
    except IsADirectoryError:
        raise BadImageError(path, "is a folder, not an image file") from None
    except OSError as exc:
        raise BadImageError(path, f"cannot open the file ({exc.strerror})") from None
    with handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise BadImageError(path, "zero-byte file")
        yield handle


def _open_header(path: Path, handle: BinaryIO) -> ImageFile.ImageFile:
    """Read the image header (no pixel data) with Pillow."""
    with _OPEN_LOCK, warnings.catch_warnings():
        # The caller applies max_pixels itself, with a clearer message.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(handle, formats=_FORMATS)
        except UnidentifiedImageError:
            raise BadImageError(path, _not_an_image_reason(path)) from None
        except Image.DecompressionBombError as exc:
            raise BadImageError(path, f"too many pixels ({exc})") from None
        except Exception as exc:  # Pillow raises many types on corrupt headers
            raise BadImageError(path, f"corrupt image header ({exc})") from exc


def _not_an_image_reason(path: Path) -> str:
    suffix = path.suffix.lower()
    claim = f" although its name ends in {path.suffix}" if suffix in IMAGE_EXTENSIONS else ""
    return f"not an image: the content is not PNG, JPEG, BMP, GIF, WebP, TIFF or PNM{claim}"


def _normalise(image: Image.Image) -> Image.Image:
    """Convert exotic modes (1, P, LA, CMYK, YCbCr, ...) to L, RGB or RGBA."""
    if image.mode in _NATIVE_MODES:
        return image
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _native_array(image: Image.Image) -> np.ndarray:
    """The pixels as an array; 16-bit data as native-endian uint16."""
    array = np.array(image)
    is_16bit_int = image.mode == "I" and array.min() >= 0 and array.max() <= 0xFFFF
    if image.mode in _SIXTEEN_BIT or is_16bit_int:
        return array.astype(np.uint16)
    return array


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer images to 0..255 by ``value / 257``; clip float images."""
    if image.mode in _SIXTEEN_BIT or image.mode == "I":
        wide = np.clip(np.array(image, dtype=np.int64), 0, 0xFFFF)
        return Image.fromarray(((wide + 128) // 257).astype(np.uint8))
    if image.mode == "F":
        return image.convert("L")
    return image


def _on_white(image: Image.Image) -> Image.Image:
    """Composite an RGBA image on a white background."""
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image).convert("RGB")


def _array_to_image(path: Path, array: np.ndarray, file_format: str) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    is_gray16 = array.dtype == np.uint16 and array.ndim == 2 and file_format in ("PNG", "TIFF")
    is_uint8 = array.dtype == np.uint8 and (
        array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))
    )
    if file_format == "JPEG" and array.ndim == 3 and array.shape[2] == 4:
        raise DeepImageError(f"{path}: JPEG has no alpha channel; write RGBA as .png or .webp")
    if not (is_gray16 or is_uint8):
        raise DeepImageError(
            f"{path}: cannot write a {array.dtype} array of shape {array.shape}; expected "
            "uint8 HxW, HxWx1, HxWx3 or HxWx4, or uint16 HxW for .png and .tif"
        )
    return Image.fromarray(np.ascontiguousarray(array))


def _save_options(path: Path, file_format: str, quality: int | None) -> dict[str, int]:
    if quality is None:
        return {}
    if file_format not in _QUALITY_FORMATS:
        raise DeepImageError(f"{path}: quality applies to .jpg, .jpeg and .webp only")
    if not 1 <= quality <= 100:
        raise DeepImageError(f"{path}: quality must be between 1 and 100, not {quality}")
    return {"quality": quality}

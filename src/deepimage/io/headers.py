"""Opening an image file and checking its header, before any pixels are decoded.

Which files are images (:data:`IMAGE_EXTENSIONS`, :func:`has_image_signature`), and what
is refused from the file and its header alone, each a
:class:`~deepimage.errors.BadImageError` naming the file and the reason: a missing,
unreadable or empty file, content that is none of the decoded formats, a corrupt
header, too many pixels, a JPEG too small for the pixels its header claims.
:mod:`deepimage.io.images` decodes what passes.

Example:
    >>> ".tif" in IMAGE_EXTENSIONS, ".txt" in IMAGE_EXTENSIONS
    (True, False)
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, UnidentifiedImageError

from deepimage.errors import BadImageError

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
)
"""File name extensions (lower case) that image folders are scanned for."""

# Pillow format names that are decoded ("JPEG" includes the MPO files of many cameras).
_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM")
# A JPEG spends at least 1 bit on each 8x8 block (512 pixels a byte, with progressive
# end-of-band runs); a header that claims more pixels than this per byte of file is forged
# or cut short, and libjpeg would silently fill the missing pixels with grey.
_JPEG_MAX_PIXELS_PER_BYTE = 1024
# Image.open is serialised so that silencing Pillow's bomb warning (a process-wide
# warnings filter) cannot race between threads; decoding itself runs in parallel.
_OPEN_LOCK = threading.Lock()

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


@contextmanager
def open_file(path: Path) -> Iterator[BinaryIO]:
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


def open_header(path: Path, handle: BinaryIO) -> ImageFile.ImageFile:
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


def check_header(path: Path, image: Image.Image, max_pixels: int, file_bytes: int) -> None:
    """Refuse, from the header alone, too many pixels or a JPEG too small for its size."""
    width, height = image.size
    if width * height > max_pixels:
        raise BadImageError(
            path,
            f"image is {width}x{height} = {width * height:,} pixels, "
            f"over the limit of {max_pixels:,} (max_pixels)",
        )
    if image.format in ("JPEG", "MPO") and width * height > _JPEG_MAX_PIXELS_PER_BYTE * file_bytes:
        raise BadImageError(
            path,
            f"its header says {width}x{height} = {width * height:,} pixels, but the file has "
            f"only {file_bytes:,} bytes, too few to hold them: it is cut short or its header "
            "was altered",
        )


def _not_an_image_reason(path: Path) -> str:
    suffix = path.suffix.lower()
    claim = f" although its name ends in {path.suffix}" if suffix in IMAGE_EXTENSIONS else ""
    return f"not an image: the content is not PNG, JPEG, BMP, GIF, WebP, TIFF or PNM{claim}"

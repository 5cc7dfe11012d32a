"""Writing arrays as image files, atomically: the one place where image files are encoded.

The format follows the extension (:data:`WRITABLE_SUFFIXES`); :func:`format_holds` says
which dtypes and shapes each format stores, and an array a format cannot hold is a
:class:`~deepimage.errors.DeepImageError` saying what it holds, never a silent
conversion. Pillow encodes, except 16-bit colour, which OpenCV writes. Every write goes
through :func:`~deepimage.io.files.atomic_write`, so a failure leaves no partial file.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.images import read_image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "wide.png"
    >>> write_image(path, np.full((2, 3, 3), 65535, dtype=np.uint16))
    >>> read_image(path, "keep").dtype.name, format_holds(path).frames
    ('uint16', False)
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
from PIL import Image

from deepimage.errors import DeepImageError
from deepimage.io.files import atomic_write

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


@dataclass(frozen=True)
class FormatHolds:
    """What :func:`write_image` stores in one format, so a caller can tell what it keeps.

    ``gray`` and ``colour`` are the dtype names it writes for HxW and for HxWx3 arrays
    (HxWx4 too when ``alpha``); ``frames`` says whether one file holds several frames.
    """

    format: str
    gray: tuple[str, ...]
    colour: tuple[str, ...]
    alpha: bool
    frames: bool

    def describe(self) -> str:
        """What the format holds, in words (for error messages)."""
        shapes = "HxWx3 or HxWx4" if self.alpha else "HxWx3"
        return f"{' or '.join(self.gray)} HxW, {' or '.join(self.colour)} {shapes}"


_HOLDS = {
    "PNG": FormatHolds("PNG", ("uint8", "uint16"), ("uint8", "uint16"), alpha=True, frames=False),
    "TIFF": FormatHolds(
        "TIFF",
        ("uint8", "uint16", "int32", "float32"),
        ("uint8", "uint16"),
        alpha=True,
        frames=True,
    ),
    "JPEG": FormatHolds("JPEG", ("uint8",), ("uint8",), alpha=False, frames=False),
    "WEBP": FormatHolds("WEBP", ("uint8",), ("uint8",), alpha=True, frames=False),
    "BMP": FormatHolds("BMP", ("uint8",), ("uint8",), alpha=False, frames=False),
}


def format_holds(path: str | os.PathLike[str]) -> FormatHolds:
    """What :func:`write_image` can store in the format of ``path`` (from its extension).

    Example:
        >>> holds = format_holds("out.jpg")
        >>> holds.format, holds.gray, holds.alpha
        ('JPEG', ('uint8',), False)
        >>> format_holds("out.tif").gray
        ('uint8', 'uint16', 'int32', 'float32')
    """
    path = Path(path)
    file_format = _WRITE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise DeepImageError(
            f"{path}: cannot write {path.suffix or 'a file without extension'}; "
            f"use one of {', '.join(sorted(_WRITE_FORMATS))}"
        )
    return _HOLDS[file_format]


def write_image(
    path: str | os.PathLike[str], array: np.ndarray, *, quality: int | None = None
) -> None:
    """Write an array as an image file, atomically (temporary file, then rename).

    The format follows the extension: .png, .jpg/.jpeg, .webp, .bmp, .tif/.tiff;
    :func:`format_holds` says which arrays each takes (uint8 HxW, HxWx1, HxWx3 RGB and
    HxWx4 RGBA everywhere but JPEG and BMP's alpha; uint16 in .png and .tif; float32 and
    int32 HxW in .tif). ``quality`` (1..100) applies to JPEG and WebP only. Missing parent
    folders are created.

    Raises:
        DeepImageError: the format cannot hold the array, or writing failed
            (:class:`~deepimage.io.files.WriteError` when the disk is full or the folder
            cannot be written); no partial file is left.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io.images import read_image
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jpg"
        >>> write_image(path, np.zeros((8, 8, 3), dtype=np.uint8), quality=90)
        >>> read_image(path).shape
        (8, 8, 3)
    """
    write_frames(path, [array], quality=quality)


def write_frames(
    path: str | os.PathLike[str], frames: list[np.ndarray], *, quality: int | None = None
) -> None:
    """Write one or more frames as one image file, atomically, as :func:`write_image` does.

    Several frames need a format that holds them (TIFF: one page each).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.png"
        >>> write_frames(path, [np.zeros((2, 2), np.uint8)] * 2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: ...two.png: PNG holds one frame, not 2; write several frames as .tif
    """
    path = Path(path)
    holds = format_holds(path)
    arrays = [_writable_array(path, np.asarray(frame), holds) for frame in frames]
    if not arrays:
        raise DeepImageError(f"{path}: no frames to write; give at least one array")
    if len(arrays) > 1 and not holds.frames:
        raise DeepImageError(
            f"{path}: {holds.format} holds one frame, not {len(arrays)}; "
            "write several frames as .tif"
        )
    options = _save_options(path, holds.format, quality)
    try:
        atomic_write(
            path, lambda handle: _encode(handle, arrays, holds.format, options), durable=False
        )
    except OSError as exc:  # Pillow's own refusals; full disks are WriteErrors already
        raise DeepImageError(f"{path}: cannot write the image ({exc})") from exc


def _writable_array(path: Path, array: np.ndarray, holds: FormatHolds) -> np.ndarray:
    """``array`` (HxWx1 as HxW) if the format holds it, or a DeepImageError saying why not."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    channels = 1 if array.ndim == 2 else array.shape[2] if array.ndim == 3 else 0
    if channels == 4 and not holds.alpha:
        raise DeepImageError(
            f"{path}: {holds.format} has no alpha channel; write RGBA as .png, .tif or .webp"
        )
    allowed = holds.gray if channels == 1 else holds.colour if channels in (3, 4) else ()
    if array.dtype.name not in allowed or array.size == 0:
        raise DeepImageError(
            f"{path}: {holds.format} cannot hold a {array.dtype} array of shape {array.shape}; "
            f"it holds {holds.describe()}"
        )
    return np.ascontiguousarray(array)


def _encode(handle: BinaryIO, arrays: list[np.ndarray], file_format: str, options: dict) -> None:
    """Encode the frames into ``handle``: 16-bit colour through OpenCV, the rest Pillow."""
    if any(array.dtype == np.uint16 and array.ndim == 3 for array in arrays):
        extension = ".png" if file_format == "PNG" else ".tiff"
        pages = [_bgr_order(array) for array in arrays]
        if len(pages) == 1:
            ok, data = cv2.imencode(extension, pages[0])
        else:
            ok, data = cv2.imencodemulti(extension, pages)
        if not ok:
            raise OSError(f"OpenCV could not encode 16-bit colour {file_format}")
        handle.write(data.tobytes())
        return
    images = [Image.fromarray(array) for array in arrays]
    if len(images) == 1:
        images[0].save(handle, format=file_format, **options)
        return
    pages = io.BytesIO()  # Pillow reads back what it appends, which a write-only file forbids
    images[0].save(pages, format=file_format, save_all=True, append_images=images[1:], **options)
    handle.write(pages.getvalue())


def _bgr_order(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3:
        code = cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        return cv2.cvtColor(array, code)
    return array


def _save_options(path: Path, file_format: str, quality: int | None) -> dict[str, Any]:
    if quality is None:
        return {}
    if file_format not in _QUALITY_FORMATS:
        raise DeepImageError(f"{path}: quality applies to .jpg, .jpeg and .webp only")
    if not 1 <= quality <= 100:
        raise DeepImageError(f"{path}: quality must be between 1 and 100, not {quality}")
    return {"quality": quality}


def write_indexed_png(
    path: str | os.PathLike[str], indices: np.ndarray, palette: np.ndarray
) -> None:
    """Write a uint8 HxW array of class indices as a palette PNG, atomically: the values
    stay the indices (``read_mask`` gives them back), and viewers show ``palette``'s RGB
    colour (Kx3 uint8, K up to 256) for each.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "mask.png"
        >>> write_indexed_png(path, np.array([[0, 1]], np.uint8), np.array([[0, 0, 0], [255, 0, 0]], np.uint8))
        >>> Image.open(path).mode, np.asarray(Image.open(path)).tolist()
        ('P', [[0, 1]])
    """
    if indices.dtype != np.uint8 or indices.ndim != 2:
        raise DeepImageError(
            f"{path}: class indices must be uint8 HxW, not {indices.dtype} {indices.shape}"
        )
    image = Image.fromarray(indices, mode="P")
    image.putpalette(np.asarray(palette, np.uint8).reshape(-1).tolist())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: image.save(handle, format="PNG", optimize=False))

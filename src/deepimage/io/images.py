"""Safe image reading: the one place where image files are decoded.

Every failure to read an image (missing, empty, not an image, truncated, corrupt,
too many pixels) is a :class:`~deepimage.errors.BadImageError` naming the file and
the reason. Pillow does the decoding; only the formats in
:data:`~deepimage.io.headers.IMAGE_EXTENSIONS` are opened (no Ghostscript, no exotic
plug-ins), and :mod:`deepimage.io.headers` checks each file and its header first.
:mod:`deepimage.io.writing` writes images.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.writing import write_image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "red.png"
    >>> write_image(path, np.full((2, 3, 3), (255, 0, 0), dtype=np.uint8))
    >>> read_image(path)[0, 0].tolist(), read_image(path, "gray").shape
    ([255, 0, 0], (2, 3))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.headers import check_header, open_file, open_header

DEFAULT_MAX_PIXELS = 89_478_485
"""Pillow's own default decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``)."""

ReadMode = Literal["rgb", "gray", "keep"]

_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Modes kept as they are; every other mode is converted to L, RGB or RGBA.
_NATIVE_MODES = _SIXTEEN_BIT | {"L", "RGB", "RGBA", "I", "F"}
_BIT_DEPTHS = {"1": 1, "I": 32, "F": 32} | dict.fromkeys(_SIXTEEN_BIT, 16)
# Raw modes of 16-bit colour files, whose pixels Pillow narrows to 8 bits (OpenCV reads them).
_WIDE_COLOUR = ("RGB;16", "RGBA;16")
_ORIENTATION_TAG = 0x0112
_ORIENTATIONS = {  # EXIF orientation -> the array operation that displays it upright
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a),
}


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


def read_image(
    path: str | os.PathLike[str], mode: ReadMode = "rgb", max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Decode an image file into a NumPy array, applying its EXIF orientation.

    ``mode="rgb"`` gives uint8 HxWx3 RGB (transparency composited on white),
    ``"gray"`` uint8 HxW, ``"keep"`` the file's own layout: HxW for grey (uint16 for
    16-bit files, float32 for float files, int32 for wider integers), HxWx3 RGB or HxWx4
    RGBA (uint16 for 16-bit colour files, otherwise uint8). 16-bit values become 8-bit by
    rounding ``value / 257``. Images with more than ``max_pixels`` pixels are refused
    from their header, before any decoding, and so are JPEG files too small to hold the
    pixels their header claims. A file with several frames gives its first
    (:func:`read_frames` gives them all).

    Raises:
        BadImageError: the file is missing, empty, not an image, truncated, corrupt
            or too large.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io.writing import write_image
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "depth.png"
        >>> write_image(path, np.array([[0, 257, 65535]], dtype=np.uint16))
        >>> read_image(path, "keep").tolist(), read_image(path, "gray").tolist()
        ([[0, 257, 65535]], [[0, 1, 255]])
    """
    if mode not in ("rgb", "gray", "keep"):
        raise DeepImageError(f"read_image: mode must be 'rgb', 'gray' or 'keep', not {mode!r}")
    decoded = _decode(Path(path), max_pixels, keep=mode == "keep")
    if mode == "keep":
        return decoded.arrays()[0]
    image = _to_8bit(decoded.frames[0])
    if image.mode == "RGBA":
        image = _on_white(image)
    target = "RGB" if mode == "rgb" else "L"
    return np.array(image if image.mode == target else image.convert(target))


def probe_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Fully decode an image file (so truncation is caught) and describe it.

    Raises :class:`~deepimage.errors.BadImageError` exactly where :func:`read_image` would.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io.writing import write_image
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "gray.png"
        >>> write_image(path, np.zeros((4, 6), dtype=np.uint8))
        >>> info = probe_image(path)
        >>> info.width, info.height, info.mode, info.format, info.channels, info.bit_depth
        (6, 4, 'L', 'PNG', 1, 8)
    """
    path = Path(path)
    decoded = _decode(path, max_pixels)
    image = decoded.frames[0]
    return ImageInfo(
        path=path,
        width=image.width,
        height=image.height,
        mode=decoded.mode,
        format=decoded.format,
        channels=len(image.getbands()),
        bit_depth=16 if decoded.wide[0] else _BIT_DEPTHS.get(decoded.mode, 8),
    )


_MASK_MODES = frozenset({"P", "PA", "1", "L", "LA"})


def read_mask(
    path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode a segmentation mask file into its raw values and, for a palette file, its
    palette: ``(values, palette)``.

    The file is checked and decoded as :func:`read_image` does (header checks, pixel
    limits) and turned by the same EXIF orientation, so that a mask stays aligned with its
    image. ``values`` is HxW for single-channel files: a palette (mode P) file's palette
    indices (uint8; ``palette`` is then its Kx3 uint8 RGB palette), grey uint8, 16-bit
    uint16, 32-bit int32, and a 1-bit file's pixels as uint8 0 and 255 (so it reads as
    binary); colour files give HxWx3 uint8 RGB (alpha dropped). ``palette`` is None except
    for palette files.

    Raises:
        BadImageError: the file is missing, empty, not an image, truncated, corrupt, too
            large, or holds floating-point pixels (no class indices).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from PIL import Image
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "mask.png"
        >>> mask = Image.fromarray(np.array([[0, 1, 255]], np.uint8), "P")
        >>> mask.putpalette([0, 0, 0, 128, 0, 0] + [224, 224, 192] * 254)
        >>> mask.save(path)
        >>> values, palette = read_mask(path)
        >>> values.tolist(), values.dtype.name, palette.shape, palette[1].tolist()
        ([[0, 1, 255]], 'uint8', (256, 3), [128, 0, 0])
    """
    path = Path(path)
    frame = _decode(path, max_pixels, raw_modes=_MASK_MODES).frames[0]
    mode = frame.mode
    if mode in ("P", "PA"):
        indices = np.array(frame.getchannel(0) if mode == "PA" else frame, np.uint8)
        palette = frame.getpalette("RGB") or []
        return indices, np.array(palette, np.uint8).reshape(-1, 3)
    if mode == "1":
        return np.array(frame, np.uint8) * np.uint8(255), None
    if mode in ("L", "LA"):
        return np.array(frame.getchannel(0) if mode == "LA" else frame, np.uint8), None
    if mode in _SIXTEEN_BIT:
        return np.array(frame).astype(np.uint16), None
    if mode == "I":
        return np.array(frame, np.int32), None
    if mode == "F":
        raise BadImageError(
            path,
            "its pixels are floating point, not class indices; save the mask as a grey or "
            "palette PNG of class indices",
        )
    return np.ascontiguousarray(np.array(frame)[..., :3], np.uint8), None


def read_frames(
    path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[np.ndarray]:
    """Every frame of a file (TIFF pages, GIF, WebP or PNG animation), each in the layout
    ``read_image(path, "keep")`` gives the first; ``max_pixels`` bounds all frames together.

    Raises :class:`~deepimage.errors.BadImageError` where :func:`read_image` would.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io.writing import write_frames
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "pages.tif"
        >>> write_frames(path, [np.zeros((2, 3), np.uint8), np.ones((4, 5, 3), np.uint16)])
        >>> [(frame.shape, frame.dtype.name) for frame in read_frames(path)]
        [((2, 3), 'uint8'), ((4, 5, 3), 'uint16')]
    """
    return _decode(Path(path), max_pixels, keep=True, all_frames=True).arrays()


@dataclass
class _Decoded:
    """A decoded file: its frames in L/RGB/RGBA/I;16/I/F mode, upright, what the file says
    about itself, which frames are 16-bit colour and (when asked for) their full pixels."""

    frames: list[Image.Image]
    mode: str
    format: str
    wide: list[bool]
    pages: dict[int, np.ndarray]

    def arrays(self) -> list[np.ndarray]:
        """The frames in ``read_image(..., "keep")`` layout."""
        return [
            self.pages[index] if index in self.pages else _native_array(frame)
            for index, frame in enumerate(self.frames)
        ]


def _decode(
    path: Path,
    max_pixels: int,
    keep: bool = False,
    all_frames: bool = False,
    raw_modes: frozenset[str] = frozenset(),
) -> _Decoded:
    """Decode ``path`` fully: its first frame, or every frame; with ``keep`` also the
    16-bit colour pixels that Pillow narrows to 8 bits. Frames in one of ``raw_modes``
    (masks: "P", "1") keep their mode instead of becoming L, RGB or RGBA."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise DeepImageError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True (set by some other code), so "
            "truncated images would decode silently; set it back to False"
        )
    with open_file(path) as handle:
        image = open_header(path, handle)
        check_header(path, image, max_pixels, os.fstat(handle.fileno()).st_size)
        decoded = _Decoded([], image.mode, image.format or "unknown", [_is_wide(image)], {})
        orientation = _orientation(image)  # after _is_wide: reading EXIF may decode a PNG
        count = _frame_count(path, image) if all_frames else 1
        pixels = 0
        for index in range(count):
            pixels += _seek(path, image, index)
            if pixels > max_pixels:
                raise BadImageError(
                    path,
                    f"its {count} frames hold more than {max_pixels:,} pixels together, "
                    "over the limit (max_pixels)",
                )
            if index:
                decoded.wide.append(_is_wide(image))
            decoded.frames.append(_load_frame(path, image, count == 1, raw_modes))
        if keep and any(decoded.wide):
            handle.seek(0)
            decoded.pages = _wide_pages(path, handle.read(), decoded, orientation)
    return decoded


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of the first frame (1, upright, when unreadable)."""
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block is ignored, as exif_transpose does
        return 1


def _seek(path: Path, image: Image.Image, index: int) -> int:
    """Go to frame ``index``; its pixel count."""
    try:
        image.seek(index)
    except Exception as exc:  # Pillow raises many types on corrupt data
        raise BadImageError(path, f"truncated or corrupt image data ({exc})") from exc
    return image.width * image.height


def _load_frame(
    path: Path, image: Image.Image, in_place: bool, raw_modes: frozenset[str] = frozenset()
) -> Image.Image:
    """Decode the current frame: upright, in L/RGB/RGBA/I;16/I/F mode, or its own mode when
    that is one of ``raw_modes`` (a copy unless ``in_place``, which a single-frame file can
    afford)."""
    try:
        image.load()
        frame = ImageOps.exif_transpose(image, in_place=in_place) or image
    except Exception as exc:  # Pillow raises many types on corrupt data
        raise BadImageError(path, f"truncated or corrupt image data ({exc})") from exc
    if frame.mode in raw_modes:
        return frame
    try:
        return _normalise(frame)
    except ValueError as exc:
        raise BadImageError(path, f"unsupported pixel mode {image.mode} ({exc})") from exc


def _frame_count(path: Path, image: Image.Image) -> int:
    try:
        return int(getattr(image, "n_frames", 1))
    except Exception as exc:  # counting GIF frames reads them all
        raise BadImageError(path, f"truncated or corrupt image data ({exc})") from exc


def _is_wide(image: Image.Image) -> bool:
    """Whether the current frame is 16-bit colour (read before ``load``, which drops tiles)."""
    tile = image.tile[0] if image.tile else None
    args = tile.args if tile is not None else None
    rawmode = args[0] if isinstance(args, tuple) and args else args
    return isinstance(rawmode, str) and rawmode.startswith(_WIDE_COLOUR)


def _wide_pages(
    path: Path, data: bytes, decoded: _Decoded, orientation: int
) -> dict[int, np.ndarray]:
    """The 16-bit colour frames of a file, decoded by OpenCV (uint16 RGB/RGBA, upright),
    by frame number."""
    buffer = np.frombuffer(data, np.uint8)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        if len(decoded.frames) == 1:
            page = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
            ok, pages = page is not None, [page]
        else:
            ok, pages = cv2.imdecodemulti(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        ok = False
    finally:
        cv2.utils.logging.setLogLevel(level)
    if not ok or len(pages) < len(decoded.frames):
        raise BadImageError(path, "corrupt 16-bit colour image data (OpenCV cannot decode it)")
    return {
        index: _upright(path, _rgb_order(pages[index]), frame, orientation)
        for index, frame in enumerate(decoded.frames)
        if decoded.wide[index]
    }


def _upright(path: Path, page: np.ndarray, frame: Image.Image, orientation: int) -> np.ndarray:
    """``page`` the way Pillow shows ``frame``: OpenCV applies the EXIF orientation for some
    formats and not others, so of the page as decoded and the page turned, the one whose
    high bytes are Pillow's 8 bits."""
    narrowed = np.asarray(frame)
    turned = _ORIENTATIONS.get(orientation, lambda array: array)(page)
    for candidate in (page, turned):
        if candidate.shape == narrowed.shape and np.array_equal(candidate >> 8, narrowed):
            return np.ascontiguousarray(candidate)
    raise BadImageError(path, "its 16-bit colour pixels decode differently in OpenCV and Pillow")


def _rgb_order(page: np.ndarray) -> np.ndarray:
    if page.ndim == 3 and page.shape[2] == 3:
        return cv2.cvtColor(page, cv2.COLOR_BGR2RGB)
    if page.ndim == 3 and page.shape[2] == 4:
        return cv2.cvtColor(page, cv2.COLOR_BGRA2RGBA)
    return page


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

"""From an image file's pixels to what the operations take, and back, keeping what fits.

Files hold uint8, uint16, int32 or float32 pixels, grey or colour, with or without alpha,
in one frame or several (:func:`~deepimage.io.images.read_frames`). The operations take
uint8 (0-255) or float32 (0-1), HxW or HxWx3. :func:`split` turns a file's frames into
:class:`Pixels` the operations take (16-bit scaled to 0-1, float32 and int32 mapped from
their value range to 0-1, alpha set aside); :func:`join` turns the results back into
arrays an output format holds (:func:`~deepimage.io.writing.format_holds`), in the file's
own type where the format can hold it, and says in words what it could not keep.

Example:
    >>> import numpy as np
    >>> from deepimage.io.writing import format_holds
    >>> deep = np.array([[0, 65535]], np.uint16)
    >>> pixels = split([deep])
    >>> pixels.frames[0].tolist(), pixels.kind
    ([[0.0, 1.0]], 'uint16')
    >>> arrays, lost = join(pixels, pixels.frames, pixels.alphas, format_holds("out.png"))
    >>> arrays[0].tolist(), lost
    ([[0, 65535]], [])
    >>> arrays, lost = join(pixels, pixels.frames, pixels.alphas, format_holds("out.jpg"))
    >>> arrays[0].tolist(), lost
    ([[0, 255]], ['uint16 pixels written as uint8: JPEG cannot hold uint16 grey images'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.io.writing import FormatHolds
from deepimage.process.dtypes import to_float32, to_uint8

__all__ = ["Pixels", "encodable", "join", "split"]

_RANGED = ("float32", "int32")  # kinds mapped from their value range to 0..1
_INT32 = np.iinfo(np.int32)


@dataclass(frozen=True)
class Pixels:
    """An image file's frames as the operations take them.

    ``frames`` are uint8 or float32 (0-1), HxW or HxWx3; ``alphas`` each frame's alpha
    plane in the same type, or None; ``kind`` the file's dtype name; ``span`` the value
    range mapped to 0-1 (float32 and int32 files whose values are not already 0-1).
    """

    frames: list[np.ndarray]
    alphas: list[np.ndarray | None]
    kind: str
    span: tuple[float, float] | None


def split(frames: list[np.ndarray]) -> Pixels:
    """The :class:`Pixels` of a file's frames (``read_frames`` layout).

    Raises:
        DeepImageError: the pixels are of a type no operation takes, or hold NaN or
            infinity.

    Example:
        >>> import numpy as np
        >>> pixels = split([np.array([[-2.0, 0.0, 2.0]], np.float32)])
        >>> pixels.frames[0].tolist(), pixels.span
        ([[0.0, 0.5, 1.0]], (-2.0, 2.0))
    """
    kind = frames[0].dtype.name
    if any(frame.dtype.name not in ("uint8", "uint16", *_RANGED) for frame in frames):
        raise DeepImageError(f"{kind} pixels are not supported; convert the file to 8 or 16 bits")
    span = _span(frames) if kind in _RANGED else None
    colours, alphas = [], []
    for frame in frames:
        has_alpha = frame.ndim == 3 and frame.shape[2] == 4
        colours.append(_to_unit(frame[..., :3] if has_alpha else frame, span))
        alphas.append(_to_unit(frame[..., 3], None) if has_alpha else None)
    return Pixels(colours, alphas, kind, span)


def join(
    pixels: Pixels,
    frames: list[np.ndarray],
    alphas: list[np.ndarray | None],
    holds: FormatHolds,
) -> tuple[list[np.ndarray], list[str]]:
    """Arrays ``holds.format`` can store for the processed ``frames`` and ``alphas`` of
    ``pixels``, and what could not be kept (frames, alpha, depth), in words.

    Integer results other than uint8 are labels (watershed): written as they are, in 16
    bits where the format holds them.
    """
    lost: list[str] = []
    if len(frames) > 1 and not holds.frames:
        lost.append(f"frames 2-{len(frames)} dropped: {holds.format} holds one frame")
        frames, alphas = frames[:1], alphas[:1]
    arrays = []
    for frame, alpha in zip(frames, alphas, strict=True):
        array, notes = _join_frame(pixels, frame, alpha, holds)
        arrays.append(array)
        lost += [note for note in notes if note not in lost]
    return arrays, lost


def encodable(
    pixels: Pixels, frames: list[np.ndarray], alphas: list[np.ndarray | None], encoder: str
) -> tuple[np.ndarray, list[str]]:
    """The first frame as an 8-bit encoder such as ``compress`` takes it (alpha flattened
    onto white), and what that lost, in words."""
    lost = (
        [f"frames 2-{len(frames)} dropped: {encoder} writes one frame"] if len(frames) > 1 else []
    )
    frame = frames[0]
    if alphas[0] is not None:
        frame = _on_white(frame, alphas[0])
        lost.append(f"alpha flattened onto white: {encoder} writes no alpha channel")
    if pixels.kind != "uint8":
        lost.append(f"{_described(pixels)} written as uint8: {encoder} writes 8 bits")
    return frame, lost


def _span(frames: list[np.ndarray]) -> tuple[float, float] | None:
    low = min(float(frame.min()) for frame in frames)
    high = max(float(frame.max()) for frame in frames)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DeepImageError(
            "the image holds NaN or infinite values; replace them with numbers first"
        )
    if frames[0].dtype == np.float32 and low >= 0.0 and high <= 1.0:
        return None
    return low, high


def _to_unit(array: np.ndarray, span: tuple[float, float] | None) -> np.ndarray:
    """uint8 as it is; everything else float32 in 0..1."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.uint16:
        return array.astype(np.float32) / np.float32(65535.0)
    if span is None:
        return np.ascontiguousarray(array, dtype=np.float32)
    low, high = span
    scale = 1.0 / (high - low) if high > low else 0.0
    return ((array.astype(np.float64) - low) * scale).astype(np.float32)


def _join_frame(
    pixels: Pixels, frame: np.ndarray, alpha: np.ndarray | None, holds: FormatHolds
) -> tuple[np.ndarray, list[str]]:
    if frame.dtype.kind in "iu" and frame.dtype != np.uint8:
        return _labels(frame, alpha, holds)
    notes = []
    keep_alpha = alpha is not None and holds.alpha and alpha.shape == frame.shape[:2]
    if alpha is not None and not keep_alpha:
        frame = _on_white(frame, alpha)
        notes.append(f"alpha flattened onto white: {holds.format} has no alpha channel")
    grey = frame.ndim == 2 and not keep_alpha
    allowed = holds.gray if grey else holds.colour
    target = pixels.kind if pixels.kind in allowed else _narrower(allowed)
    if target != pixels.kind:
        layout = "grey" if grey else "colour"
        notes.append(
            f"{_described(pixels)} written as {target}: "
            f"{holds.format} cannot hold {pixels.kind} {layout} images"
        )
    array = _to_file(frame, target, pixels.span)
    if keep_alpha:
        colour = array if array.ndim == 3 else np.repeat(array[..., None], 3, axis=2)
        array = np.dstack([colour, _to_file(alpha, target, None)])
    return array, notes


def _labels(
    labels: np.ndarray, alpha: np.ndarray | None, holds: FormatHolds
) -> tuple[np.ndarray, list[str]]:
    """A label image (watershed: -1 on lines, 0 background, 1..N objects) as integers."""
    top, target = (65535, np.uint16) if "uint16" in holds.gray else (255, np.uint8)
    notes = ["alpha dropped: a label image has none"] if alpha is not None else []
    if labels.min() < 0:
        notes.append("negative labels (watershed lines) written as 0")
    if labels.max() > top:
        notes.append(f"labels above {top} written as {top}: {holds.format} holds no more")
    return np.clip(labels, 0, top).astype(target), notes


def _narrower(allowed: tuple[str, ...]) -> str:
    return "uint16" if "uint16" in allowed else "uint8"


def _described(pixels: Pixels) -> str:
    if pixels.span is None:
        return f"{pixels.kind} pixels"
    low, high = pixels.span
    return f"{pixels.kind} pixels ({low:g} to {high:g})"


def _to_file(frame: np.ndarray, target: str, span: tuple[float, float] | None) -> np.ndarray:
    """Operation pixels (uint8, or float32 0..1) as ``target`` file pixels."""
    if target == "uint8":
        return to_uint8(frame)
    unit = to_float32(frame)
    if target == "uint16":
        return np.rint(np.clip(unit, 0.0, 1.0) * 65535.0).astype(np.uint16)
    low, high = span or (0.0, 1.0)
    values = unit.astype(np.float64) * (high - low) + low
    if target == "float32":
        return values.astype(np.float32)
    return np.rint(np.clip(values, _INT32.min, _INT32.max)).astype(np.int32)


def _on_white(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``frame`` composited on white by ``alpha``, float32 0..1."""
    unit, cover = to_float32(frame), to_float32(alpha)
    if unit.ndim == 3:
        cover = cover[..., None]
    return unit * cover + (1.0 - cover)

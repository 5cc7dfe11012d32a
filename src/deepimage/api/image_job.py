"""What a ``deepimage process`` run does to one image: read, transform, write, report.

:class:`ImageJob` is the plain data every image of a run goes through (it pickles to the
worker processes); :func:`process_chunk` runs it on (input, output) pairs and gives one
row each: the written output's sizes and what its format could not keep (``lost``), the
compression's figures, or an ``error`` row for an image that failed. A write that fails
(:class:`~deepimage.io.files.WriteError`, a full disk) is raised, never a row.
:func:`~deepimage.api.batch_process.process_files` plans the pairs and collects the rows.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.api.process_steps import parse_step
    >>> from deepimage.io.writing import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "a.png", np.zeros((8, 8), np.uint8))
    >>> job = ImageJob.from_steps([parse_step("resize", {"width": 4})], quality=95)
    >>> [row] = process_chunk(job, [(root / "a.png", root / "b.png")])
    >>> row["status"], row["width_out"], row["height_out"], row["lost"]
    ('processed', 4, 4, [])
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from deepimage.api.process_steps import COMPRESS, Step
from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.files import WriteError, atomic_write
from deepimage.io.images import read_frames
from deepimage.io.paths import shown_path
from deepimage.io.writing import LOSSY_SUFFIXES, format_holds, write_frames
from deepimage.process import compress
from deepimage.process.compress import CompressResult
from deepimage.process.pixels import Pixels, encodable, join, split
from deepimage.process.registry import get_operation

__all__ = ["ImageJob", "process_chunk"]


def _finite(value: float) -> float | None:
    """JSON has no infinity: a lossless PSNR is reported as null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ImageJob:
    """What every image of a run goes through (plain data, so it pickles to workers).

    ``steps`` are (registry name, options) of the image operations; ``compress`` the
    options of a final compress step, if any.
    """

    steps: tuple[tuple[str, dict[str, Any]], ...]
    compress: dict[str, Any] | None
    quality: int

    @classmethod
    def from_steps(cls, steps: Sequence[Step], quality: int) -> ImageJob:
        operations = [step for step in steps if step.op is not COMPRESS]
        last = steps[-1].options if steps[-1].op is COMPRESS else None
        return cls(tuple((step.op.name, step.options) for step in operations), last, quality)


def _transform(
    image: np.ndarray, alpha: np.ndarray | None, job: ImageJob
) -> tuple[np.ndarray, np.ndarray | None]:
    """The image through every step; its alpha plane through the geometry steps (the
    area they uncover transparent), unchanged by the others."""
    for name, options in job.steps:
        op = get_operation(name)
        image = op(image, **options)
        if alpha is not None and op.group == "geometry":
            fill = {"fill": 0} if any(param.name == "fill" for param in op.params) else {}
            alpha = op(alpha, **(options | fill))
    return image, alpha


@dataclass(frozen=True)
class _Written:
    """What a row says about a written output: its shape, what it could not keep, and
    the compression."""

    shape: tuple[int, ...]
    lost: list[str]
    encoded: CompressResult | None


def _write(
    output: Path,
    pixels: Pixels,
    results: list[tuple[np.ndarray, np.ndarray | None]],
    job: ImageJob,
) -> _Written:
    """Write the results (compressed, when the job says so): what the row reports."""
    frames, alphas = [frame for frame, _ in results], [alpha for _, alpha in results]
    if job.compress is not None:
        image, lost = encodable(pixels, frames, alphas, "compress")
        encoded = compress(image, **job.compress)
        atomic_write(output, lambda handle: handle.write(encoded.data))
        return _Written(image.shape, lost, encoded)
    arrays, lost = join(pixels, frames, alphas, format_holds(output))
    quality = job.quality if output.suffix.lower() in LOSSY_SUFFIXES else None
    write_frames(output, arrays, quality=quality)
    return _Written(frames[0].shape, lost, None)


def _row(
    source: Path, output: Path, shape_in: tuple[int, ...], written: _Written, seconds: float
) -> dict[str, Any]:
    (height_in, width_in), (height_out, width_out) = shape_in[:2], written.shape[:2]
    row = {
        "path": shown_path(source),
        "output": shown_path(output),
        "status": "processed",
        "seconds": round(seconds, 6),
        "bytes_in": source.stat().st_size,
        "bytes_out": output.stat().st_size,
        "width_in": width_in,
        "height_in": height_in,
        "width_out": width_out,
        "height_out": height_out,
        "lost": written.lost,
    }
    if written.encoded is not None:
        encoded = written.encoded
        row |= {"format": encoded.format, "quality": encoded.quality}
        row |= {"psnr": _finite(encoded.psnr), "ssim": encoded.ssim}
    return row


def _failure(source: Path, error: DeepImageError) -> dict[str, str]:
    """The row of an image that failed: the error to raise and the reason to list."""
    if isinstance(error, BadImageError):
        return {"path": shown_path(source), "error": str(error), "reason": error.reason}
    message = f"{source}: {str(error).rstrip('.')}. Pass --skip-bad to skip the images that fail."
    return {"path": shown_path(source), "error": message, "reason": str(error)}


def _process_one(job: ImageJob, source: Path, output: Path) -> dict[str, Any]:
    """Read, transform and write one image; an error of this image becomes an ``error``
    row, a write that fails (:class:`~deepimage.io.files.WriteError`) stops the run."""
    start = time.perf_counter()
    try:
        pixels = split(read_frames(source))
        results = [
            _transform(frame, alpha, job)
            for frame, alpha in zip(pixels.frames, pixels.alphas, strict=True)
        ]
        written = _write(output, pixels, results, job)
    except WriteError:
        raise
    except DeepImageError as error:
        return _failure(source, error)
    except cv2.error as error:  # OpenCV refusing this image with these options
        reason = str(error).strip().splitlines()[-1]
        return _failure(source, DeepImageError(f"OpenCV cannot process it ({reason})"))
    return _row(source, output, pixels.frames[0].shape, written, time.perf_counter() - start)


def process_chunk(job: ImageJob, pairs: list[tuple[Path, Path]]) -> list[dict[str, Any]]:
    """One row per (input, output) pair, in order (what one worker task does)."""
    return [_process_one(job, source, output) for source, output in pairs]

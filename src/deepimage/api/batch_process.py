"""Run classical operations over files, folders and globs: the engine of ``deepimage process``.

A *pipeline* is a list of :class:`Step` (an operation of :mod:`deepimage.process.registry`
with checked options), optionally ending with ``compress``. :func:`process_files` runs it
on every image and writes the results under an output folder that mirrors the inputs'
folder structure, then ``report.json`` there: ``{steps, inputs, out_dir, workers, totals,
results, skipped}``, one row per image under ``results`` and the images left out under
``skipped`` as ``{path, reason}``, every path absolute.

Files keep their format: a PNG gives a PNG, a JPEG a JPEG (written at quality 95), a GIF
or PNM a PNG; ``compress`` writes its own format. 8-bit grey and RGB stay as they are;
16-bit grey files go through the operations as float32 in [0, 1] and are written back as
16-bit (operations that only work in 8 bits, such as Canny, Otsu, adaptive thresholds and
non-local means, quantise to 8 bits on the way); RGBA is composited on white and
written as RGB; 32-bit integer and float files are read as 8-bit grey. EXIF orientation is
applied on reading.

Safety: inputs are never replaced unless ``inplace=True`` (and then atomically); every
write goes to a temporary file renamed into place, so a failure leaves no partial file.
A bad image stops the run with an error naming it, or with ``skip_bad=True`` is listed
under ``skipped`` while the others are processed.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.images import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "in" / "a.png", np.zeros((8, 8, 3), np.uint8))
    >>> report = process_files(
    ...     [root / "in"], root / "out", [parse_step("blur", {"sigma": 2})], quiet=True
    ... )
    >>> report["totals"]["processed"], (root / "out" / "a.png").is_file()
    (1, True)
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from deepimage.api.parallel import ordered_map, progress_bar
from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.files import atomic_write, write_json
from deepimage.io.images import JPEG_QUALITY, LOSSY_SUFFIXES, read_image, write_image
from deepimage.io.outputs import output_paths
from deepimage.io.paths import find_images, shown_path
from deepimage.process import compress, to_uint8
from deepimage.process.compress import CompressResult
from deepimage.process.registry import (
    Dispatch,
    Operation,
    describe,
    get_operation,
    list_operations,
)

__all__ = [
    "COMPRESS",
    "Step",
    "load_pipeline",
    "operation_catalog",
    "parse_step",
    "plan_outputs",
    "process_files",
]

COMPRESS = describe(compress, "compress")
"""``compress`` described like the registry operations; only valid as a pipeline's last step."""

_COMPRESS_SUFFIXES = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}
_CHUNK = 4


@dataclass(frozen=True)
class Step:
    """One operation of a pipeline with its checked, typed options."""

    op: Operation
    options: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """``{"op": name, **options}``, the pipeline-file form of the step."""
        return {"op": self.op.name, **self.options}


def _resolve(name: str) -> Operation:
    return COMPRESS if name == "compress" else get_operation(name)


def _as_text(value: Any) -> str:
    """Option text from a command-line or YAML value (lists become ``1,2,3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def parse_step(name: str, options: Mapping[str, Any] | None = None) -> Step:
    """A checked :class:`Step` from an operation name and option values or texts.

    Example:
        >>> parse_step("edges", {"method": "canny", "low": 50, "high": "150"}).options
        {'method': 'canny', 'low': 50.0, 'high': 150.0}
    """
    op = _resolve(name)
    texts = {key.replace("-", "_"): _as_text(value) for key, value in (options or {}).items()}
    return Step(op, op.parse_options(texts))


def _check_pipeline(steps: Sequence[Step]) -> None:
    if not steps:
        raise DeepImageError("the pipeline has no steps; give at least one operation")
    if any(step.op is COMPRESS for step in steps[:-1]):
        raise DeepImageError("compress writes the file, so it can only be the last step")


def load_pipeline(path: str | os.PathLike[str]) -> list[Step]:
    """Read a YAML pipeline: a list of ``{op: name, option: value, ...}`` mappings.

    Errors name the file and the step (counted from 1).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.yaml"
        >>> _ = path.write_text("- op: resize\\n  width: 64\\n- {op: blur, sigma: 1.5}\\n")
        >>> [step.as_dict() for step in load_pipeline(path)]
        [{'op': 'resize', 'width': 64}, {'op': 'blur', 'sigma': 1.5}]
    """
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeepImageError(f"{path}: cannot read the pipeline file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise DeepImageError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(spec, list):
        raise DeepImageError(
            f"{path}: a pipeline is a YAML list of steps such as '- {{op: blur, sigma: 2}}'"
        )
    steps = [_load_step(path, number, item) for number, item in enumerate(spec, 1)]
    try:
        _check_pipeline(steps)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: {error}") from None
    return steps


def _load_step(path: Path, number: int, item: Any) -> Step:
    if not isinstance(item, dict) or "op" not in item:
        raise DeepImageError(
            f"{path}: step {number} must be a mapping with an 'op' key, got {item!r}"
        )
    options = {key: value for key, value in item.items() if key != "op"}
    try:
        return parse_step(str(item["op"]), options)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: step {number} ({item['op']}): {error}") from None


# --- inputs and outputs -------------------------------------------------------------


def plan_outputs(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    compress_format: str | None = None,
    inplace: bool = False,
) -> list[tuple[Path, Path]]:
    """(input, output) pairs: inputs expanded, outputs mirroring them under ``outdir``
    (:func:`~deepimage.io.outputs.output_paths`: same-named outputs numbered).

    Refuses (unless ``inplace``) an output that is an input file, or an ``outdir`` that is
    or lies inside an input folder.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "in" / "sub").mkdir(parents=True)
        >>> _ = (root / "in" / "sub" / "a.gif").write_bytes(b"GIF89a")
        >>> [out.relative_to(root).as_posix() for _, out in plan_outputs([root / "in"], root / "out")]
        ['out/sub/a.png']
    """
    inputs = list(inputs)
    outdir_abs = Path(outdir).resolve()
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        root, files = find_images(item)
        if not (inplace or Path(item).is_file()) and outdir_abs.is_relative_to(root.resolve()):
            raise DeepImageError(
                f"output folder {outdir} is in the input folder {root} (from {item}); "
                "choose another --out, or pass --inplace to write there"
            )
        found += [(root, file) for file in files]
    if not found:
        raise DeepImageError(f"no image files found in {', '.join(map(str, inputs))}")
    suffix = None if compress_format is None else _COMPRESS_SUFFIXES[compress_format]
    plan = output_paths(found, outdir, suffix=suffix, writable=True, inplace=inplace)
    return list(plan.items())


# --- one image ----------------------------------------------------------------------


def _load(path: Path) -> tuple[np.ndarray, int]:
    """(image the operations accept, bit depth to write back: 8 or 16)."""
    image = read_image(path, "keep")
    if image.dtype == np.uint16:
        return image.astype(np.float32) / np.float32(65535.0), 16
    if image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] == 3):
        return image, 8
    return read_image(path, "rgb" if image.ndim == 3 else "gray"), 8


def _to_file_pixels(image: np.ndarray, depth: int) -> np.ndarray:
    if depth == 16 and image.ndim == 2:
        return np.rint(np.clip(image.astype(np.float32), 0.0, 1.0) * 65535.0).astype(np.uint16)
    return to_uint8(image)


def _finite(value: float) -> float | None:
    """JSON has no infinity: a lossless PSNR is reported as null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _Job:
    """What every image of a run goes through (plain data, so it pickles to workers).

    ``steps`` are (registry name, options) of the image operations; ``compress`` the
    options of a final compress step, if any.
    """

    steps: tuple[tuple[str, dict[str, Any]], ...]
    compress: dict[str, Any] | None
    quality: int

    @classmethod
    def from_steps(cls, steps: Sequence[Step], quality: int) -> _Job:
        operations = [step for step in steps if step.op is not COMPRESS]
        last = steps[-1].options if steps[-1].op is COMPRESS else None
        return cls(tuple((step.op.name, step.options) for step in operations), last, quality)


def _transform(image: np.ndarray, job: _Job) -> np.ndarray:
    for name, options in job.steps:
        image = get_operation(name)(image, **options)
    return image


def _write(output: Path, image: np.ndarray, depth: int, job: _Job) -> CompressResult | None:
    """Write the image (compressed, when the job says so) and return the compression."""
    if job.compress is not None:
        result = compress(image, **job.compress)
        atomic_write(output, lambda handle: handle.write(result.data))
        return result
    quality = job.quality if output.suffix.lower() in LOSSY_SUFFIXES else None
    write_image(output, _to_file_pixels(image, depth), quality=quality)
    return None


def _row(
    source: Path,
    output: Path,
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
    encoded: CompressResult | None,
    seconds: float,
) -> dict[str, Any]:
    (height_in, width_in), (height_out, width_out) = (shape[:2] for shape in shapes)
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
    }
    if encoded is not None:
        row |= {"format": encoded.format, "quality": encoded.quality}
        row |= {"psnr": _finite(encoded.psnr), "ssim": encoded.ssim}
    return row


def _failure(source: Path, error: DeepImageError) -> dict[str, str]:
    """The row of an image that failed: the error to raise and the reason to list."""
    if isinstance(error, BadImageError):
        return {"path": shown_path(source), "error": str(error), "reason": error.reason}
    message = f"{source}: {str(error).rstrip('.')}. Pass --skip-bad to skip the images that fail."
    return {"path": shown_path(source), "error": message, "reason": str(error)}


def _process_one(job: _Job, source: Path, output: Path) -> dict[str, Any]:
    """Read, transform and write one image; a user error becomes an ``error`` row."""
    start = time.perf_counter()
    try:
        image, depth = _load(source)
        final = _transform(image, job)
        encoded = _write(output, final, depth, job)
    except DeepImageError as error:
        return _failure(source, error)
    shapes = (image.shape, final.shape)
    return _row(source, output, shapes, encoded, time.perf_counter() - start)


def _process_chunk(job: _Job, pairs: list[tuple[Path, Path]]) -> list[dict[str, Any]]:
    return [_process_one(job, source, output) for source, output in pairs]


# --- many images --------------------------------------------------------------------


def _chunks(pairs: Iterable[tuple[Path, Path]], size: int) -> Iterator[list[tuple[Path, Path]]]:
    iterator = iter(pairs)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _in_process(job: _Job, chunks: Iterator[list[tuple[Path, Path]]]) -> Iterator[dict]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # like each pool worker, so 1 worker compares with N
    try:
        for chunk in chunks:
            yield from _process_chunk(job, chunk)
    finally:
        cv2.setNumThreads(threads)


def _in_pool(job: _Job, chunks: Iterator[list[tuple[Path, Path]]], workers: int) -> Iterator[dict]:
    """Rows in input order; at most ``4 x workers`` chunks are queued at any time."""
    work = partial(_process_chunk, job)
    for rows in ordered_map(work, chunks, workers):
        yield from rows


def _rows(
    job: _Job,
    pairs: list[tuple[Path, Path]],
    workers: int,
    skip_existing: bool,
    quiet: bool,
) -> Iterator[dict[str, Any]]:
    """One row per input: skipped outputs at once, the others as they are processed."""
    todo = []
    for source, out in pairs:
        if skip_existing and out.exists():
            yield {
                "path": shown_path(source),
                "output": shown_path(out),
                "status": "skipped_existing",
            }
        else:
            todo.append((source, out))
    chunks = _chunks(todo, _CHUNK)
    rows = _in_process(job, chunks) if workers == 1 else _in_pool(job, chunks, workers)
    with progress_bar(quiet) as progress:
        task = progress.add_task("processing", total=len(todo))
        for row in rows:
            progress.advance(task)
            yield row


def _collect(rows: Iterable[dict[str, Any]], skip_bad: bool) -> tuple[list[dict], list[dict]]:
    """(image rows, ``{path, reason}`` of bad files); without ``skip_bad`` the first bad
    file raises."""
    images: list[dict] = []
    bad: list[dict] = []
    for row in rows:
        if "error" not in row:
            images.append(row)
        elif skip_bad:
            bad.append({"path": row["path"], "reason": row["reason"]})
        else:
            raise DeepImageError(row["error"])
    return images, bad


def process_files(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    steps: Sequence[Step],
    *,
    workers: int = 1,
    inplace: bool = False,
    skip_existing: bool = False,
    skip_bad: bool = False,
    quiet: bool = False,
    quality: int = JPEG_QUALITY,
) -> dict[str, Any]:
    """Run ``steps`` on every image of ``inputs``; write outputs and ``outdir/report.json``.

    ``workers`` > 1 runs that many processes (OpenCV single-threaded in each, and in this
    process while it runs, so N workers use N cores). Returns the report: per-image rows
    under ``results``, the bad files left out under ``skipped``, ``totals`` and
    ``out_dir`` (see the module's description).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.io.images import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> write_image(root / "a.png", np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1)))
        >>> step = parse_step("compress", {"format": "jpeg", "quality": 80})
        >>> row = process_files([root / "a.png"], root / "out", [step], quiet=True)["results"][0]
        >>> row["output"].endswith("a.jpg"), row["quality"], row["psnr"] > 30
        (True, 80, True)
    """
    if workers < 1:
        raise DeepImageError(f"workers must be at least 1, got {workers}")
    if not 1 <= quality <= 100:
        raise DeepImageError(f"quality must be between 1 and 100, got {quality}")
    _check_pipeline(steps)
    job = _Job.from_steps(steps, quality)
    compress_format = None if job.compress is None else job.compress.get("format", "jpeg")
    inputs = [str(item) for item in inputs]
    pairs = plan_outputs(inputs, outdir, compress_format, inplace)
    start = time.perf_counter()
    with closing(_rows(job, pairs, min(workers, len(pairs)), skip_existing, quiet)) as rows:
        images, bad = _collect(rows, skip_bad)
    report = _report(steps, inputs, outdir, workers, images, bad, time.perf_counter() - start)
    write_json(Path(outdir) / "report.json", report)
    return report


def _report(
    steps: Sequence[Step],
    inputs: list[str],
    outdir: str | os.PathLike[str],
    workers: int,
    images: list[dict],
    bad: list[dict],
    seconds: float,
) -> dict[str, Any]:
    processed = sum(row["status"] == "processed" for row in images)
    return {
        "steps": [step.as_dict() for step in steps],
        "inputs": [shown_path(item) for item in inputs],
        "out_dir": shown_path(outdir),
        "workers": workers,
        "totals": {
            "images": len(images) + len(bad),
            "processed": processed,
            "skipped_existing": len(images) - processed,
            "skipped": len(bad),
            "seconds": round(seconds, 3),
            "images_per_s": round(processed / seconds, 2) if seconds > 0 else None,
        },
        "results": images,
        "skipped": bad,
    }


# --- describing the operations ------------------------------------------------------


def _option_info(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": param.name,
            "type": param.type.__name__,
            "default": None if param.required else param.default,
            "required": param.required,
            "choices": list(param.choices) if param.choices else None,
            "help": param.help,
        }
        for param in op.params
    ]


def operation_catalog() -> list[dict[str, Any]]:
    """Every operation of ``deepimage process`` (registry ones, then ``compress``) as data.

    Example:
        >>> blur = next(op for op in operation_catalog() if op["name"] == "blur")
        >>> blur["group"], blur["methods"][:2], blur["options"][1]["name"]
        ('filters', ['gaussian', 'median'], 'sigma')
    """
    return [
        {
            "name": op.name,
            "group": op.group,
            "help": op.help,
            "methods": list(op.methods) if isinstance(op, Dispatch) else None,
            "options": _option_info(op),
        }
        for op in [*list_operations(), COMPRESS]
    ]

"""Run classical operations over files, folders and globs: the engine of ``deepimage process``.

A *pipeline* is a list of :class:`~deepimage.api.process_steps.Step` (an operation of
:mod:`deepimage.process.registry` with checked options, :mod:`deepimage.api.process_steps`),
optionally ending with ``compress``. :func:`process_files` runs it
on every image and writes the results under an output folder that mirrors the inputs'
folder structure, then ``report.json`` there: ``{steps, inputs, out_dir, workers, totals,
results, skipped}``, one row per image under ``results`` and the images left out under
``skipped`` as ``{path, reason}``, every path absolute. Folders give their files with an
image extension and, by content, those without one (the Yale faces' ``subject01.happy``);
a file named on its own is read by its content whatever its name.

Files keep their format: a PNG gives a PNG, a JPEG a JPEG (written at quality 95), a GIF
or PNM a PNG; ``compress`` writes its own format. Pixels keep their type and depth where
the output format holds them: 8-bit stays 8-bit, 16-bit grey and colour go through the
operations as float32 in [0, 1] and come back 16-bit, float32 and 32-bit integer files
are mapped from their value range to [0, 1] and back (operations that only work in 8
bits, such as Canny, Otsu, adaptive thresholds and non-local means, quantise to 8 bits on
the way). Alpha is kept (geometry moves it with the image; other operations leave it),
and every frame of a multi-frame file is processed. What an output format cannot hold
(alpha in a JPEG, 16 bits in a WebP, a second frame in a PNG) is converted and said in
the row's ``lost`` list. EXIF orientation is applied on reading.

Safety: inputs are never replaced unless ``inplace=True`` (and then atomically), nor
reached through a symlinked output folder; a file already at an output path is refused
unless ``existing`` says to replace (``"overwrite"``) or keep (``"skip"``) it. Options,
the output folder and the outputs are all checked before the first image. Every write
goes to a temporary file renamed into place, so a failure leaves no partial file; a
write that fails (a full disk) stops the run with an error naming the file. A bad image
stops the run with an error naming it, or with ``skip_bad=True`` is listed under
``skipped`` while the others are processed.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.api.process_steps import parse_step
    >>> from deepimage.io.writing import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "in" / "a.png", np.zeros((8, 8, 3), np.uint8))
    >>> report = process_files(
    ...     [root / "in"], root / "out", [parse_step("blur", {"sigma": 2})], quiet=True
    ... )
    >>> report["totals"]["processed"], (root / "out" / "a.png").is_file()
    (1, True)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import cv2

from deepimage.api.image_job import ImageJob, process_chunk
from deepimage.api.parallel import ordered_map, progress_bar
from deepimage.api.process_steps import Step, check_pipeline
from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder, write_json
from deepimage.io.outputs import Existing, OutputExistsError, output_paths
from deepimage.io.paths import find_images, shown_path
from deepimage.io.writing import JPEG_QUALITY

__all__ = ["MAX_WORKERS", "Plan", "plan_outputs", "process_files"]

_COMPRESS_SUFFIXES = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}
_CHUNK = 4
MAX_WORKERS = 64
"""Most worker processes :func:`process_files` starts."""


# --- inputs and outputs -------------------------------------------------------------


@dataclass
class Plan:
    """What a run will do, decided before the first image: ``todo`` (input, output) pairs,
    ``kept`` pairs whose output exists and is kept, and ``skipped`` unreadable folders
    (``{path, reason}``)."""

    todo: list[tuple[Path, Path]]
    kept: list[tuple[Path, Path]]
    skipped: list[dict[str, str]]


def plan_outputs(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    compress_format: str | None = None,
    inplace: bool = False,
    existing: Existing = "refuse",
    output_format: str | None = None,
    lossless: bool = False,
) -> Plan:
    """The :class:`Plan`: inputs expanded, outputs mirroring them under ``outdir``
    (:func:`~deepimage.io.outputs.output_paths`: same-named outputs numbered; files
    already there refused, replaced or kept as ``existing`` says).

    Refuses (unless ``inplace``) an output that is an input file or reaches into an input
    folder through a symlink, or an ``outdir`` that is or lies inside an input folder.
    ``output_format`` (an extension without the dot: png, jpg, tif, ...) names every
    output's format; otherwise each keeps its input's, except that ``lossless`` outputs
    (masks, labels) of JPEG or WebP inputs become PNG.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "in" / "sub").mkdir(parents=True)
        >>> _ = (root / "in" / "sub" / "a.gif").write_bytes(b"GIF89a")
        >>> plan = plan_outputs([root / "in"], root / "out")
        >>> [out.relative_to(root).as_posix() for _, out in plan.todo], plan.kept
        (['out/sub/a.png'], [])
    """
    inputs = list(inputs)
    outdir_abs = Path(outdir).resolve()
    found: list[tuple[Path, Path]] = []
    skipped: list[dict[str, str]] = []
    for item in inputs:
        root, files = find_images(item, by_content=True, skipped=skipped)
        if not (inplace or Path(item).is_file()) and outdir_abs.is_relative_to(root.resolve()):
            raise DeepImageError(
                f"output folder {outdir} is in the input folder {root} (from {item}); "
                "choose another --out, or pass --inplace to write there"
            )
        found += [(root, file) for file in files]
    if not found:
        raise DeepImageError(f"no image files found in {', '.join(map(str, inputs))}")
    suffix = _output_suffix(compress_format, output_format)
    kept: dict[Path, Path] = {}
    try:
        plan = output_paths(
            found,
            outdir,
            suffix=suffix,
            writable=True,
            lossless=lossless,
            inplace=inplace,
            existing=existing,
            kept=kept,
        )
    except OutputExistsError as error:
        fix = "pass --overwrite to replace existing outputs or --skip-existing to keep them"
        raise OutputExistsError(error.output, error.source, error.others, fix) from None
    return Plan(list(plan.items()), list(kept.items()), skipped)


# --- many images --------------------------------------------------------------------


def _chunks(pairs: Iterable[tuple[Path, Path]], size: int) -> Iterator[list[tuple[Path, Path]]]:
    iterator = iter(pairs)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _in_process(job: ImageJob, chunks: Iterator[list[tuple[Path, Path]]]) -> Iterator[dict]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # like each pool worker, so 1 worker compares with N
    try:
        for chunk in chunks:
            yield from process_chunk(job, chunk)
    finally:
        cv2.setNumThreads(threads)


def _in_pool(
    job: ImageJob, chunks: Iterator[list[tuple[Path, Path]]], workers: int
) -> Iterator[dict]:
    """Rows in input order; at most ``4 x workers`` chunks are queued at any time."""
    work = partial(process_chunk, job)
    for rows in ordered_map(work, chunks, workers):
        yield from rows


def _rows(job: ImageJob, plan: Plan, workers: int, quiet: bool) -> Iterator[dict[str, Any]]:
    """One row per input: kept outputs at once, the others as they are processed."""
    for source, out in plan.kept:
        yield {"path": shown_path(source), "output": shown_path(out), "status": "skipped_existing"}
    chunks = _chunks(plan.todo, _CHUNK)
    rows = _in_process(job, chunks) if workers == 1 else _in_pool(job, chunks, workers)
    with progress_bar(quiet) as progress:
        task = progress.add_task("processing", total=len(plan.todo))
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


def _output_suffix(compress_format: str | None, output_format: str | None) -> str | None:
    if compress_format is None:
        return None if output_format is None else "." + output_format.lower().lstrip(".")
    if output_format is not None:
        raise DeepImageError("compress names its own format; drop --format")
    return _COMPRESS_SUFFIXES[compress_format]


def process_files(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    steps: Sequence[Step],
    *,
    workers: int = 1,
    inplace: bool = False,
    existing: Existing = "refuse",
    skip_bad: bool = False,
    quiet: bool = False,
    quality: int = JPEG_QUALITY,
    output_format: str | None = None,
) -> dict[str, Any]:
    """Run ``steps`` on every image of ``inputs``; write outputs and ``outdir/report.json``.
    Outputs keep their input's format unless ``output_format`` names one; a binary or
    label output (threshold, edges, segment) of a JPEG or WebP input is written as PNG.

    ``workers`` > 1 runs that many processes (at most :data:`MAX_WORKERS`; OpenCV
    single-threaded in each, and in this process while it runs, so N workers use N
    cores). ``existing`` says what happens to files already at output paths: refused
    (the default), replaced (``"overwrite"``) or kept (``"skip"``). Everything that does
    not depend on one image (options, outputs, the output folder) is checked before the
    first image. Returns the report: per-image rows under ``results``, the bad files and
    unreadable folders left out under ``skipped``, ``totals`` and ``out_dir`` (see the
    module's description).

    Raises:
        DeepImageError: a bad option, output or folder (before any image), the first bad
            image without ``skip_bad``, or a write that failed
            (:class:`~deepimage.io.files.WriteError`, even with ``skip_bad``).

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from deepimage.api.process_steps import parse_step
        >>> from deepimage.io.writing import write_image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> write_image(root / "a.png", np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1)))
        >>> step = parse_step("compress", {"format": "jpeg", "quality": 80})
        >>> row = process_files([root / "a.png"], root / "out", [step], quiet=True)["results"][0]
        >>> row["output"].endswith("a.jpg"), row["quality"], row["psnr"] > 30, row["lost"]
        (True, 80, True, [])
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise DeepImageError(f"workers must be from 1 to {MAX_WORKERS}, got {workers}")
    if not 1 <= quality <= 100:
        raise DeepImageError(f"quality must be between 1 and 100, got {quality}")
    check_pipeline(steps)
    job = ImageJob.from_steps(steps, quality)
    compress_format = None if job.compress is None else job.compress.get("format", "jpeg")
    inputs = [str(item) for item in inputs]
    lossless = any(step.op.exact_values for step in steps)
    plan = plan_outputs(inputs, outdir, compress_format, inplace, existing, output_format, lossless)
    check_writable_folder(outdir)
    start = time.perf_counter()
    with closing(_rows(job, plan, min(workers, max(len(plan.todo), 1)), quiet)) as rows:
        images, bad = _collect(rows, skip_bad)
    seconds = time.perf_counter() - start
    report = _report(steps, inputs, outdir, workers, images, bad, plan.skipped, seconds)
    write_json(Path(outdir) / "report.json", report)
    return report


def _report(
    steps: Sequence[Step],
    inputs: list[str],
    outdir: str | os.PathLike[str],
    workers: int,
    images: list[dict],
    bad: list[dict],
    folders: list[dict],
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
            "skipped": len(folders) + len(bad),
            "seconds": round(seconds, 3),
            "images_per_s": round(processed / seconds, 2) if seconds > 0 else None,
        },
        "results": images,
        "skipped": folders + bad,
    }

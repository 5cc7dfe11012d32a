"""The files face commands write: copies of images with their faces drawn, and the
calibration report (``roc.png``, ``report.json``) of :meth:`FaceRecognizer.calibrate
<deepimage.api.faces.FaceRecognizer.calibrate>`.

A report's files already in its folder are refused (unless ``overwrite``) before the
first image is read, by :func:`check_report_folder`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from deepimage.faces.calibrate import calibrate as calibrate_embeddings
from deepimage.faces.match import Metric
from deepimage.io.files import check_writable_folder, fresh_dir, write_json
from deepimage.io.images import read_image
from deepimage.io.outputs import OutputExistsError
from deepimage.io.paths import shown_path
from deepimage.io.writing import JPEG_QUALITY, LOSSY_SUFFIXES, write_image
from deepimage.viz.draw import draw_boxes

# --- image copies -------------------------------------------------------------------


def save_image(target: Path, image: np.ndarray) -> None:
    """Write ``image`` to ``target`` (JPEG and other lossy formats at deepimage's quality)."""
    quality = JPEG_QUALITY if target.suffix.lower() in LOSSY_SUFFIXES else None
    write_image(target, image, quality=quality)


def draw_faces(
    path: str | np.ndarray, faces: Sequence[dict[str, Any]], labels: Sequence[str]
) -> np.ndarray:
    """The image at ``path`` (or an RGB array) with its face boxes (and landmarks) drawn
    and labelled."""
    image = read_image(path) if isinstance(path, str) else path
    boxes = np.array([face["box"] for face in faces], np.float64).reshape(-1, 4)
    drawn = draw_boxes(image, boxes, list(labels))
    radius = max(1, round(max(image.shape[:2]) / 400))
    for face in faces:
        for x, y in face.get("landmarks", []):
            cv2.circle(drawn, (x, y), radius, (255, 0, 0), -1)
    return drawn


# --- calibration reports ------------------------------------------------------------


def check_report_folder(
    out: str | os.PathLike[str], data: str | os.PathLike[str], overwrite: bool
) -> None:
    """Refuse a report folder ``out`` (for the labelled folder ``data``) that holds a
    ``roc.png`` or ``report.json`` already, unless ``overwrite``, or cannot be written."""
    written = [Path(out) / "roc.png", Path(out) / "report.json"]
    taken = [path for path in written if os.path.lexists(path)]
    if taken and not overwrite:
        raise OutputExistsError(taken[0], Path(data), len(taken) - 1)
    check_writable_folder(out)


def calibration_report(
    vectors: np.ndarray,
    labels: Sequence[str],
    metric: Metric,
    data: str | os.PathLike[str],
    images: int,
    skipped: list[dict[str, str]],
    out: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    """Calibrate on the embeddings ``vectors`` of the people ``labels`` (from ``images``
    images of ``data``); write ``roc.png`` and ``report.json`` in ``out`` (default a new
    ``runs/faces/calibrate`` folder) and return the report."""
    result = calibrate_embeddings(vectors, list(labels), metric)
    folder = Path(out) if out is not None else fresh_dir(Path("runs") / "faces" / "calibrate")
    report = {
        "data": shown_path(data),
        "images": images,
        "embeddings": len(vectors),
        "people": len(set(labels)),
        **result.summary(),
        "roc": shown_path(folder / "roc.png"),
        "skipped": skipped,
        "out_dir": shown_path(folder),
    }
    from deepimage.viz.plots import plot_roc  # matplotlib: load when plotting

    plot_roc(
        result.false_positive_rate,
        result.true_positive_rate,
        folder / "roc.png",
        f"face verification, {metric} (accuracy {result.accuracy:.3f} at {result.threshold:.3f})",
        result.operating_point,
    )
    write_json(folder / "report.json", report)
    return report

"""Folder throughput of face detection + embedding: a plain dlib loop, deepimage with 1 worker,
deepimage with N workers.

Builds a folder of real JPEGs in a temporary directory (never in the repository): the
faces-fr photographs of ``$DEEPIMAGE_DATA/faces-fr`` (default ``../shared/data``),
re-encoded with their long side at 640, 480 and 400 px until there are ``--count``
files. Every run does the same work per image: decode to RGB, dlib's HOG detector
upsampled once, the 5-point landmarks and the 128-d ResNet embedding of every face,
with the models loaded inside the timed part. The baseline is what face_recognition
does (``load_image_file``, ``face_locations``, ``face_encodings``), written as the same
dlib calls in a plain loop. The last stdout line is one JSON object.

    .venv/bin/python bench/faces.py                 # 120 images, N = 2
    .venv/bin/python bench/faces.py --count 40 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

from deepimage.api.faces import FaceRecognizer
from deepimage.faces.models import model_path
from folders import build_folder, data_root

SIDES = (640, 480, 400)


def plain_dlib(files: list[Path]) -> list[list[list[float]]]:
    """face_recognition's calls, in a loop: one list of embeddings per image."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(model_path("landmarks5")))
    encoder = dlib.face_recognition_model_v1(str(model_path("encoder")))
    results = []
    for file in files:
        image = np.array(Image.open(file).convert("RGB"))
        shapes = [predictor(image, rect) for rect in detector(image, 1)]
        results.append([list(encoder.compute_face_descriptor(image, s, 1)) for s in shapes])
    return results


def flat(results: list[list[list[float]]]) -> np.ndarray:
    """Every embedding of a run, image after image, as one (faces, 128) array."""
    return np.array([vector for image in results for vector in image]).reshape(-1, 128)


def timed(name: str, run: Callable[[], list[list[list[float]]]]) -> dict:
    start = time.perf_counter()
    results = run()
    seconds = time.perf_counter() - start
    return {"name": name, "seconds": round(seconds, 2), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=120, help="number of JPEGs")
    parser.add_argument("--workers", type=int, default=2, help="N, compared with 1")
    args = parser.parse_args()
    load_before = [round(value, 2) for value in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="deepimage-bench-") as tmp:
        folder = Path(tmp) / "jpegs"
        folder.mkdir()
        size = build_folder(folder, args.count, data_root() / "faces-fr" / "examples", SIDES)
        files = sorted(folder.iterdir())
        print(f"{args.count} JPEGs ({size / 1e6:.1f} MB, long side {SIDES} px) in {folder}")

        def ours(workers: int) -> list[list[list[float]]]:
            # no fallback detectors: the same work per image as the plain loop
            recognizer = FaceRecognizer(workers=workers, fallback=False)
            rows = recognizer.detect([folder], embed=True)["results"]
            return [[face["embedding"] for face in row["faces"]] for row in rows]

        runs = [
            timed("plain dlib loop", lambda: plain_dlib(files)),
            timed("deepimage, 1 worker", lambda: ours(1)),
            timed(f"deepimage, {args.workers} workers", lambda: ours(args.workers)),
        ]
    reference = flat(runs[0]["results"])
    same = all(
        flat(run["results"]).shape == reference.shape
        and np.allclose(flat(run["results"]), reference, rtol=0, atol=1e-6)
        for run in runs[1:]
    )
    faces = len(reference)
    for run in runs:
        run["images_per_s"] = round(args.count / run["seconds"], 2)
        del run["results"]
        print(f"{run['name']:>24}: {run['images_per_s']:6.2f} images/s ({run['seconds']:.1f} s)")
    baseline, one, many = (run["images_per_s"] for run in runs)
    print(f"{faces} faces; deepimage gives the plain loop's embeddings: {same}")
    print(f"ratio deepimage 1 worker / plain loop: {one / baseline:.2f}x")
    print(f"ratio {args.workers} workers / 1 worker: {many / one:.2f}x")
    print(f"ratio {args.workers} workers / plain loop: {many / baseline:.2f}x")
    load_after = [round(value, 2) for value in os.getloadavg()]
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    result = {
        "bench": "faces-detect-embed",
        "images": args.count,
        "faces": faces,
        "machine": machine,
        "load_before": load_before,
        "load_after": load_after,
        "same_embeddings": same,
        "runs": runs,
        "ratio_1_worker_vs_plain": round(one / baseline, 3),
        f"ratio_{args.workers}_workers_vs_1": round(many / one, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

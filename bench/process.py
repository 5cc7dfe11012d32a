"""Folder throughput of ``deepimage process denoise`` with 1 and N worker processes.

Builds a folder of real JPEGs in a temporary directory (never in the repository): the
raccoon photographs of ``$DEEPIMAGE_DATA/raccoon/images`` (default ``../shared/data``),
re-encoded at several sizes until there are ``--count`` files. Then times the same
denoise run (non-local means, the defaults) with ``--workers 1`` and ``--workers N`` and
prints both rates and their ratio; the last stdout line is one JSON object.

    .venv/bin/python bench/process.py            # 600 images, max side 320 px, N = 2
    .venv/bin/python bench/process.py --count 60 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from deepimage.api.batch_process import process_files
from deepimage.api.process_steps import parse_step
from folders import build_folder, data_root

SIDES = (320, 256, 200)  # varied sizes, small enough that a 600-image run stays quick


def time_denoise(folder: Path, out: Path, workers: int) -> dict:
    report = process_files([folder], out, [parse_step("denoise")], workers=workers, quiet=True)
    totals = report["totals"]
    return {
        "workers": workers,
        "seconds": totals["seconds"],
        "images_per_s": totals["images_per_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="number of JPEGs")
    parser.add_argument("--workers", type=int, default=2, help="N, compared with 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepimage-bench-") as tmp:
        folder = Path(tmp) / "jpegs"
        folder.mkdir()
        size = build_folder(folder, args.count, data_root() / "raccoon" / "images", SIDES)
        print(f"{args.count} JPEGs ({size / 1e6:.1f} MB, max side {max(SIDES)} px) in {folder}")
        one = time_denoise(folder, Path(tmp) / "out1", 1)
        many = time_denoise(folder, Path(tmp) / "outN", args.workers)
    ratio = many["images_per_s"] / one["images_per_s"]
    for run in (one, many):
        print(
            f"denoise, {run['workers']} worker(s): {run['images_per_s']:.1f} images/s ({run['seconds']:.1f} s)"
        )
    print(f"ratio {args.workers} workers / 1 worker: {ratio:.2f}x")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    load = [round(value, 2) for value in os.getloadavg()]  # other work on the machine skews it
    print(f"load average after the run (1, 5, 15 min): {load}")
    result = {"bench": "process-denoise", "images": args.count, "machine": machine, "load": load}
    print(
        json.dumps(
            result | {"workers_1": one, f"workers_{args.workers}": many, "ratio": round(ratio, 3)}
        )
    )


if __name__ == "__main__":
    main()

"""Sequence models on the CPU, in one run: training images/s of each recurrent classifier
over Fashion-MNIST rows, deepimage's ``Classifier.fit`` against the same network in the
loop a PyTorch tutorial writes (bench/classify.py's, batch 64, same data and threads);
lines/s of the text-line recognisers on synthetic lines; clips/s of the clip models on
synthetic clips.

    python bench/sequence.py [--models lstm gru rnn bilstm bigru] [--epochs 1]
                             [--rounds 2] [--ocr-models crnn crnn-large]
                             [--video-models ...] [--seconds 30]

The classifier figures run interleaved ``--rounds`` times, each one's best round counting
(the machine is shared). The ocr and video figures are the runs' own throughput meters
over ``--seconds`` of ``fit`` (validation and each epoch's first batches left out).
Prints tables, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from classify import deepimage_fit, plain_pytorch
from deepimage.api import Model, TextRecognizer
from deepimage.data.classification import load_classification_data
from folders import data_root


def recurrent_rows(models: list[str], epochs: int, rounds: int) -> list[dict[str, Any]]:
    train = load_classification_data("fashion-mnist").splits["train"]
    images = torch.from_numpy(train.images).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(train.labels)
    rows = []
    for model in models:
        plain = ours = 0.0
        for _ in range(rounds):
            plain = max(plain, plain_pytorch(model, images, labels, epochs))
            report, _ = deepimage_fit(model, epochs)
            ours = max(ours, report["train_images_per_s"])
        rows.append({
            "model": model, "plain_images_per_s": round(plain, 1),
            "deepimage_images_per_s": ours, "vs_plain": round(ours / plain, 3),
            "precision": report["precision"],
        })  # fmt: skip
        print(f"{model:8s} plain {plain:7.0f}  deepimage {ours:7.0f} img/s  x{ours / plain:.2f}")
    return rows


def fit_rows(task: str, models: list[str], data: str, seconds: float) -> list[dict[str, Any]]:
    rows = []
    for model in models:
        with tempfile.TemporaryDirectory() as runs:
            report = Model(model, task=task).fit(
                data, time_minutes=seconds / 60, quiet=True, runs_root=runs, device="cpu"
            )
        rows.append({"task": task, "model": model, "per_s": report["train_images_per_s"]})
        print(f"{task} {model:12s} {report['train_images_per_s']:8.1f} per s (training)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["lstm", "gru", "rnn", "bilstm", "bigru"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ocr-models", nargs="*", default=["crnn", "crnn-large"])
    parser.add_argument("--video-models", nargs="*", default=[])
    parser.add_argument("--clips", help="A clip data set for --video-models (root/split/class).")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DEEPIMAGE_DATA", str(data_root()))
    rows = recurrent_rows(args.models, args.epochs, args.rounds) if args.models else []
    fits = []
    with tempfile.TemporaryDirectory() as folder:
        if args.ocr_models:
            lines = Path(folder) / "lines"
            TextRecognizer.synth(str(lines), count=2000, test_count=0, height=32)
            fits += fit_rows("ocr", args.ocr_models, str(lines), args.seconds)
    if args.video_models:
        if not args.clips:
            parser.error("--video-models needs --clips DATA")
        fits += fit_rows("video", args.video_models, args.clips, args.seconds)
    print(json.dumps({"bench": "sequence", "threads": torch.get_num_threads(),
                      "recurrent": rows, "fit": fits}))  # fmt: skip


if __name__ == "__main__":
    main()

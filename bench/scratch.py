"""One small-cnn training epoch on Fashion-MNIST (54,000 training images, batch 64, Adam,
float32, CPU) in NumPy (``deepimage.scratch``) against the same network in the loop a
PyTorch tutorial writes (bench/classify.py's) and in deepimage's ``Classifier.fit``, in one
run; the figure that counts is how many times slower NumPy is than plain PyTorch.

    python bench/scratch.py [--rounds 2] [--threads N]

The three run interleaved ``--rounds`` times and each one's best round counts (the machine
is shared). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from classify import deepimage_fit, plain_pytorch
from deepimage.scratch.data import load_arrays
from deepimage.scratch.models import build_model
from deepimage.scratch.optim import Adam
from deepimage.scratch.train import fit
from folders import data_root

BATCH = 64


def numpy_epoch(train: tuple, mean: list[float], std: list[float]) -> float:
    """Images/s of one ``deepimage.scratch`` epoch, the whole epoch timed."""
    net = build_model("small-cnn", 10, 1, 28)
    started = time.perf_counter()
    fit(net, Adam(net.layers, 1e-3), train, None, mean, std, epochs=1, batch_size=BATCH)
    return len(train[1]) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's")
    args = parser.parse_args()
    os.environ.setdefault("DEEPIMAGE_DATA", str(data_root()))
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_arrays("fashion-mnist", 10)
    train = data.splits["train"]
    images, labels = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    best = {"numpy": 0.0, "plain_pytorch": 0.0, "deepimage_torch": 0.0}
    for _ in range(args.rounds):
        best["numpy"] = max(best["numpy"], numpy_epoch(train, data.mean, data.std))
        best["plain_pytorch"] = max(
            best["plain_pytorch"], plain_pytorch("small-cnn", images, labels, 1)
        )
        report, _ = deepimage_fit("small-cnn", 1)
        best["deepimage_torch"] = max(best["deepimage_torch"], report["train_images_per_s"])
    slower = best["plain_pytorch"] / best["numpy"]
    print(
        f"small-cnn, one epoch of {len(labels)} images, batch {BATCH}, {torch.get_num_threads()} threads"
    )
    for name, rate in best.items():
        print(f"  {name:16s} {rate:8.0f} img/s  {len(labels) / rate:6.1f} s/epoch")
    print(f"  NumPy is {slower:.2f}x slower than plain PyTorch (target: within 10x)")
    result = {key: round(value, 1) for key, value in best.items()}
    print(
        json.dumps(
            {
                **result,
                "numpy_slower_than_plain": round(slower, 2),
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()

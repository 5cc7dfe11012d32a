"""Training throughput on Fashion-MNIST (54,000 training images), batch 64, CPU, in one run:
Keras 3 on TensorFlow (small-cnn only, in a process of its own), the loop a PyTorch tutorial
writes, and deepimage's ``Classifier.fit`` on the same network, data, batch and threads;
then how close each deepimage figure is to the machine: the counted FLOPs of a training
step times images/s, against the measured peak of a large float32 and bf16 matmul.

    python bench/classify.py [--models small-cnn fast-cnn] [--epochs 1] [--rounds 2]
                             [--threads N] [--no-keras] [--keras-policy mixed_bfloat16]
                             [--profile]

The figures run interleaved ``--rounds`` times and each one's best round counts (the
machine is shared). Keras needs the bench extra (pip install -e '.[bench]'); without it
that column says so.
``--profile`` prints the per-op table of torch's profiler over one deepimage epoch.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from deepimage.api.classifier import Classifier
from deepimage.data.classification import load_classification_data
from deepimage.models import create_model
from folders import data_root

BATCH = 64
WARMUP = 20  # batches of each epoch left out of the plain loop's timing
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's


def plain_pytorch(model: str, images: torch.Tensor, labels: torch.Tensor, epochs: int) -> float:
    """The loop a PyTorch tutorial writes: TensorDataset, DataLoader, AdamW, float32 inputs."""
    torch.manual_seed(0)
    net = create_model("classify", model, num_classes=10, in_channels=1, img_size=28)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=5e-4)
    x = images.float().div(255).sub(MEAN).div(STD)
    loader = DataLoader(TensorDataset(x, labels), batch_size=BATCH, shuffle=True)
    images_timed, seconds = 0, 0.0
    for _ in range(epochs):
        for step, (batch, target) in enumerate(loader):
            if step == WARMUP:
                start = time.perf_counter()
            loss = F.cross_entropy(net(batch), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            images_timed += len(target) if step >= WARMUP else 0
        seconds += time.perf_counter() - start
    return images_timed / seconds


def deepimage_fit(model: str, epochs: int) -> tuple[dict, Classifier]:
    """deepimage's own training with its defaults (validation left out of the figure)."""
    classifier = Classifier(model)
    with tempfile.TemporaryDirectory() as runs:
        report = classifier.fit(
            "fashion-mnist", epochs=epochs, batch_size=BATCH, augment="none", device="cpu",
            runs_root=runs, quiet=True,
        )  # fmt: skip
    return report, classifier


def predict_latency_ms(classifier: Classifier, images: np.ndarray, count: int = 50) -> float:
    """Milliseconds ``Classifier.predict`` takes for one in-memory image, after a warm-up."""
    classifier.predict(images[0])
    started = time.perf_counter()
    for image in images[1 : count + 1]:
        classifier.predict(image)
    return 1000 * (time.perf_counter() - started) / count


def keras_fit(
    images: np.ndarray, labels: np.ndarray, epochs: int, threads: int, policy: str
) -> dict:
    """bench/keras_small_cnn.py in a child process: its JSON, or why there is none."""
    script = Path(__file__).with_name("keras_small_cnn.py")
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/x.npy", images)
        np.save(f"{folder}/y.npy", labels)
        done = subprocess.run(
            [sys.executable, str(script), f"{folder}/x.npy", f"{folder}/y.npy",
             "--epochs", str(epochs), "--threads", str(threads), "--policy", policy],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode:
        missing = "No module named" in done.stderr
        reason = "not installed: pip install -e '.[bench]'" if missing else done.stderr[-500:]
        return {"error": reason}
    return json.loads(done.stdout.strip().splitlines()[-1])


def train_flops_per_image(model: str) -> float:
    """FLOPs of one training step (forward and backward) per image, as torch counts them."""
    net = create_model("classify", model, num_classes=10, in_channels=1, img_size=28)
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    return counter.get_total_flops() / BATCH


def matmul_peak(dtype: torch.dtype, side: int = 2048, repeats: int = 8) -> float:
    """GFLOP/s of the best of ``repeats`` side x side matmuls in ``dtype`` (the threads set)."""
    a, b = torch.randn(side, side).to(dtype), torch.randn(side, side).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * side**3 / best / 1e9


def profile_epoch(model: str) -> None:
    """torch.profiler's per-op table (self CPU time) over one deepimage epoch."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        deepimage_fit(model, 1)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["small-cnn", "fast-cnn"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="Interleaved rounds; best counts.")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--no-keras", action="store_true", help="Leave Keras out.")
    parser.add_argument(
        "--keras-policy", default="float32", help="Keras dtype policy (mixed_bfloat16: bf16)."
    )
    parser.add_argument("--profile", action="store_true", help="Print torch's per-op table.")
    args = parser.parse_args()
    os.environ.setdefault("DEEPIMAGE_DATA", str(data_root()))
    torch.set_num_threads(args.threads)
    train = load_classification_data("fashion-mnist").splits["train"]
    images = torch.from_numpy(train.images).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(train.labels)
    peak = {"float32": matmul_peak(torch.float32), "bfloat16": matmul_peak(torch.bfloat16)}
    rows = []
    for model in args.models:
        row: dict = {"model": model, "keras_images_per_s": None}
        row["plain_images_per_s"] = row["deepimage_images_per_s"] = 0.0
        for _ in range(args.rounds):  # interleaved; each figure's best round counts
            if model == "small-cnn" and not args.no_keras:
                keras = keras_fit(
                    train.images[..., 0], train.labels, args.epochs, args.threads,
                    args.keras_policy,
                )  # fmt: skip
                row["keras"] = keras
                best = max(keras.get("keras_images_per_s") or 0, row["keras_images_per_s"] or 0)
                row["keras_images_per_s"] = best or None
            plain = plain_pytorch(model, images, labels, args.epochs)
            row["plain_images_per_s"] = round(max(row["plain_images_per_s"], plain), 1)
            report, classifier = deepimage_fit(model, args.epochs)
            ours = max(row["deepimage_images_per_s"], report["train_images_per_s"])
            row["deepimage_images_per_s"] = ours
        row["predict_ms"] = round(predict_latency_ms(classifier, train.images), 2)
        row["precision"] = report["precision"]
        row["vs_plain"] = round(ours / row["plain_images_per_s"], 3)
        if row["keras_images_per_s"]:
            row["vs_keras"] = round(ours / row["keras_images_per_s"], 3)
        row["train_mflop_per_image"] = round(train_flops_per_image(model) / 1e6, 2)
        row["achieved_gflop_per_s"] = round(row["train_mflop_per_image"] * ours / 1e3, 1)
        rows.append(row)
        if args.profile:
            profile_epoch(model)
    print_table(rows, peak, args.threads)
    print(json.dumps({"bench": "classify", "batch": BATCH, "threads": args.threads,
                      "epochs": args.epochs, "peak_gflop_per_s": _rounded(peak),
                      "rows": rows}))  # fmt: skip


def print_table(rows: list[dict], peak: dict[str, float], threads: int) -> None:
    print(f"batch {BATCH}, {threads} threads; images/s of training")
    print(f"{'model':10} {'Keras':>8} {'plain':>8} {'deepimage':>10} {'x Keras':>8} "
          f"{'x plain':>8} {'MFLOP/img':>10} {'GFLOP/s':>8} {'predict ms':>11}")  # fmt: skip
    for row in rows:
        keras = row.get("keras_images_per_s")
        print(
            f"{row['model']:10} {keras or '-':>8} {row['plain_images_per_s']:>8.0f} "
            f"{row['deepimage_images_per_s']:>10.0f} {row.get('vs_keras', '-'):>8} "
            f"{row['vs_plain']:>8.2f} {row['train_mflop_per_image']:>10.2f} "
            f"{row['achieved_gflop_per_s']:>8.1f} {row['predict_ms']:>11.2f}"
        )
        if "error" in row.get("keras", {}):
            print(f"  Keras: {row['keras']['error']}")
    print(
        f"measured peak (2048^2 matmul): float32 {peak['float32']:.0f} GFLOP/s, "
        f"bfloat16 {peak['bfloat16']:.0f} GFLOP/s; deepimage trained in {rows[0]['precision']}"
    )


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in values.items()}


if __name__ == "__main__":
    main()

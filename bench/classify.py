"""Training throughput of small-cnn on Fashion-MNIST, batch 64, CPU: deepimage against a
plain PyTorch loop on the same model, data and optimiser, in the same process.

    python bench/classify.py [--epochs 1] [--threads N]

Prints both figures in images/s and their ratio, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from deepimage.api.classifier import Classifier
from deepimage.data.classification import load_classification_data
from deepimage.models import create_model

BATCH = 64
WARMUP = 20  # batches left out of the timing, as deepimage's meter does


def plain_pytorch(images: torch.Tensor, labels: torch.Tensor, epochs: int) -> float:
    """The loop a PyTorch tutorial writes: TensorDataset, DataLoader, Adam(W), float inputs."""
    torch.manual_seed(0)
    model = create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=28)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    x = images.float().div(255).sub(0.2860).div(0.3530)
    loader = DataLoader(TensorDataset(x, labels), batch_size=BATCH, shuffle=True)
    images_timed, seconds = 0, 0.0
    for _ in range(epochs):
        for step, (batch, target) in enumerate(loader):
            if step == WARMUP:
                start = time.perf_counter()
            loss = F.cross_entropy(model(batch), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            images_timed += len(target) if step >= WARMUP else 0
        seconds += time.perf_counter() - start
    return images_timed / seconds


def deepimage_fit(epochs: int) -> float:
    """deepimage's own training (Lightning, validation each epoch excluded from the figure)."""
    with tempfile.TemporaryDirectory() as runs:
        report = Classifier("small-cnn").fit(
            "fashion-mnist", epochs=epochs, batch_size=BATCH, augment="none", device="cpu",
            runs_root=runs, quiet=True,
        )  # fmt: skip
    return report["train_images_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train = load_classification_data("fashion-mnist").splits["train"]
    images = torch.from_numpy(train.images).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(train.labels)
    baseline = plain_pytorch(images, labels, args.epochs)
    ours = deepimage_fit(args.epochs)
    print(f"plain PyTorch loop: {baseline:8.0f} images/s")
    print(f"deepimage:          {ours:8.0f} images/s")
    print(f"ratio:              {ours / baseline:8.2f}x")
    print(json.dumps({"bench": "classify", "model": "small-cnn", "batch": BATCH, "threads": args.threads,
                      "plain_images_per_s": round(baseline, 1), "deepimage_images_per_s": round(ours, 1),
                      "ratio": round(ours / baseline, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()

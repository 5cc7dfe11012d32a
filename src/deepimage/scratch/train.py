"""The training loop: shuffled mini-batches, forward, loss, backward, optimizer step, the
learning rate from a schedule; an evaluation pass per epoch.

Example:
    >>> import numpy as np
    >>> from deepimage.scratch.models import build_model
    >>> from deepimage.scratch.optim import Adam
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (64, 1, 10, 10), dtype=np.uint8)
    >>> labels = (images.reshape(64, -1).mean(1) > 127.5).astype(np.int64)
    >>> net = build_model("mlp", num_classes=2, in_channels=1, img_size=10)
    >>> history = fit(net, Adam(net.layers, 1e-3), (images, labels), None, [0.5], [0.3], epochs=2)
    >>> [sorted(row) for row in history][0]
    ['epoch', 'lr', 'seconds', 'train/acc', 'train/loss']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from deepimage.scratch.losses import SoftmaxCrossEntropy
from deepimage.scratch.models import Sequential
from deepimage.scratch.optim import SGD, lr_factor

Arrays = tuple[np.ndarray, np.ndarray]


def normalise(images: np.ndarray, mean: list[float], std: list[float], dtype: Any) -> np.ndarray:
    """uint8 N x C x H x W -> (x / 255 - mean) / std per channel, in ``dtype``."""
    shape = (1, -1, 1, 1)
    m, s = np.asarray(mean, dtype).reshape(shape), np.asarray(std, dtype).reshape(shape)
    return (images.astype(dtype) / 255 - m) / s


def fit(
    model: Sequential,
    optimizer: SGD,
    train: Arrays,
    val: Arrays | None,
    mean: list[float],
    std: list[float],
    epochs: int,
    batch_size: int = 64,
    schedule: str = "cosine",
    warmup_steps: int = 0,
    seed: int = 0,
    on_batch: Callable[[int], None] | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` for ``epochs`` on ``train`` (uint8 images, int labels); one row a
    epoch (train loss and accuracy, val loss and accuracy, learning rate, seconds).
    ``on_batch(images)`` follows each step, ``on_epoch(row)`` each epoch."""
    images, labels = train
    lr, loss = optimizer.lr, SoftmaxCrossEntropy()
    steps_per_epoch = -(-len(labels) // batch_size)
    total, step, history = epochs * steps_per_epoch, 0, []
    for epoch in range(epochs):
        order = np.random.default_rng((seed, epoch)).permutation(len(labels))
        model.train()
        started, loss_sum, right = time.perf_counter(), 0.0, 0
        for first in range(0, len(labels), batch_size):
            picks = order[first : first + batch_size]
            x, y = normalise(images[picks], mean, std, model.dtype), labels[picks]
            logits = model.forward(x)
            loss_sum += loss.forward(logits, y) * len(picks)
            right += int((logits.argmax(1) == y).sum())
            model.backward(loss.backward())
            optimizer.lr = lr * lr_factor(schedule, step, total, warmup_steps)
            optimizer.step()
            step += 1
            if on_batch:
                on_batch(len(picks))
        row = {
            "epoch": epoch,
            "train/loss": loss_sum / len(labels),
            "train/acc": right / len(labels),
            "lr": optimizer.lr,
            "seconds": time.perf_counter() - started,
        }
        if val is not None:
            scores = evaluate(model, *val, mean, std)
            row.update({"val/loss": scores["loss"], "val/acc": scores["top1"]})
        history.append(row)
        if on_epoch:
            on_epoch(row)
    return history


def predict_logits(
    model: Sequential,
    images: np.ndarray,
    mean: list[float],
    std: list[float],
    batch_size: int = 256,
) -> np.ndarray:
    """Logits for uint8 images, in inference mode (dropout off, BatchNorm's running
    statistics)."""
    model.eval()
    parts = [
        model.forward(normalise(images[i : i + batch_size], mean, std, model.dtype))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 0))


def evaluate(
    model: Sequential, images: np.ndarray, labels: np.ndarray, mean: list[float], std: list[float]
) -> dict[str, Any]:
    """``{top1, loss, predictions}`` on uint8 ``images`` with their ``labels``."""
    logits = predict_logits(model, images, mean, std)
    predictions = logits.argmax(1)
    return {
        "top1": float((predictions == labels).mean()),
        "loss": SoftmaxCrossEntropy().forward(logits, labels),
        "predictions": predictions,
    }

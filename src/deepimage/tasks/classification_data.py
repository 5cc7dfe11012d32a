"""Classification data as batch datasets at the model's input size and channels.

Example:
    >>> from deepimage.data.classification import load_classification_data
    >>> prepared = prepare_data(load_classification_data("digits"), "small-cnn", 16)
    >>> prepared.img_size, prepared.channels, len(prepared.classes)
    (16, 1, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepimage.data.batches import FileBatches, TensorBatches, to_chw_tensor
from deepimage.data.classification import ClassificationData, Split
from deepimage.data.model_input import (
    DEFAULT_FILE_SIZE,
    STATS_SAMPLE,
    channel_stats,
    images_for_model,
    model_input_size,
)
from deepimage.models.registry import model_info


@dataclass
class PreparedData:
    """Batch datasets per split plus what the model must know about its input."""

    classes: list[str]
    channels: int
    img_size: int
    mean: list[float]
    std: list[float]
    splits: dict[str, Any]  # TensorBatches | FileBatches, or what ``batches`` made

    @property
    def train(self) -> Any:
        return self.splits["train"]

    @property
    def val(self) -> Any:
        return self.splits["val"]

    @property
    def test(self) -> Any | None:
        return self.splits.get("test")


def prepare_data(
    data: ClassificationData,
    model: str,
    img_size: int | None,
    trained: Any | None = None,
    task: str = "classify",
    default_size: int = DEFAULT_FILE_SIZE,
    batches: Callable[[Split, int, int], Any] | None = None,
) -> PreparedData:
    """Batch datasets for ``model`` (of ``task``); ``trained`` (a task's hparams) fixes
    channels and size. The size is ``img_size``, else the data's own when every input
    shares one, else ``default_size``; ``batches(split, channels, size)`` makes each
    split's dataset (default: in-memory tensors or files decoded a batch at a time)."""
    channels = trained.in_channels if trained else data.channels
    size = model_input_size(
        img_size, data.image_size, default_size, model_info(task, model).min_size, model
    )
    make = batches or _batches
    splits = {name: make(split, channels, size) for name, split in data.splits.items()}
    if trained is not None and "mean" in trained:
        mean, std = list(trained.mean), list(trained.std)
    else:
        mean, std = _channel_stats(splits["train"])
    return PreparedData(list(data.classes), channels, size, mean, std, splits)


def _batches(split: Split, channels: int, size: int) -> TensorBatches | FileBatches:
    labels = torch.as_tensor(split.labels, dtype=torch.int64)
    if split.images is None:
        return FileBatches(split.paths or [], split.labels, channels, size)
    return TensorBatches(to_chw_tensor(images_for_model(split.images, channels, size)), labels)


def _channel_stats(train: Any) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the training images in [0, 1] (on a sample); any batch
    dataset of N x C x ... uint8 items (clips too)."""
    count = min(len(train), STATS_SAMPLE if isinstance(train, TensorBatches) else 256)
    picks = np.random.default_rng(0).choice(len(train), size=count, replace=False).tolist()
    images, _ = train[picks]
    return channel_stats(images.numpy())

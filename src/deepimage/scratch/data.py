"""Classification data for the NumPy networks: the classification readers (built-in names,
image folders, CSV files; bad files named or skipped), each split decoded into N x C x S x S
uint8 arrays at the model's input side, as ``deepimage classify`` prepares them, plus the
normalisation statistics of the training images.

Example:
    >>> data = load_arrays("digits", min_size=10)
    >>> data.img_size, data.splits["train"][0].shape, data.splits["train"][0].dtype
    (10, (1259, 1, 10, 10), dtype('uint8'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deepimage.data.classification import load_classification_data
from deepimage.data.model_input import (
    DEFAULT_FILE_SIZE,
    STATS_SAMPLE,
    channel_stats,
    images_for_model,
    load_for_model,
    model_input_size,
)


@dataclass
class ArrayData:
    """Splits as (images N x C x S x S uint8, labels int64), with what a model must know."""

    name: str
    classes: list[str]
    channels: int
    img_size: int
    mean: list[float]
    std: list[float]
    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    skipped: list[dict[str, str]]


def load_arrays(
    spec: str,
    min_size: int,
    img_size: int | None = None,
    seed: int = 0,
    val_fraction: float | None = None,
    skip_bad: bool = False,
    download: bool = False,
    on_file: Callable[[], None] | None = None,
    model: str = "the model",
) -> ArrayData:
    """Load ``spec`` through the classification readers and decode every split in memory.
    The side is ``img_size``, else the data's own, else 64 for folders of mixed sizes, and
    at least ``min_size`` (an ``img_size`` below it is refused, naming ``model``); ``on_file`` is called after each decoded file (a progress bar)."""
    data = load_classification_data(
        spec, skip_bad=skip_bad, seed=seed, val_fraction=val_fraction, download=download
    )
    size = model_input_size(img_size, data.image_size, DEFAULT_FILE_SIZE, min_size, model)
    splits = {}
    for name, split in data.splits.items():
        if split.images is not None:
            images = images_for_model(split.images, data.channels, size)
        else:
            images = np.stack(
                [_decode(path, data.channels, size, on_file) for path in split.paths or []]
            )
        chw = np.ascontiguousarray(np.moveaxis(images, -1, 1))
        splits[name] = (chw, np.asarray(split.labels, np.int64))
    train = splits["train"][0]
    picks = np.random.default_rng(0).choice(
        len(train), min(len(train), STATS_SAMPLE), replace=False
    )
    mean, std = channel_stats(train[np.sort(picks)])
    return ArrayData(
        str(spec), list(data.classes), data.channels, size, mean, std, splits, data.skipped
    )


def _decode(path, channels: int, size: int, on_file: Callable[[], None] | None) -> np.ndarray:
    image = load_for_model(path, channels, size)
    if on_file:
        on_file()
    return image

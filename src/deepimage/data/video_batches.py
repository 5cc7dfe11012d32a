"""Clip batches: frames sampled from each clip, resized and matched to the model's
channels, indexed a batch at a time as N x C x T x H x W uint8 tensors.

Sampling: ``frames`` frames ``stride`` apart. A training batch (indexed with its epoch,
``EpochBatchSampler(with_epoch=True)``) takes a random start per clip, drawn from
(seed, epoch, clip), so a resumed run repeats it; evaluation and predict take the centred
window. A clip shorter than the window repeats its last frame.

Example:
    >>> window(10, frames=4, stride=2).tolist()
    [1, 3, 5, 7]
    >>> window(3, frames=5, stride=1).tolist()
    [0, 1, 2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from deepimage.data.batches import to_chw_tensor
from deepimage.data.classification import Split
from deepimage.data.model_input import match_channels, resize_uint8
from deepimage.io.video import read_clip


def window(
    length: int, frames: int, stride: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The indices of ``frames`` frames ``stride`` apart in a clip of ``length`` frames:
    from a random start drawn with ``rng``, else centred; past the end, the last frame.

    Example:
        >>> window(20, 4, 1, np.random.default_rng(0)).tolist()
        [14, 15, 16, 17]
    """
    room = max(length - ((frames - 1) * stride + 1), 0)
    start = int(rng.integers(0, room + 1)) if rng is not None else room // 2
    return np.minimum(start + stride * np.arange(frames), length - 1)


def fit_clip(clip: np.ndarray, channels: int, size: int) -> np.ndarray:
    """A T x H x W [x C] uint8 clip as T x size x size x ``channels`` (each frame resized
    as images are, :func:`~deepimage.data.model_input.resize_uint8`; the same array when it
    fits already).

    Example:
        >>> fit_clip(np.zeros((4, 30, 40, 3), np.uint8), 1, 16).shape
        (4, 16, 16, 1)
    """
    clip = match_channels(clip, channels)
    if clip.shape[1:3] == (size, size):
        return clip
    return np.stack([resize_uint8(frame, size).reshape(size, size, channels) for frame in clip])


def clip_for_model(
    clip: np.ndarray, channels: int, size: int, frames: int, stride: int
) -> np.ndarray:
    """The centred window of a decoded clip as a model takes it: frames x size x size x
    ``channels`` uint8.

    Example:
        >>> clip_for_model(np.zeros((30, 8, 8), np.uint8), 3, 16, frames=16, stride=1).shape
        (16, 16, 16, 3)
    """
    return fit_clip(clip[window(len(clip), frames, stride)], channels, size)


class ClipBatches(Dataset):
    """The clips of a split (:class:`~deepimage.data.video.ClipInfo` per path): those
    decoded while loading are resized here once and kept; the others are decoded, up to
    the last frame a window needs, a batch at a time."""

    def __init__(
        self, split: Split, channels: int, size: int, frames: int, stride: int, seed: int = 0
    ) -> None:
        infos = split.infos or []
        self.clips: list[np.ndarray | Path] = [
            fit_clip(info.pixels, channels, size) if info.pixels is not None else info.path
            for info in infos
        ]
        self.lengths = [info.frames for info in infos]
        self.labels = torch.as_tensor(split.labels, dtype=torch.int64)
        self.channels, self.size, self.frames, self.stride, self.seed = (
            channels, size, frames, stride, seed,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(
        self, key: Sequence[int] | tuple[int, Sequence[int]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, indices = key if isinstance(key, tuple) else (None, key)
        clips = np.stack([self._sample(int(index), epoch) for index in indices])
        return to_chw_tensor(clips), self.labels[torch.as_tensor(indices)]

    def _sample(self, index: int, epoch: int | None) -> np.ndarray:
        rng = None if epoch is None else np.random.default_rng([self.seed, epoch, index])
        picks = window(self.lengths[index], self.frames, self.stride, rng)
        clip = self.clips[index]
        if isinstance(clip, Path):
            decoded = read_clip(clip, stop=int(picks[-1]) + 1)
            return fit_clip(decoded[np.minimum(picks, len(decoded) - 1)], self.channels, self.size)
        return clip[picks]

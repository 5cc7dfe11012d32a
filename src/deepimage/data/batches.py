"""Batches for training and inference: whole batches are indexed at once (no per-sample
collate), shuffled by epoch and seed so that a resumed run sees the same order, and sharded
by rank for DDP.

Example:
    >>> sampler = EpochBatchSampler(10, batch_size=4, shuffle=True, seed=0)
    >>> [len(b) for b in sampler]
    [4, 4, 2]
    >>> first = list(sampler); sampler.set_epoch(0); first == list(sampler)
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from deepimage.data.model_input import load_for_model


def to_chw_tensor(images: np.ndarray) -> torch.Tensor:
    """N x H x W [x C] uint8 array -> N x C x H x W uint8 tensor; channels last to second
    for any rank (N x T x H x W x C clips -> N x C x T x H x W).

    Example:
        >>> to_chw_tensor(np.zeros((2, 16, 8, 8, 3), np.uint8)).shape
        torch.Size([2, 3, 16, 8, 8])
    """
    if images.ndim == 3:
        images = images[..., None]
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(images, -1, 1)))


class EpochBatchSampler:
    """Yields lists of indices; the order depends only on (seed, epoch, rank).

    ``drop_last`` leaves out a last short batch; ``with_epoch`` yields ``(epoch, indices)``
    so that a data set can draw its augmentation from the epoch, in any worker. ``pad``
    (training) wraps the order so that every rank gets as many items, as DDP's samplers do;
    without it (validation) each item is seen once and ranks may differ by one.

    Example:
        >>> [list(EpochBatchSampler(5, 2, False, rank=r, world_size=2, pad=False)) for r in (0, 1)]
        [[[0, 2], [4]], [[1, 3]]]
    """

    def __init__(
        self,
        length: int,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        with_epoch: bool = False,
        pad: bool = True,
    ) -> None:
        self.length, self.batch_size, self.shuffle, self.seed = length, batch_size, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.drop_last, self.with_epoch, self.pad = drop_last, with_epoch, pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of every epoch."""
        self.epoch = epoch

    def _indices(self) -> np.ndarray:
        if not self.shuffle:
            order = np.arange(self.length)
        else:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.length)
        if self.pad:
            order = np.resize(order, self._per_rank() * self.world_size)
        return order[self.rank :: self.world_size]

    def _per_rank(self) -> int:
        if self.pad:
            return -(-self.length // self.world_size)
        return len(range(self.rank, self.length, self.world_size))

    def __iter__(self) -> Iterator[list[int] | tuple[int, list[int]]]:
        order = self._indices()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = order[start : start + self.batch_size].tolist()
            yield (self.epoch, batch) if self.with_epoch else batch

    def __len__(self) -> int:
        per_rank = self._per_rank()
        if self.drop_last and per_rank >= self.batch_size:
            return per_rank // self.batch_size
        return -(-per_rank // self.batch_size)


class TensorBatches(Dataset):
    """In-memory images (N x C x H x W uint8) and labels, indexed a batch at a time."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(indices)
        return self.images[index], self.labels[index]


class FileBatches(Dataset):
    """Image files decoded (and resized) a batch at a time, in DataLoader workers."""

    def __init__(self, paths: Sequence[Path], labels: np.ndarray, channels: int, size: int) -> None:
        self.paths, self.labels = list(paths), torch.as_tensor(labels, dtype=torch.int64)
        self.channels, self.size = channels, size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        images = np.stack(
            [load_for_model(self.paths[i], self.channels, self.size) for i in indices]
        )
        return to_chw_tensor(images), self.labels[torch.as_tensor(indices)]

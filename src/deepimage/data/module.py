"""A LightningDataModule over batch datasets, sharded by the trainer's rank.

Example:
    >>> import torch
    >>> from deepimage.data.batches import TensorBatches
    >>> data = TensorBatches(torch.zeros(10, 1, 4, 4, dtype=torch.uint8), torch.zeros(10).long())
    >>> len(batch_loader(data, batch_size=4, shuffle=False))
    3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import lightning.pytorch as pl
import numpy as np
from torch.utils.data import DataLoader, Dataset

from deepimage.data.batches import EpochBatchSampler

T = TypeVar("T")


def batch_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    workers: int = 0,
    rank: int = 0,
    world_size: int = 1,
    **sampler_options: bool,
) -> DataLoader:
    """A DataLoader that asks ``dataset`` for whole batches of indices at once
    (``sampler_options``: see :class:`EpochBatchSampler`)."""
    sampler = EpochBatchSampler(
        len(dataset), batch_size, shuffle, seed, rank, world_size, **sampler_options
    )
    return DataLoader(
        dataset,
        sampler=sampler,
        batch_size=None,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=False,
    )


def seeded_share(items: Sequence[T], fraction: float, seed: int) -> list[T]:
    """A seeded ``fraction`` of ``items`` (at least one), in their order.

    Example:
        >>> seeded_share(list("abcdefghij"), 0.3, seed=0)
        ['c', 'e', 'g']
    """
    count = max(1, round(len(items) * fraction))
    keep = np.random.default_rng(seed).permutation(len(items))[:count]
    return [items[i] for i in sorted(keep.tolist())]


class BatchSubset(Dataset):
    """Some items of a batch dataset, asked for by batches of their own indices, as
    :class:`EpochBatchSampler` gives them (with or without the epoch)."""

    def __init__(self, dataset: Dataset, keep: list[int]) -> None:
        self.dataset, self.keep = dataset, keep

    def __len__(self) -> int:
        return len(self.keep)

    def __getitem__(self, request: Any) -> Any:
        if isinstance(request, tuple):  # (epoch, indices)
            epoch, indices = request
            return self.dataset[(epoch, [self.keep[i] for i in indices])]
        return self.dataset[[self.keep[i] for i in request]]


class BatchDataModule(pl.LightningDataModule):
    """Train and validation batch datasets; each rank reads its own shard.
    ``train_options`` go to the training batch sampler (see :class:`EpochBatchSampler`)."""

    def __init__(
        self,
        train: Dataset,
        val: Dataset,
        batch_size: int,
        seed: int = 0,
        workers: int = 0,
        **train_options: bool,
    ) -> None:
        super().__init__()
        self.train, self.val = train, val
        self.batch_size, self.seed, self.workers = batch_size, seed, workers
        self.train_options = train_options

    def keep_fraction(self, fraction: float, seed: int) -> int:
        """Train on a seeded ``fraction`` of the training set (:func:`seeded_share` of
        its indices); returns how many are kept."""
        self.train = BatchSubset(self.train, seeded_share(range(len(self.train)), fraction, seed))
        return len(self.train)

    def _loader(self, dataset: Dataset, shuffle: bool, **options: bool) -> DataLoader:
        return batch_loader(
            dataset,
            self.batch_size,
            shuffle,
            self.seed,
            self.workers,
            self.trainer.global_rank if self.trainer else 0,
            self.trainer.world_size if self.trainer else 1,
            **options,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train, shuffle=True, **self.train_options)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val, shuffle=False, pad=False)

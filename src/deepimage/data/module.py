"""A LightningDataModule over batch datasets, sharded by the trainer's rank.

Example:
    >>> import torch
    >>> from deepimage.data.batches import TensorBatches
    >>> data = TensorBatches(torch.zeros(10, 1, 4, 4, dtype=torch.uint8), torch.zeros(10).long())
    >>> len(batch_loader(data, batch_size=4, shuffle=False))
    3
"""

from __future__ import annotations

import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset

from deepimage.data.batches import EpochBatchSampler


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

"""Run folders, atomic writes, safe checkpoint loading, seeded batches and augmentation."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from deepimage.data.batches import EpochBatchSampler
from deepimage.engine.checkpoints import load_checkpoint, load_matching_weights
from deepimage.engine.runs import new_run_dir
from deepimage.errors import ModelFileError
from deepimage.io.files import atomic_write
from deepimage.transforms.batch import augment_batch


class _Payload:
    """Unpickling this runs ``touch MARKER``: what a malicious model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def write_malicious_checkpoint(path: Path, marker: Path) -> None:
    """A model file whose unpickling would run a shell command."""
    path.write_bytes(pickle.dumps({"state_dict": {}, "hyper_parameters": _Payload(marker)}))


def test_run_dirs_are_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPIMAGE_RUN_DIR", raising=False)
    first = new_run_dir("classify", "exp", tmp_path)
    second = new_run_dir("classify", "exp", tmp_path)
    assert (first.name, second.name) == ("exp", "exp-2")
    assert (second / "checkpoints").is_dir() and (second / "plots").is_dir()


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "model.ckpt"
    target.write_bytes(b"old")

    def fail_halfway(handle) -> None:
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, fail_halfway)
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_malicious_checkpoint_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    write_malicious_checkpoint(evil, marker)
    with pytest.raises(ModelFileError, match="refused"):
        load_checkpoint(evil)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"junk\n"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.ckpt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=r"broken\.ckpt"):
        load_checkpoint(path)


def test_batch_order_depends_only_on_seed_and_epoch() -> None:
    sampler = EpochBatchSampler(100, batch_size=8, shuffle=True, seed=3)
    sampler.set_epoch(2)
    epoch2 = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) != epoch2
    fresh = EpochBatchSampler(100, batch_size=8, shuffle=True, seed=3)
    fresh.set_epoch(2)
    assert list(fresh) == epoch2


def test_ranks_share_the_data_without_overlap() -> None:
    shards = [list(EpochBatchSampler(10, 3, True, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    seen = [i for shard in shards for batch in shard for i in batch]
    assert sorted(set(seen)) == list(range(10))
    assert len(seen) == 10 and len(shards[0]) == len(shards[1])


def test_augmentation_repeats_with_the_same_generator_state() -> None:
    x = torch.rand(6, 1, 28, 28)
    a = augment_batch(x, "classify-strong", torch.Generator().manual_seed(5))
    b = augment_batch(x, "classify-strong", torch.Generator().manual_seed(5))
    c = augment_batch(x, "classify-strong", torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_light_augmentation_shifts_but_keeps_content() -> None:
    image = torch.zeros(1, 1, 28, 28)
    image[..., 10:18, 10:18] = 1.0
    moved = augment_batch(image, "classify-light", torch.Generator().manual_seed(0))
    assert moved.sum().item() == pytest.approx(image.sum().item(), rel=0.05)
    assert np.abs(moved.numpy() - image.numpy()).sum() > 0


def test_matching_weights_load_from_plain_and_prefixed_files(tmp_path: Path) -> None:
    net = torch.nn.Linear(2, 1)
    plain, task, averaged = tmp_path / "plain.pt", tmp_path / "task.ckpt", tmp_path / "ema.ckpt"
    torch.save({"weight": torch.full((1, 2), 1.0), "bias": torch.zeros(1)}, plain)
    torch.save({"state_dict": {"net.weight": torch.full((1, 2), 2.0)}}, task)
    torch.save(
        {"state_dict": {"net.weight": torch.full((1, 2), 3.0), "ema.weight": torch.ones(1, 2) * 4}},
        averaged,
    )
    load_matching_weights(net, plain)
    assert net.weight.tolist() == [[1.0, 1.0]]
    load_matching_weights(net, task)
    assert net.weight.tolist() == [[2.0, 2.0]]
    load_matching_weights(net, averaged)  # a classifier takes net.
    assert net.weight.tolist() == [[3.0, 3.0]]
    load_matching_weights(net, averaged, ("ema.", "net."))  # a detector prefers its average
    assert net.weight.tolist() == [[4.0, 4.0]]
    with pytest.raises(ModelFileError, match="no tensor in this file fits model 'tiny'"):
        load_matching_weights(torch.nn.Linear(3, 3), task, name="tiny")

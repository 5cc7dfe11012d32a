"""Checkpoint files: written atomically, read only through the safe (weights-only) unpickler.

A model file is untrusted input: ``load_checkpoint`` never runs code from it.

Example:
    >>> import tempfile, pathlib, torch
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.ckpt"
    >>> torch.save({"state_dict": {"w": torch.ones(1)}}, path)
    >>> load_checkpoint(path)["state_dict"]["w"]
    tensor([1.])
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from deepimage.errors import ModelFileError
from deepimage.io.files import atomic_write


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O that writes to a temporary file and renames it into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike[str], storage_options: Any = None
    ) -> None:
        atomic_write(path, lambda handle: torch.save(checkpoint, handle))


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; refuse anything else with a clear error."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file. Pass a .ckpt file or a run folder.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ModelFileError(
            f"{path}: refused to load: the file holds Python objects other than tensors and plain "
            "data, which could run code. Use a checkpoint written by deepimage, or re-save the "
            f"weights as a plain state_dict. ({str(error).splitlines()[0]})"
        ) from None
    except Exception as error:  # the unpickler raises many types on arbitrary bytes
        raise ModelFileError(
            f"{path}: not a readable model file ({type(error).__name__}: {error}). It may be "
            "truncated or not a checkpoint at all; re-export it or pick another file."
        ) from None
    if not isinstance(checkpoint, dict):
        raise ModelFileError(f"{path}: not a deepimage checkpoint (expected a dictionary).")
    return checkpoint


def load_matching_weights(
    net: torch.nn.Module, path: Path, prefixes: tuple[str, ...] = ("net.",), name: str = ""
) -> None:
    """Initialise ``net`` from a state dict or a deepimage checkpoint at ``path``, taking the
    tensors whose names and shapes fit. Keys lose the first of ``prefixes`` the file uses
    (a task's submodule, ``net.``), so both kinds of file work.
    """
    checkpoint = load_checkpoint(path)
    state = checkpoint.get("state_dict", checkpoint)
    used = next((p for p in prefixes if any(str(key).startswith(p) for key in state)), "")
    own = net.state_dict()
    matched = {}
    for key, value in state.items():
        key = str(key).removeprefix(used)
        if key in own and isinstance(value, torch.Tensor) and value.shape == own[key].shape:
            matched[key] = value
    if not matched:
        raise ModelFileError(f"{path}: no tensor in this file fits model {name!r}.")
    net.load_state_dict(matched, strict=False)

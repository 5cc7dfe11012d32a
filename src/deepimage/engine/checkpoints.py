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
import pickletools
import warnings
import zipfile
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
        try:
            atomic_write(path, lambda handle: torch.save(checkpoint, handle))
        except (OSError, RuntimeError) as error:  # torch's zip writer fails as RuntimeError
            if isinstance(error, RuntimeError) and "inline_container" not in str(error):
                raise
            reason = getattr(error, "strerror", None) or "the write failed: is the disk full?"
            raise ModelFileError(
                f"{path}: cannot write the checkpoint ({reason}); the previous one is kept. "
                "Free some disk space, or train with --runs on another disk."
            ) from None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; refuse anything else with a clear error
    that tells a file which would run code from one that is no checkpoint at all."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file. Pass a .ckpt file or a run folder.")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols: noise here
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # the unpickler raises many types on arbitrary bytes
        if runs_code(path, error):
            raise ModelFileError(
                f"{path}: refused to load: the file holds Python objects other than tensors "
                "and plain data, which could run code. Use a checkpoint written by deepimage, "
                "or re-save the weights as a plain state_dict."
            ) from None
        raise ModelFileError(
            f"{path}: not a model file: it is damaged (truncated?) or not a PyTorch "
            f"checkpoint at all ({_failure(path, error)}). Re-export it or pick another file."
        ) from None
    if not isinstance(checkpoint, dict):
        raise ModelFileError(f"{path}: not a deepimage checkpoint (expected a dictionary).")
    return checkpoint


CODE_OPCODES = frozenset({"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"})
"""Pickle opcodes that import or call something: what a weights-only load refuses."""


def runs_code(path: Path, error: Exception) -> bool:
    """Whether ``torch.load`` refused ``path`` because it would import or call code (a
    well-formed pickle asking for globals), rather than because it is no checkpoint.

    Example:
        >>> import pickle, tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "evil.ckpt").write_bytes(pickle.dumps(print))
        >>> _ = (folder / "noise.ckpt").write_bytes(bytes(range(256)))
        >>> [runs_code(folder / name, pickle.UnpicklingError()) for name in ("evil.ckpt", "noise.ckpt")]
        [True, False]
    """
    if "Unsupported global" in str(error):  # the weights-only unpickler names what it refused
        return True
    if zipfile.is_zipfile(path):
        return False
    try:  # a legacy (non-zip) file: read its first pickle's opcodes, executing nothing
        with open(path, "rb") as handle:
            names = {opcode.name for opcode, _, _ in pickletools.genops(handle)}
    except Exception:  # anything but a complete pickle: not a checkpoint
        return False
    return bool(names & CODE_OPCODES)


def _failure(path: Path, error: Exception) -> str:
    """What was wrong with a file that is no checkpoint, in a few words."""
    if not zipfile.is_zipfile(path):
        return "neither a zip archive nor a complete pickle"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200] if lines else 'no detail'}"


def load_matching_weights(
    net: torch.nn.Module, path: Path, prefixes: tuple[str, ...] = ("net.",), name: str = ""
) -> None:
    """Initialise ``net`` from a state dict or a deepimage checkpoint at ``path``, taking the
    tensors whose names and shapes fit. Keys lose the first of ``prefixes`` the file uses
    (a task's submodule, ``net.``), so both kinds of file work; a key ``net`` has only
    under a wrapper (``net.`` + the key: a torchvision or smp network inside the
    segmentation models' padding wrapper) fits there too, so the network's own state
    dicts load.
    """
    checkpoint = load_checkpoint(path)
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: its state_dict is not a mapping of names to tensors.")
    used = next((p for p in prefixes if any(str(key).startswith(p) for key in state)), "")
    own = net.state_dict()
    wrapped = {name.split(".", 1)[1]: name for name in own if "." in name}
    matched = {}
    for key, value in state.items():
        key = str(key).removeprefix(used)
        key = key if key in own else wrapped.get(key, key)
        if key in own and isinstance(value, torch.Tensor) and value.shape == own[key].shape:
            matched[key] = value
    if not matched:
        raise ModelFileError(f"{path}: no tensor in this file fits model {name!r}.")
    net.load_state_dict(matched, strict=False)

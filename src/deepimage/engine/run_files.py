"""Where a model's files are: the checkpoint a run folder means, the one resume reads.

Example:
    >>> import tempfile, pathlib
    >>> resolve_model_path(pathlib.Path(tempfile.mkdtemp()))
    Traceback (most recent call last):
    ...
    deepimage.errors.ModelFileError: ...: run folder without checkpoints/best.ckpt or last.ckpt.
"""

from __future__ import annotations

from pathlib import Path

from deepimage.engine.checkpoints import load_checkpoint
from deepimage.engine.module import TaskModule
from deepimage.errors import DeepImageError, ModelFileError


def resolve_model_path(path: Path) -> Path:
    """A run folder means its best checkpoint; a file is taken as it is."""
    if path.is_dir():
        for candidate in (path / "checkpoints" / "best.ckpt", path / "checkpoints" / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise ModelFileError(f"{path}: run folder without checkpoints/best.ckpt or last.ckpt.")
    return path


def resume_checkpoint(run_dir: Path, module: TaskModule) -> str:
    """``last.ckpt`` of ``run_dir``, checked by the safe loader (Lightning then reads it
    weights-only too) and against ``module``, the run rebuilt from its config: a file
    Lightning could not restore is a clear error, never a traceback mid-restore."""
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise DeepImageError(
            f"{run_dir}: nothing to resume (no checkpoints/last.ckpt). Start a new run instead."
        )
    module.check_resumable(load_checkpoint(last), str(last))
    return str(last)

"""What the model APIs share: run folders, model files, weights and image inputs.

Example:
    >>> import tempfile, pathlib
    >>> resolve_model_path(pathlib.Path(tempfile.mkdtemp()))
    Traceback (most recent call last):
    ...
    deepimage.errors.ModelFileError: ...: run folder without checkpoints/best.ckpt or last.ckpt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deepimage.engine.checkpoints import load_checkpoint
from deepimage.errors import DeepImageError, ModelFileError
from deepimage.io.paths import find_images


def resolve_model_path(path: Path) -> Path:
    """A run folder means its best checkpoint; a file is taken as it is."""
    if path.is_dir():
        for candidate in (path / "checkpoints" / "best.ckpt", path / "checkpoints" / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise ModelFileError(f"{path}: run folder without checkpoints/best.ckpt or last.ckpt.")
    return path


def run_config(run_dir: Path) -> dict[str, Any]:
    """The settings a run was started with."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise DeepImageError(
            f"{run_dir}: not a run folder (no config.yaml). Pass a folder that a `train` command made."
        )
    config = yaml.safe_load(path.read_text())
    return config


def resume_checkpoint(run_dir: Path) -> str:
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise DeepImageError(
            f"{run_dir}: nothing to resume (no checkpoints/last.ckpt). Start a new run instead."
        )
    load_checkpoint(
        last
    )  # a clear error for unsafe files; Lightning then reads it weights-only too
    return str(last)


def expand_image_paths(inputs: list[str] | str) -> list[Path]:
    """Files, folders (recursive) and glob patterns -> sorted image paths."""
    items = [inputs] if isinstance(inputs, str) else inputs
    found = [path for item in items for path in find_images(item)[1]]
    if not found:
        raise DeepImageError(f"no images found in {inputs}.")
    return found

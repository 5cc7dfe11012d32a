"""Which accelerator and precision to train on.

Example:
    >>> resolve_accelerator("cpu")
    'cpu'
    >>> precision_for("cpu")
    '32-true'
"""

from __future__ import annotations

import torch

from deepimage.errors import DeepImageError

DEVICES = ("auto", "cpu", "cuda", "gpu", "mps")


def resolve_accelerator(device: str) -> str:
    """Map ``--device`` to a Lightning accelerator; 'auto' picks CUDA, then MPS, then CPU."""
    if device not in DEVICES:
        raise DeepImageError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}.")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    accelerator = "cuda" if device == "gpu" else device
    if accelerator == "cuda" and not torch.cuda.is_available():
        raise DeepImageError(
            "--device cuda was asked for but no CUDA GPU is visible; use --device cpu."
        )
    return accelerator


def precision_for(accelerator: str) -> str:
    """Mixed precision on GPUs (bf16 where supported), full precision elsewhere."""
    if accelerator != "cuda":
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def torch_device(device: str) -> torch.device:
    """A ``torch.device`` for inference from ``--device``."""
    return torch.device(resolve_accelerator(device))

"""Which accelerator and precision to train on.

Example:
    >>> resolve_accelerator("cpu")
    'cpu'
    >>> precision_for("cpu", "32")
    '32-true'
    >>> precision_for("cpu", "bf16")
    'bf16-mixed'
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


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX): then bf16 convs
    and matmuls run at about twice the float32 rate (see bench/README.md)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def precision_for(accelerator: str, precision: str = "auto") -> str:
    """Lightning's precision for ``--precision`` (auto, 32, bf16 or 16) on ``accelerator``.

    'auto' is bf16 mixed precision on GPUs that have it (fp16 on older ones) and on CPUs
    that compute bf16 natively, float32 elsewhere; the weights and the optimizer stay in
    float32 either way. fp16 needs a CUDA GPU.
    """
    if precision == "auto":
        if accelerator == "cuda":
            return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
        return "bf16-mixed" if accelerator == "cpu" and cpu_has_bf16() else "32-true"
    if precision == "16" and accelerator != "cuda":
        raise DeepImageError("--precision 16 needs a CUDA GPU; use --precision bf16 or 32.")
    return {"32": "32-true", "bf16": "bf16-mixed", "16": "16-mixed"}[precision]


def torch_device(device: str) -> torch.device:
    """A ``torch.device`` for inference from ``--device``."""
    return torch.device(resolve_accelerator(device))

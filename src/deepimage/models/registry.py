"""A registry of model builders, one namespace per task (in the manner of timm).

Example:
    >>> from deepimage.models import create_model, list_models, parameter_count
    >>> "small-cnn" in [m.name for m in list_models("classify")]
    True
    >>> net = create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=28)
    >>> sum(p.numel() for p in net.parameters())
    121930
    >>> parameter_count("detect", "ssdlite320_mobilenet_v3_large", num_classes=20)
    2469860
    >>> create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=100000)
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: classify model 'small-cnn' (num_classes=10, in_channels=1, img_size=100000) would have 2559.6 billion parameters (10238 GB); at most 1 billion. Use a smaller image size or a model that pools globally (see `deepimage classify models`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from deepimage.errors import DeepImageError

Builder = Callable[..., nn.Module]
MAX_PARAMETERS = 1_000_000_000
"""The most parameters a model may have (4 GB of float32 weights); the largest registered
has 41 million. A model is sized on PyTorch's meta device before it is built."""


@dataclass(frozen=True)
class ModelInfo:
    """What ``list_models`` tells about one registered model."""

    task: str
    name: str
    summary: str
    min_size: int
    builder: Builder


_REGISTRY: dict[str, dict[str, ModelInfo]] = {}


def register(task: str, name: str, summary: str, min_size: int = 8) -> Callable[[Builder], Builder]:
    """Decorator that adds a builder to the registry under ``task``/``name``."""

    def add(builder: Builder) -> Builder:
        _REGISTRY.setdefault(task, {})[name] = ModelInfo(task, name, summary, min_size, builder)
        return builder

    return add


def list_models(task: str) -> list[ModelInfo]:
    """The models registered for ``task``, in registration order."""
    return list(_REGISTRY.get(task, {}).values())


def model_info(task: str, name: str) -> ModelInfo:
    """The registry entry for ``name``; a clear error lists the known names otherwise."""
    models = _REGISTRY.get(task, {})
    if name not in models:
        known = ", ".join(models) or "none"
        raise DeepImageError(
            f"unknown {task} model {name!r}. Known models: {known} (see `deepimage {task} models`)."
        )
    return models[name]


def create_model(task: str, name: str, **kwargs: object) -> nn.Module:
    """Build model ``name`` for ``task`` with the builder's keyword arguments; one that
    would have more than :data:`MAX_PARAMETERS` (small-cnn at a huge image size) is a
    clear error before any memory is allocated."""
    count = parameter_count(task, name, **kwargs)
    if count > MAX_PARAMETERS:
        given = ", ".join(f"{key}={value}" for key, value in kwargs.items() if key != "pretrained")
        raise DeepImageError(
            f"{task} model {name!r} ({given}) would have {count / 1e9:.1f} billion parameters "
            f"({count * 4 / 1e9:.0f} GB); at most {MAX_PARAMETERS / 1e9:.0f} billion. Use a "
            f"smaller image size or a model that pools globally (see `deepimage {task} models`)."
        )
    return model_info(task, name).builder(**kwargs)


def parameter_count(task: str, name: str, **kwargs: object) -> int:
    """Parameters of model ``name``, counted on PyTorch's meta device (no memory used;
    pretrained weights are not fetched for it)."""
    if "pretrained" in kwargs:
        kwargs = {**kwargs, "pretrained": False}
    with torch.device("meta"):
        net = model_info(task, name).builder(**kwargs)
    return sum(p.numel() for p in net.parameters())


def forward_ms(net: nn.Module, inputs: object, device: torch.device, repeats: int = 5) -> float:
    """Milliseconds one ``net(inputs)`` takes in inference mode on ``device``: the median
    of ``repeats`` calls after a warm-up call (CUDA synchronised), so one slow call on a
    shared machine does not decide it.

    Example:
        >>> forward_ms(nn.Linear(4, 2), torch.zeros(1, 4), torch.device("cpu"), repeats=1) > 0
        True
    """
    with torch.inference_mode():
        net(inputs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            net(inputs)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from deepimage.errors import DeepImageError

Builder = Callable[..., nn.Module]


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
    """Build model ``name`` for ``task`` with the builder's keyword arguments."""
    return model_info(task, name).builder(**kwargs)


def parameter_count(task: str, name: str, **kwargs: object) -> int:
    """Parameters of model ``name``, counted on PyTorch's meta device (no memory used)."""
    with torch.device("meta"):
        net = create_model(task, name, **kwargs)
    return sum(p.numel() for p in net.parameters())

"""torchvision's pretrained weights: chosen by name, fetched only when asked, and a clear
error (naming the file to place in the cache) when there is no internet.

Example:
    >>> default_weights("ResNet18_Weights", pretrained=False) is None
    True
    >>> default_weights("ResNet18_Weights", pretrained=True).url.rsplit("/", 1)[-1]
    'resnet18-f37072fd.pth'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.error import URLError

import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum

from deepimage.errors import DeepImageError


def default_weights(enum_name: str, pretrained: bool) -> WeightsEnum | None:
    """torchvision's default weights of ``enum_name`` when ``pretrained``, else None."""
    if not pretrained:
        return None
    return torchvision.models.get_weight(f"{enum_name}.DEFAULT")


def build_with_weights(
    builder: Callable[..., nn.Module], fetched: WeightsEnum | None, **kwargs: Any
) -> nn.Module:
    """Call ``builder(**kwargs)``; failing to download ``fetched`` becomes a clear error."""
    try:
        return builder(**kwargs)
    except (URLError, OSError) as error:
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        name = fetched.url.rsplit("/", 1)[-1] if fetched else "the weights file"
        raise DeepImageError(
            f"could not download torchvision's pretrained weights for {builder.__name__} "
            f"({error}). Without internet, put the weights file ({name}) in {cache}, or pass "
            "--weights FILE, or train from scratch without --pretrained."
        ) from None

"""Classification augmentation on whole batches of float tensors, on the training device.

One affine resampling per batch (translate, scale, rotate, flip) plus random erasing; the
random numbers come from a generator the caller seeds, so a resumed run repeats them.

Example:
    >>> import torch
    >>> x = torch.rand(8, 1, 28, 28)
    >>> g = torch.Generator().manual_seed(0)
    >>> augment_batch(x, "classify-strong", g).shape
    torch.Size([8, 1, 28, 28])
    >>> torch.equal(augment_batch(x, "none", g), x)
    True
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from deepimage.transforms.registry import BatchRanges, augmentation


def _uniform(n: int, bound: float, g: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=g) * 2 - 1) * bound


def _affine(x: torch.Tensor, p: BatchRanges, g: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    angle = _uniform(n, math.radians(p.degrees), g)
    zoom = 1 + _uniform(n, p.scale, g)
    flip = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if p.hflip else torch.ones(n)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, _uniform(n, 2 * p.shift, g)], 1),
            torch.stack([sin * flip, cos, _uniform(n, 2 * p.shift, g)], 1),
        ],
        1,
    ).to(x)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _erase(x: torch.Tensor, probability: float, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    side_h = (torch.rand(n, generator=g) * 0.3 + 0.1) * h
    side_w = (torch.rand(n, generator=g) * 0.3 + 0.1) * w
    top = torch.rand(n, generator=g) * (h - side_h)
    left = torch.rand(n, generator=g) * (w - side_w)
    chosen = torch.rand(n, generator=g) < probability
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    inside = (
        (rows >= top.view(n, 1, 1))
        & (rows < (top + side_h).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1))
        & (cols < (left + side_w).view(n, 1, 1))
        & chosen.view(n, 1, 1)
    )
    return x.masked_fill(inside.unsqueeze(1).to(x.device), 0.0)


def augment_batch(
    x: torch.Tensor, name: str, generator: torch.Generator, task: str = "classify"
) -> torch.Tensor:
    """Randomly transform an N x C x H x W float batch with the batch preset ``name`` of
    ``task`` (classify: ``none``, ``classify-light``, ``classify-strong``; video: ``video``,
    ``video-flip``). Each item gets one transform for all its channels, so a clip's frames
    stacked as channels (N x C*T x H x W) move together.

    Example:
        >>> clips = torch.rand(2, 3 * 16, 8, 8)
        >>> moved = augment_batch(clips, "video", torch.Generator().manual_seed(0), "video")
        >>> moved.shape
        torch.Size([2, 48, 8, 8])
    """
    ranges = augmentation(name, task).batch
    if ranges is None:
        return x
    x = _affine(x, ranges, generator)
    if ranges.brightness:
        gain = 1 + _uniform(x.shape[0], ranges.brightness, generator).to(x)
        x = (x * gain.view(-1, *[1] * (x.dim() - 1))).clamp_(0, 1)
    return _erase(x, ranges.erase, generator) if ranges.erase else x


def augment_images(images: np.ndarray, name: str, generator: torch.Generator) -> np.ndarray:
    """:func:`augment_batch` on N x H x W [x C] uint8 images, as training feeds them (floats
    in [0, 1], channels last in memory), back to uint8 in the same shape.

    Example:
        >>> images = np.zeros((2, 8, 8), np.uint8)
        >>> augment_images(images, "classify-light", torch.Generator()).shape
        (2, 8, 8)
    """
    chw = torch.from_numpy(np.ascontiguousarray(images.reshape(*images.shape[:3], -1)))
    x = chw.permute(0, 3, 1, 2).float().div_(255).contiguous(memory_format=torch.channels_last)
    out = augment_batch(x, name, generator).mul(255).round_().clamp_(0, 255).to(torch.uint8)
    return out.permute(0, 2, 3, 1).numpy().reshape(images.shape)

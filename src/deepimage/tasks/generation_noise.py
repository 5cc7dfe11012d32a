"""The noise a denoising autoencoder learns to remove, added to [0, 1] image batches:
Gaussian (a standard deviation on the 0-1 scale), salt-and-pepper (a share of pixels set
to black or white) and JPEG artefacts (a round trip through OpenCV's encoder). Noisy
images are clipped to [0, 1], as a saved image would be.

Example:
    >>> import torch
    >>> clean = torch.full((4, 1, 8, 8), 0.5)
    >>> noisy = add_noise(clean, ("gaussian", "salt-pepper"), 0.2, torch.Generator().manual_seed(0))
    >>> noisy.shape, bool(noisy.min() >= 0 and noisy.max() <= 1), bool((noisy != clean).any())
    (torch.Size([4, 1, 8, 8]), True, True)
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

JPEG_QUALITIES = (5, 40)  # the range training draws a quality from


def gaussian_noise(
    x: torch.Tensor, sigma: torch.Tensor | float, generator: torch.Generator
) -> torch.Tensor:
    """``x`` plus zero-mean Gaussian noise of standard deviation ``sigma`` (per image or one)."""
    sigma = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, *[1] * (x.ndim - 1))
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) * sigma
    return (x + noise.to(x.device)).clamp_(0, 1)


def salt_pepper_noise(
    x: torch.Tensor, share: torch.Tensor | float, generator: torch.Generator
) -> torch.Tensor:
    """``x`` with a ``share`` of its pixels (per image or one) set to 0 or 1 at random."""
    share = torch.as_tensor(share, dtype=x.dtype).reshape(-1, *[1] * (x.ndim - 1))
    pixels = (len(x), 1, *x.shape[2:])  # the same pixel in every channel
    hit = torch.rand(pixels, generator=generator) < share
    salt = torch.rand(pixels, generator=generator) < 0.5
    value = salt.to(x.dtype).expand_as(x).to(x.device)
    return torch.where(hit.expand_as(x).to(x.device), value, x)


def jpeg_noise(x: torch.Tensor, qualities: list[int]) -> torch.Tensor:
    """Each image of ``x`` encoded as a JPEG of its quality and decoded again."""
    images = (x.detach().float().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for image, quality in zip(images, qualities, strict=True):
        grey = image.shape[-1] == 1
        _, encoded = cv2.imencode(".jpg", image[..., 0] if grey else image[..., ::-1],
                                   [cv2.IMWRITE_JPEG_QUALITY, int(quality)])  # fmt: skip
        decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
        out.append(decoded[..., None] if grey else decoded[..., ::-1])
    batch = torch.from_numpy(np.ascontiguousarray(np.stack(out))).permute(0, 3, 1, 2)
    return batch.to(x.device, x.dtype) / 255


def add_noise(
    x: torch.Tensor, kinds: tuple[str, ...], level: float, generator: torch.Generator
) -> torch.Tensor:
    """Each image of ``x`` with one of ``kinds`` at a random strength: Gaussian sigma and
    salt-and-pepper share drawn from 0.5 to 1.5 times ``level`` (the share halved), JPEG
    quality from :data:`JPEG_QUALITIES`."""
    count = len(x)
    pick = torch.randint(len(kinds), (count,), generator=generator)
    strength = level * (0.5 + torch.rand(count, generator=generator))
    qualities = torch.randint(*JPEG_QUALITIES, (count,), generator=generator).tolist()
    out = x.clone()
    for index, kind in enumerate(kinds):
        chosen = (pick == index).nonzero().flatten()
        if not len(chosen):
            continue
        part = x[chosen.to(x.device)]
        if kind == "gaussian":
            noisy = gaussian_noise(part, strength[chosen], generator)
        elif kind == "salt-pepper":
            noisy = salt_pepper_noise(part, strength[chosen] / 2, generator)
        else:
            noisy = jpeg_noise(part, [qualities[i] for i in chosen.tolist()])
        out[chosen.to(x.device)] = noisy
    return out

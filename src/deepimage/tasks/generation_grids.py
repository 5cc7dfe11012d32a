"""The grids a generation run and ``evaluate`` draw: samples from fixed noise (one class
per row for a conditional model) and reconstructions (each image above its
reconstruction; for a dae noisy, denoised and clean images).

Example:
    >>> import torch
    >>> from deepimage.tasks.generation import GenerationTask
    >>> task = GenerationTask(model="dcgan", classes=["image"], in_channels=1, img_size=28,
    ...                       latent_dim=8, width=4)
    >>> sample_grid(task).shape
    (686, 686)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deepimage.io.writing import write_image
from deepimage.tasks.generation import GRID, GenerationTask
from deepimage.tasks.generation_noise import gaussian_noise
from deepimage.viz.draw import tile_images

GRID_SEED = 1234  # the fixed noise every epoch's sample grid is drawn from


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[0, 1] N x C x H x W images as N x H x W x C uint8 (HxW for one channel)."""
    images = (x.detach().float().clamp(0, 1) * 255).round().byte().cpu().permute(0, 2, 3, 1)
    return images[..., 0].numpy() if images.shape[-1] == 1 else images.numpy()


def draw_codes(task: GenerationTask, count: int, seed: int) -> torch.Tensor:
    """``count`` codes from the model's prior (a VAE's fitted mixture, else N(0, I)),
    reproducible by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    if task.prior is not None:
        return task.prior.sample(count, generator)
    return torch.randn(count, task.hparams.latent_dim, generator=generator)


def sample_images(
    task: GenerationTask, codes: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor:
    """[0, 1] images decoded from ``codes`` (on the CPU)."""
    with torch.inference_mode():
        return (
            task.decode(codes.to(task.device), None if labels is None else labels.to(task.device))
            .float()
            .cpu()
        )


def _columns(task: GenerationTask) -> int:
    return task.num_classes if 2 <= task.num_classes <= 16 else 8


def sample_grid(task: GenerationTask) -> np.ndarray:
    """Samples from the fixed grid noise (a conditional model: one class per column)."""
    count = GRID if not task.num_classes else _columns(task) * 8
    labels = torch.arange(count) % task.num_classes if task.num_classes else None
    was_training = task.training
    task.eval()
    images = sample_images(task, draw_codes(task, count, GRID_SEED), labels)
    task.train(was_training)
    return tile_images(list(to_uint8(images)), _columns(task))


def reconstruction_grid(
    task: GenerationTask, images: torch.Tensor, labels: torch.Tensor, sigma: float | None = None
) -> np.ndarray:
    """Rows of uint8 images above their reconstructions; with ``sigma`` (a dae): noisy,
    denoised and clean rows."""
    x = images.float().div(255).to(task.device)
    was_training = task.training
    task.eval()
    with torch.inference_mode():
        if sigma is not None:
            noisy = gaussian_noise(x, sigma, torch.Generator().manual_seed(0))
            rows = [noisy, task.reconstruct(noisy), x]
        else:
            rows = [x, task.reconstruct(x, labels.to(task.device))]
    task.train(was_training)
    columns = 8
    cells = []
    for start in range(0, len(x), columns):
        for row in rows:
            cells += list(to_uint8(row[start : start + columns]))
    return tile_images(cells, columns)


def write_epoch_grids(task: GenerationTask, plots: Path, epoch: int) -> None:
    """``plots/samples.png`` and ``plots/reconstructions.png`` (the latest epoch's), and a
    copy of each per epoch in ``plots/epochs/``."""
    grids = {}
    if task.can_sample:
        grids["samples"] = sample_grid(task)
    if task.preview is not None and task.kind != "gan":
        images, labels = task.preview
        sigma = task.hparams.noise_level if task.hparams.model == "dae" else None
        grids["reconstructions"] = reconstruction_grid(task, images[:32], labels[:32], sigma)
    for name, grid in grids.items():
        write_image(plots / f"{name}.png", grid)
        write_image(plots / "epochs" / f"{name}_{epoch + 1:03d}.png", grid)

"""What a trained generative model does beyond ``reconstruct``: ``sample`` images from the
prior (by class for a conditional model), ``interpolate`` between two images (through
their codes) or two seeds (through the prior), and ``denoise`` images of any size with a
dae (in overlapping tiles above ``tile`` pixels).

Example:
    >>> from deepimage.tasks.generation import GenerationTask
    >>> task = GenerationTask(model="dae", classes=["image"], in_channels=1, img_size=28,
    ...                       latent_dim=0, width=4)
    >>> denoise_image(task, np.zeros((100, 70, 1), np.uint8), tile=64).shape
    (100, 70, 1)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.data.model_input import input_for_model, match_channels
from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder
from deepimage.io.images import read_image
from deepimage.io.writing import write_image
from deepimage.tasks.generation import GenerationTask
from deepimage.tasks.generation_grids import draw_codes, sample_images, to_uint8
from deepimage.viz.draw import tile_images

TILE_MARGIN = 32  # pixels of context around each tile (more than the dae's reach)


def class_labels(task: GenerationTask, class_name: str | None, count: int) -> torch.Tensor | None:
    """The labels to sample ``count`` images with: ``class_name``'s, or every class in
    turn; None for an unconditional model (which refuses a class)."""
    classes = list(task.hparams.classes)
    if not task.num_classes:
        if class_name is not None:
            raise DeepImageError(
                f"--class {class_name}: this {task.hparams.model} is not conditional; train "
                "one with --conditional on labelled data."
            )
        return None
    if class_name is None:
        return torch.arange(count) % len(classes)
    if class_name not in classes:
        raise DeepImageError(
            f"--class {class_name}: not a class of this model; it has {', '.join(classes)}."
        )
    return torch.full((count,), classes.index(class_name))


def sample(
    task: GenerationTask, count: int, seed: int, class_name: str | None, batch_size: int
) -> np.ndarray:
    """``count`` uint8 samples (N x H x W [x C]), the same for the same seed."""
    if not task.can_sample:
        raise DeepImageError(
            f"a {task.hparams.model} has no prior to sample from; sample with a vae, dcgan "
            "or wgan-gp model."
        )
    labels = class_labels(task, class_name, count)
    codes = draw_codes(task, count, seed)
    task.eval()
    parts = [
        to_uint8(sample_images(task, codes[start : start + batch_size],
                               None if labels is None else labels[start : start + batch_size]))
        for start in range(0, count, batch_size)
    ]  # fmt: skip
    return np.concatenate(parts)


def sample_files(out: Path, count: int, overwrite: bool) -> list[Path]:
    """``out/sample_00000.png``... refused (before anything is sampled) where one exists."""
    check_writable_folder(out)
    digits = max(5, len(str(count - 1)))
    files = [out / f"sample_{index:0{digits}d}.png" for index in range(count)]
    refuse_existing(files, overwrite)
    return files


def refuse_existing(files: list[Path], overwrite: bool) -> None:
    """A clear error naming the first of ``files`` that exists, unless ``overwrite``."""
    taken = [file for file in files if file.exists()]
    if taken and not overwrite:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise DeepImageError(
            f"{taken[0]} already exists{more}; pass --overwrite to replace it, or choose "
            "another -o/--out"
        )


def endpoint(
    task: GenerationTask, item: Any, label: torch.Tensor | None
) -> tuple[torch.Tensor, np.ndarray | None]:
    """The code of one end of a walk and its picture: an image through the encoder, or an
    integer seed through the prior."""
    if isinstance(item, (int, np.integer)) or (isinstance(item, str) and item.isdigit()):
        if not task.can_sample:
            raise DeepImageError(
                f"a {task.hparams.model} has no prior: give two images, not seeds."
            )
        return draw_codes(task, 1, int(item))[0], None
    if not task.can_encode or task.num_classes:
        raise DeepImageError(
            f"this {task.hparams.model} has no encoder for images: give two integer seeds "
            "(sample walks through its prior)."
        )
    hp = task.hparams
    image = input_for_model(
        Path(item) if isinstance(item, (str, os.PathLike)) else item, hp.in_channels, hp.img_size
    )
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255).to(task.device)
    with torch.inference_mode():
        return task.encode(x, label).float().cpu()[0], image


def interpolate(
    task: GenerationTask, start: Any, end: Any, steps: int, class_name: str | None
) -> list[np.ndarray]:
    """``steps`` images from ``start`` to ``end`` (images or seeds), both ends included;
    seeds walk along the great circle (slerp), codes of images in a straight line; the
    two images themselves frame the walk."""
    first = task.hparams.classes[0] if task.num_classes else None
    labels = class_labels(task, class_name or first, steps)
    label = None if labels is None else labels[:1].to(task.device)
    task.eval()
    (a, picture_a), (b, picture_b) = endpoint(task, start, label), endpoint(task, end, label)
    weights = torch.linspace(0, 1, steps)[:, None]
    if picture_a is None and picture_b is None:
        codes = _slerp(a, b, weights)
    else:
        codes = (1 - weights) * a + weights * b
    walk = list(to_uint8(sample_images(task, codes, labels)))
    framed = [
        p.squeeze(-1) if p.shape[-1] == 1 else p for p in (picture_a, picture_b) if p is not None
    ]
    return framed[:1] + walk + framed[1:] if framed else walk


def _slerp(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    cosine = torch.dot(a / a.norm(), b / b.norm()).clamp(-1, 1)
    angle = torch.acos(cosine)
    if angle < 1e-4:
        return (1 - weights) * a + weights * b
    return (torch.sin((1 - weights) * angle) * a + torch.sin(weights * angle) * b) / torch.sin(
        angle
    )


def write_walk(path: Path, images: list[np.ndarray], overwrite: bool) -> None:
    """The walk as one row of images (refused if ``path`` exists, unless ``overwrite``)."""
    refuse_existing([path], overwrite)
    write_image(path, tile_images(images, columns=len(images)))


def native_input(task: GenerationTask, item: Path | np.ndarray) -> np.ndarray:
    """An image at its own size, with the model's channels (H x W x C uint8)."""
    channels = task.hparams.in_channels
    if isinstance(item, Path):
        image = read_image(item, mode="gray" if channels == 1 else "rgb")
    else:
        image = match_channels(item[None], channels)[0]
    return image.reshape(*image.shape[:2], channels)


def require_dae(task: GenerationTask) -> None:
    """A clear error unless ``task`` is a denoising autoencoder."""
    if task.hparams.model != "dae":
        raise DeepImageError(
            f"denoise needs a dae model (this is a {task.hparams.model}); train one with "
            "`deepimage generate train --model dae`."
        )


def denoise_image(task: GenerationTask, image: np.ndarray, tile: int) -> np.ndarray:
    """A dae's output for an H x W x C uint8 image, at its size; above ``tile`` pixels a
    side, in tiles of ``tile`` each seen with :data:`TILE_MARGIN` pixels of context."""
    require_dae(task)
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255)
    height, width = image.shape[:2]
    margin = min(TILE_MARGIN, tile // 4) // 4 * 4  # multiples of 4 keep the pooling grid
    step = (tile - 2 * margin) // 4 * 4
    out = torch.empty_like(x)
    task.eval()
    with torch.inference_mode():
        if height <= tile and width <= tile:
            out = task.reconstruct(x.to(task.device)).float().cpu()
        else:
            for top in range(0, height, step):
                for left in range(0, width, step):
                    y0, x0 = max(0, top - margin), max(0, left - margin)
                    part = x[..., y0 : top + step + margin, x0 : left + step + margin]
                    done = task.reconstruct(part.to(task.device)).float().cpu()
                    out[..., top : top + step, left : left + step] = done[
                        ..., top - y0 : top - y0 + step, left - x0 : left - x0 + step
                    ]
    return (out[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()

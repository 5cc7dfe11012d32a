"""Images as a model takes them: uint8, the model's channels, resized to its square
input; and the per-channel statistics that normalise them. NumPy and OpenCV only, so the
NumPy networks (:mod:`deepimage.scratch`) read data exactly as the torch tasks do.

Example:
    >>> import numpy as np
    >>> input_for_model(np.full((8, 8), 255, np.uint8), channels=3, size=10).shape
    (10, 10, 3)
    >>> channel_stats(np.zeros((4, 1, 2, 2), np.uint8))
    ([0.0], [0.001])
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from deepimage.errors import DeepImageError
from deepimage.io import read_image
from deepimage.process.color import grayscale

STATS_SAMPLE = 10_000  # images used to estimate the normalisation mean and std
DEFAULT_FILE_SIZE = 64  # input side for image folders whose files differ in size


def resize_uint8(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an HxW(xC) uint8 image to ``size`` x ``size`` (area when shrinking)."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    shrinking = image.shape[0] > size or image.shape[1] > size
    out = cv2.resize(
        image, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )
    return out.reshape(size, size, -1) if image.ndim == 3 else out


def match_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """N x H x W [x C] uint8 images (or the T frames of a clip) with ``channels`` channels
    (grey by process.grayscale).

    Example:
        >>> match_channels(np.zeros((2, 4, 4), np.uint8), 3).shape
        (2, 4, 4, 3)
    """
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[-1] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    return np.stack([grayscale(image[..., :3]) for image in images])[..., None]


def load_for_model(path: str | Path, channels: int, size: int) -> np.ndarray:
    """Decode a file as the model expects it: H x W x C uint8 at ``size``, gray or RGB."""
    image = read_image(path, mode="gray" if channels == 1 else "rgb")
    image = resize_uint8(image, size)
    return image.reshape(size, size, channels)


def input_for_model(item: Path | np.ndarray, channels: int, size: int) -> np.ndarray:
    """A file or an in-memory image as a model takes it: H x W x C uint8 at ``size``."""
    if isinstance(item, Path):
        return load_for_model(item, channels, size)
    image = match_channels(item[None], channels)[0]
    return resize_uint8(image, size).reshape(size, size, channels)


def images_for_model(images: np.ndarray, channels: int, size: int) -> np.ndarray:
    """In-memory N x H x W [x C] uint8 images as a model takes them: N x size x size x
    ``channels``.

    Example:
        >>> images_for_model(np.zeros((2, 8, 8), np.uint8), 1, 10).shape
        (2, 10, 10, 1)
    """
    images = match_channels(images, channels)
    if images.shape[1] != size or images.shape[2] != size:
        images = np.stack([resize_uint8(img, size).reshape(size, size, channels) for img in images])
    return images


def model_input_size(
    img_size: int | None,
    own_size: tuple[int, int] | None,
    default: int,
    min_size: int,
    model: str = "the model",
) -> int:
    """The side a model's inputs are resized to: ``img_size`` when given, else the data's
    own (the larger side) when every image shares one, else ``default``; at least the
    model's ``min_size`` (an ``img_size`` below it is refused, not changed).

    Example:
        >>> model_input_size(None, (8, 8), 64, 10), model_input_size(32, None, 64, 10)
        (10, 32)
        >>> model_input_size(4, None, 64, 10, "small-cnn")
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: --img-size 4 is below small-cnn's smallest input, 10 pixels; pass --img-size 10 or more.
    """
    if img_size is not None and img_size < min_size:
        raise DeepImageError(
            f"--img-size {img_size} is below {model}'s smallest input, {min_size} pixels; "
            f"pass --img-size {min_size} or more."
        )
    size = img_size or (max(own_size) if own_size else default)
    return max(size, min_size)


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and (sample) standard deviation, at least 1e-3, of N x C x ... uint8
    images (clips too) scaled to [0, 1]."""
    x = np.moveaxis(images, 1, 0).reshape(images.shape[1], -1).astype(np.float64) / 255
    std = np.maximum(x.std(axis=1, ddof=1) if x.shape[1] > 1 else 0.0, 1e-3)
    return x.mean(axis=1).tolist(), np.broadcast_to(std, x.shape[:1]).tolist()

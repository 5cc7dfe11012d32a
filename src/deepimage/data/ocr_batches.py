"""Batches of text lines: lines of different widths padded on the right to the widest of
the batch (with each line's own edge), their widths, and their texts as CTC targets
(character i of the alphabet is class i + 1; 0 is the blank), and the texts themselves
(validation compares them with what the model reads).

Training batches may be augmented, each line on its own, drawn from (seed, epoch, index)
so that a resumed run sees the same lines: a small rotation and shear, a zoom, a contrast
and brightness change and, sometimes, a blur.

Example:
    >>> import numpy as np
    >>> lines = LineBatches([np.zeros((32, 40), np.uint8), np.zeros((32, 64), np.uint8)],
    ...                     ["AB", "B"], "AB")
    >>> images, widths, targets, target_lengths, texts = lines[[0, 1]]
    >>> images.shape, widths.tolist(), targets.tolist(), target_lengths.tolist()
    (torch.Size([2, 1, 32, 64]), [40, 64], [1, 2, 2], [2, 1])
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

LineBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]


def encode_texts(texts: Sequence[str], alphabet: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(concatenated class indices, one length per text) as ``torch.nn.CTCLoss`` takes them;
    characters outside the alphabet are left out (no model of it can read them).

    Example:
        >>> [t.tolist() for t in encode_texts(["BA", "", "A?"], "AB")]
        [[2, 1, 1], [2, 0, 1]]
    """
    index = {char: i + 1 for i, char in enumerate(alphabet)}
    known = [[index[char] for char in text if char in index] for text in texts]
    targets = [i for text in known for i in text]
    lengths = [len(text) for text in known]
    return torch.tensor(targets, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)


def pad_lines(images: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """N x 1 x H x W_max uint8 (each line padded with its right edge) and the widths."""
    widest = max(image.shape[1] for image in images)
    padded = [np.pad(im, ((0, 0), (0, widest - im.shape[1])), mode="edge") for im in images]
    widths = torch.tensor([image.shape[1] for image in images], dtype=torch.long)
    return torch.from_numpy(np.stack(padded))[:, None], widths


def augment_line(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random, mild change of a grey line image, at its own size.

    Example:
        >>> out = augment_line(np.full((32, 90), 128, np.uint8), np.random.default_rng(0))
        >>> out.shape, out.dtype
        ((32, 90), dtype('uint8'))
    """
    h, w = image.shape
    angle, shear, zoom = rng.uniform(-3, 3), rng.uniform(-0.15, 0.15), rng.uniform(0.9, 1.05)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    matrix[0, 1] += shear
    matrix[0, 2] += rng.uniform(-0.03, 0.03) * w - shear * h / 2
    out = cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    gain, offset = rng.uniform(0.7, 1.2), rng.uniform(-25, 25)
    return np.clip(out.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)


class LineBatches(Dataset):
    """Lines indexed a batch at a time (``[indices]`` or, to augment, ``[(epoch, indices)]``)."""

    def __init__(
        self,
        images: Sequence[np.ndarray],
        texts: Sequence[str],
        alphabet: str,
        augment: bool = False,
        seed: int = 0,
    ) -> None:
        self.images, self.texts, self.alphabet = list(images), list(texts), alphabet
        self.augment, self.seed = augment, seed

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, item: Sequence[int] | tuple[int, Sequence[int]]) -> LineBatch:
        epoch, indices = item if isinstance(item, tuple) else (0, item)
        images = [self.images[i] for i in indices]
        if self.augment:
            images = [
                augment_line(image, np.random.default_rng([self.seed, epoch, i]))
                for image, i in zip(images, indices, strict=True)
            ]
        padded, widths = pad_lines(images)
        texts = [self.texts[i] for i in indices]
        return padded, widths, *encode_texts(texts, self.alphabet), texts

"""Each image and mask checked, in threads: the image decodes, the mask exists, decodes and
has the image's size; what deciding the encoding needs of the mask is kept
(:class:`~deepimage.data.segmentation.encoding.MaskSummary`), never its pixels.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "a.png", np.zeros((4, 6, 3), np.uint8))
    >>> write_image(root / "a_mask.png", np.zeros((4, 5), np.uint8))
    >>> checked = check_pair(Pair(root / "a.png", root / "a_mask.png"), 10**6)
    >>> checked.failure[1:]
    ('size_mismatch', 'mask is 5x4 but its image a.png is 6x4; save the mask at the image size')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from deepimage.data.segmentation.encoding import MaskSummary, summarise
from deepimage.data.segmentation.items import Pair
from deepimage.errors import BadImageError
from deepimage.io.images import probe_image, read_mask

_WORKERS = min(8, os.cpu_count() or 1)
_JPEG = (".jpg", ".jpeg")
T = TypeVar("T")
R = TypeVar("R")

Failure = tuple[Path, str, str]
"""(the file at fault, issue kind, what is wrong and the fix)."""


@dataclass
class Checked:
    """A pair after its checks: the image size and the mask's summary, or a failure."""

    pair: Pair
    width: int = 0
    height: int = 0
    summary: MaskSummary | None = None
    failure: Failure | None = None


def check_pairs(pairs: Sequence[Pair], max_pixels: int) -> list[Checked]:
    """:func:`check_pair` for every pair, in threads, in order."""
    return in_threads(lambda pair: check_pair(pair, max_pixels), pairs)


def in_threads(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``work`` on every item in a few threads (decoding releases the GIL), in order."""
    with ThreadPoolExecutor(_WORKERS) as pool:
        return list(pool.map(work, items))


def check_pair(pair: Pair, max_pixels: int) -> Checked:
    """Check one image and its mask."""
    checked = Checked(pair)
    if not pair.image_found:
        checked.failure = (
            pair.image,
            "missing_image",
            f"image not found for mask {pair.mask}; add the image, or remove the mask",
        )
        return checked
    if not pair.mask_found:
        checked.failure = (
            pair.mask,
            "missing_mask",
            f"missing mask for image {pair.image}; add the mask, or remove the image",
        )
        return checked
    try:
        info = probe_image(pair.image, max_pixels)
    except BadImageError as error:
        checked.failure = (
            pair.image,
            "bad_image",
            f"unreadable image ({error.reason}); replace or remove it",
        )
        return checked
    checked.width, checked.height = info.width, info.height
    try:
        values, palette = read_mask(pair.mask, max_pixels)
    except BadImageError as error:
        checked.failure = (
            pair.mask,
            "bad_mask",
            f"unreadable mask ({error.reason}); replace or remove it",
        )
        return checked
    if values.shape[:2] != (info.height, info.width):
        checked.failure = (
            pair.mask,
            "size_mismatch",
            f"mask is {values.shape[1]}x{values.shape[0]} but its image {pair.image.name} is "
            f"{info.width}x{info.height}; save the mask at the image size",
        )
        return checked
    checked.summary = summarise(values, palette, pair.mask.suffix.lower() in _JPEG)
    return checked

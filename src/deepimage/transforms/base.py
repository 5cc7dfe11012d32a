"""What every transform shares: a probability ``p`` and an explicit random generator.

Example:
    >>> import numpy as np
    >>> from deepimage.transforms.photometric import GaussianBlur
    >>> blur = GaussianBlur(p=0.0)
    >>> s = Sample(np.zeros((4, 4), np.uint8))
    >>> blur(s, np.random.default_rng(0)) is s
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deepimage.transforms.sample import Sample


@dataclass(kw_only=True)
class Transform:
    """A random transform: ``transform(sample, rng) -> Sample``, applied with probability ``p``.

    Subclasses implement :meth:`apply`; they never change the sample they are given.
    """

    p: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"p must be between 0 and 1, not {self.p}")

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        return self.apply(sample, rng) if self.fires(rng) else sample

    def fires(self, rng: np.random.Generator) -> bool:
        """Whether this call applies the transform (draws a number only when ``p < 1``)."""
        return self.p >= 1.0 or rng.random() < self.p

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        """Transform ``sample`` unconditionally."""
        raise NotImplementedError


def pair(
    value: float | Sequence[float], name: str, symmetric_around: float = 0.0
) -> tuple[float, float]:
    """A ``(low, high)`` range; a single number ``x`` means ``centre -/+ x``.

    Example:
        >>> pair(10, "degrees"), pair([0.8, 1.2], "scale")
        ((-10.0, 10.0), (0.8, 1.2))
    """
    if isinstance(value, int | float):
        return symmetric_around - abs(value), symmetric_around + abs(value)
    low, high = (float(v) for v in value)
    if low > high:
        raise ValueError(f"{name} must be (low, high) with low <= high, not {tuple(value)}")
    return low, high


def size_wh(value: int | Sequence[int]) -> tuple[int, int]:
    """A ``(height, width)`` pair or an int (a square), as OpenCV's ``(width, height)``.

    Example:
        >>> size_wh((480, 640)), size_wh(32)
        ((640, 480), (32, 32))
    """
    height, width = (value, value) if isinstance(value, int) else value
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, not {value}")
    return int(width), int(height)

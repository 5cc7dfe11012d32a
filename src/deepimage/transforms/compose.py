"""Pipelines: :class:`Compose` runs steps in order and fuses consecutive geometric steps.

Fusing multiplies the steps' matrices and resamples once: one interpolation blur instead
of several, and faster. Content an intermediate step would have pushed off its canvas can
come back in a later step (boxes and masks follow the same rule, so they stay aligned).

Example:
    >>> import numpy as np
    >>> from deepimage.transforms.geometric import HorizontalFlip, Rotate, Resize
    >>> pipeline = Compose([HorizontalFlip(), Rotate(10), Resize(32)])
    >>> s = Sample(np.zeros((48, 64, 3), np.uint8), boxes=[[8, 8, 40, 40]], labels=[3])
    >>> out = pipeline(s, np.random.default_rng(0))
    >>> out.image.shape, out.labels.tolist()
    ((32, 32, 3), [3])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from deepimage.transforms.base import Transform
from deepimage.transforms.geometric import Geometric
from deepimage.transforms.sample import Sample
from deepimage.transforms.warp import Warp


@dataclass
class Compose(Transform):
    """Apply ``steps`` in order (the whole pipeline with probability ``p``)."""

    steps: Sequence[Transform] = field(default_factory=list)

    def apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        pending: Warp | None = None
        for step in self.steps:
            if isinstance(step, Geometric):
                warp = step.draw(pending.size if pending else sample.size, rng)
                pending = pending.then(warp) if pending else warp
                continue
            if pending:
                sample, pending = pending.apply(sample), None
            sample = step(sample, rng)
        return pending.apply(sample) if pending else sample

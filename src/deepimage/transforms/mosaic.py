"""Mosaic for detection: four samples tiled around a random centre into one.

It takes a list of samples, so a data set calls it before the per-sample pipeline.

Example:
    >>> import numpy as np
    >>> tiles = [Sample(np.full((40, 60, 3), 50 * i, np.uint8), boxes=[[10, 10, 50, 30]], labels=[i]) for i in range(4)]
    >>> out = Mosaic(size=64)(tiles, np.random.default_rng(0))
    >>> out.image.shape, sorted(set(out.labels.tolist())) == [0, 1, 2, 3]
    ((64, 64, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.transforms.base import pair, size_wh
from deepimage.transforms.sample import Sample
from deepimage.transforms.warp import Warp, scaling, translation


@dataclass
class Mosaic:
    """Tile 4 samples into ``size = (height, width)``, meeting at a random centre.

    The centre is drawn in ``centre`` (fractions of the canvas); each sample is scaled to
    cover its quarter, its corner at the centre, and cropped; boxes are clipped or
    dropped, masks (all or none of the samples have one) tiled the same way.
    """

    size: int | Sequence[int] = 640
    centre: Sequence[float] = (0.25, 0.75)
    fill: int = 114
    mask_fill: int = 0

    def __post_init__(self) -> None:
        self.size = size_wh(self.size)
        self.centre = pair(self.centre, "centre")

    def __call__(self, samples: Sequence[Sample], rng: np.random.Generator) -> Sample:
        if len(samples) != 4 or len({s.mask is None for s in samples}) != 1:
            raise DeepImageError("Mosaic takes 4 samples, with masks on all of them or none")
        width, height = self.size
        cx, cy = (round(rng.uniform(*self.centre) * side) for side in (width, height))
        quarters = [
            (0, 0, cx, cy),
            (cx, 0, width, cy),
            (0, cy, cx, height),
            (cx, cy, width, height),
        ]
        canvas = Sample(
            np.full((height, width, *samples[0].image.shape[2:]), self.fill, np.uint8),
            boxes=np.zeros((0, 4)),
            mask=None
            if samples[0].mask is None
            else np.full((height, width), self.mask_fill, samples[0].mask.dtype),
        )
        tiles = [self._tile(s, q, (cx, cy)) for s, q in zip(samples, quarters, strict=True)]
        return _paste(canvas, tiles, quarters)

    def _tile(
        self, sample: Sample, quarter: tuple[int, int, int, int], centre: tuple[int, int]
    ) -> Sample:
        """``sample`` scaled to cover ``quarter``, its corner at ``centre``, in quarter coordinates."""
        x0, y0, x1, y1 = quarter
        w, h = sample.size
        zoom = max((x1 - x0) / w, (y1 - y0) / h, 1e-6)
        dx = centre[0] - zoom * w if x0 == 0 else 0.0
        dy = centre[1] - zoom * h if y0 == 0 else 0.0
        matrix = translation(dx, dy) @ scaling(zoom, zoom)
        return Warp(matrix, (max(x1 - x0, 1), max(y1 - y0, 1)), self.fill, self.mask_fill).apply(
            sample
        )


def _paste(
    canvas: Sample, tiles: list[Sample], quarters: list[tuple[int, int, int, int]]
) -> Sample:
    boxes, labels = [canvas.boxes], [canvas.labels]
    for tile, (x0, y0, x1, y1) in zip(tiles, quarters, strict=True):
        if x1 <= x0 or y1 <= y0:
            continue
        canvas.image[y0:y1, x0:x1] = tile.image
        if canvas.mask is not None:
            canvas.mask[y0:y1, x0:x1] = tile.mask
        if tile.boxes is not None:
            boxes.append(tile.boxes + np.array([x0, y0, x0, y0], np.float32))
            labels.append(tile.labels)
    return canvas.replace(boxes=np.concatenate(boxes), labels=np.concatenate(labels))

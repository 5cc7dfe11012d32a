"""``Segmenter``: the generic :class:`~deepimage.api.model.Model` for the segment task.

Masks come back at each image's own size, whatever the training size (tiled above
``tile``); ``evaluate`` scores exactly the masks ``predict`` returns.

Example:
    >>> from deepimage.api import Segmenter
    >>> seg = Segmenter("small-unet")
    >>> report = seg.fit("membrane", time_minutes=10, quiet=True)  # doctest: +SKIP
    >>> row = seg.predict("cells.png", out="masks/")[0]  # doctest: +SKIP
    >>> row["mask"].shape, row["areas"][0]  # doctest: +SKIP
    ((512, 512), {'class': 'foreground', 'pixels': 204800, 'fraction': 0.78125})
    >>> seg.model
    'small-unet'
"""

from __future__ import annotations

from deepimage.api.model import Model


class Segmenter(Model):
    """A semantic segmenter: ``fit`` on images with masks, then ``evaluate`` / ``predict``."""

    task_name = "segment"

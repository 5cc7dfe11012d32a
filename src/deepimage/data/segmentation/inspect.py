"""A health report on segmentation data: images and sizes per split, the share of each
class's pixels, every bad file and what is worth knowing.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> mask = np.zeros((4, 5), np.uint8)
    >>> mask[:, :2] = 1
    >>> for i in range(4):
    ...     write_image(root / "images" / f"{i}.png", np.zeros((4, 5, 3), np.uint8))
    ...     write_image(root / "masks" / f"{i}.png", mask)
    >>> write_image(root / "masks" / "3.png", np.zeros((2, 2), np.uint8))  # wrong size
    >>> report = inspect_segmentation(root)
    >>> report["classes"], report["pixel_frequency"], report["issue_counts"]
    (['0', '1'], {'0': 0.6, '1': 0.4}, {'size_mismatch': 1})
    >>> {split: s["images"] for split, s in report["splits"].items()}
    {'train': 2, 'val': 1}
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepimage.data.segmentation.load import load_segmentation_data
from deepimage.io.images import DEFAULT_MAX_PIXELS
from deepimage.io.paths import shown_path

RARE = 0.01
"""Classes with less than this share of the (non-ignored) pixels are warned about."""


def inspect_segmentation(
    spec: str | os.PathLike[str],
    *,
    ignore_index: int | None = None,
    classes: Sequence[str] | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, Any]:
    """A JSON-ready health report on segmentation data; bad items are left out and named,
    never raised (the data is loaded with ``skip_bad``).

    Per split: images, width and height statistics, and each class's share of the split's
    non-ignored pixels; ``pixel_frequency`` the shares over all splits and
    ``ignored_fraction`` the share of all pixels ignored; ``encoding`` how mask values
    were read; ``issues`` (``[{path, kind, detail}]``: ``missing_mask``, ``bad_mask``,
    ``bad_image``, ``size_mismatch``, ``values_outside_classes``, ``colour_mask``, ...,
    and the informative ``orphan_mask`` and ``no_masks``) with their counts by kind;
    ``skipped`` (``[{path, reason}]``, the inputs a training with ``--skip-bad`` leaves
    out); ``warnings`` about rare classes (under 1% of the pixels) and classes missing
    from a split.
    """
    data = load_segmentation_data(
        spec,
        skip_bad=True,
        val_fraction=val_fraction,
        seed=seed,
        classes=classes,
        ignore_index=ignore_index,
        max_pixels=max_pixels,
    )
    count = len(data.classes)
    totals = np.zeros(count + 1, np.int64)
    splits, missing = {}, {}
    for split, items in data.splits.items():
        pixels = data.pixels[split].sum(axis=0)
        totals += pixels
        missing[split] = [name for name, n in zip(data.classes, pixels, strict=False) if n == 0]
        splits[split] = {
            "images": len(items),
            "width": _stats([item.width for item in items]),
            "height": _stats([item.height for item in items]),
            "pixels": _shares(pixels[:count], data.classes),
        }
    frequency = _shares(totals[:count], data.classes)
    encoding = data.encoding
    return {
        "task": "segmentation",
        "name": data.name,
        "format": data.format,
        "source": shown_path(data.root),
        "classes": data.classes,
        "ignore_index": ignore_index,
        "encoding": {
            "kind": encoding.kind,
            "classes": encoding.classes,
            "ignore": list(encoding.ignore),
            "colours": [list(c) for c in encoding.colours] if encoding.colours else None,
        },
        "splits": splits,
        "pixel_frequency": frequency,
        "ignored_fraction": round(float(totals[count] / max(totals.sum(), 1)), 6),
        "issues": data.issues,
        "issue_counts": dict(Counter(issue["kind"] for issue in data.issues)),
        "skipped": data.skipped,
        "warnings": _warnings(missing, frequency, data.skipped),
    }


def _shares(pixels: np.ndarray, classes: list[str]) -> dict[str, float]:
    total = max(int(pixels.sum()), 1)
    return {name: round(int(n) / total, 6) for name, n in zip(classes, pixels, strict=True)}


def _stats(values: list[int]) -> dict[str, int | float]:
    array = np.array(values)
    return {"min": int(array.min()), "max": int(array.max()), "mean": round(float(array.mean()), 2)}


def _warnings(
    missing: dict[str, list[str]], frequency: dict[str, float], skipped: list[dict[str, str]]
) -> list[str]:
    warnings = [
        f"class {name} has {share:.2%} of the pixels (under {RARE:.0%}): it will be hard to "
        "learn; weigh it in the loss or gather more of it"
        for name, share in frequency.items()
        if share < RARE
    ]
    for split, names in missing.items():
        if names:
            warnings.append(f"{split}: no pixels of class(es) {', '.join(names)}")
    if skipped:
        warnings.append(f"{len(skipped)} bad file(s) skipped (see skipped)")
    return warnings

"""A trained NumPy small-cnn as a ``deepimage classify`` checkpoint: the same layers and
parameter names, so the arrays are copied as they are. The only module of
:mod:`deepimage.scratch` that imports torch, and only when called.

Example (needs torch):
    >>> import tempfile, pathlib
    >>> from deepimage.scratch.models import build_model
    >>> net = build_model("small-cnn", num_classes=3, in_channels=1, img_size=12)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "model.ckpt"
    >>> meta = {"classes": ["a", "b", "c"], "mean": [0.5], "std": [0.25]}
    >>> export_torch(net, meta, out).name
    'model.ckpt'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deepimage.errors import DeepImageError
from deepimage.scratch.models import Sequential

EXPORTABLE = ("small-cnn",)


def export_torch(
    model: Sequential,
    meta: dict[str, Any],
    path: str | os.PathLike[str],
    data_card: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a classification checkpoint at ``path`` (atomically) that
    ``deepimage classify evaluate|predict`` and :class:`~deepimage.api.Classifier` load.
    ``meta`` holds ``classes``, ``mean`` and ``std``; ``data_card`` (data, seed,
    val_fraction) lets ``evaluate`` score the same split the NumPy run scored."""
    if model.name not in EXPORTABLE:
        raise DeepImageError(
            f"--export-torch: {model.name} has no twin among the classify models; only "
            f"{', '.join(EXPORTABLE)} can be exported."
        )
    import torch

    from deepimage.engine.checkpoints import AtomicCheckpointIO
    from deepimage.tasks.classification import ClassificationTask

    config = model.config
    task = ClassificationTask(
        model=model.name,
        classes=list(meta["classes"]),
        in_channels=config["in_channels"],
        img_size=config["img_size"],
        mean=list(meta["mean"]),
        std=list(meta["std"]),
    )
    state = {
        key: torch.from_numpy(value.astype("float32")) for key, value in model.state_dict().items()
    }
    task.net.load_state_dict(state)
    task.data_card = dict(data_card or {})
    checkpoint = {"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams)}
    task.on_save_checkpoint(checkpoint)
    AtomicCheckpointIO().save_checkpoint(checkpoint, path)
    return Path(path)

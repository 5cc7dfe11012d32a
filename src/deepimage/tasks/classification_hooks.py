"""The classification task's heavy half: data loading and splits, input conversion,
batched prediction, evaluation with its plots; predict's copies sorted by label are in
:mod:`deepimage.tasks.classification_outputs`.

Example:
    >>> HOOKS.module.task_name
    'classify'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.data.batches import to_chw_tensor
from deepimage.data.classification import ClassificationData, load_classification_data
from deepimage.data.model_input import input_for_model
from deepimage.data.module import BatchDataModule, batch_loader
from deepimage.errors import DeepImageError
from deepimage.tasks.classes import class_index
from deepimage.tasks.classification import ClassificationTask, LabelTask
from deepimage.tasks.classification_data import PreparedData, prepare_data
from deepimage.tasks.classification_metrics import classification_metrics
from deepimage.tasks.classification_outputs import check_outputs, write_outputs
from deepimage.tasks.classification_spec import ClassifyEvaluate, ClassifyTrain, LabelPredict
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.settings import engine_arguments
from deepimage.viz.plots import plot_confusion_matrix, plot_image_grid, write_confusion_csv


def prepare_training(settings: ClassifyTrain) -> Training:
    loaded = load_classification_data(
        settings.data,
        skip_bad=settings.skip_bad,
        seed=settings.seed,
        val_fraction=settings.val_fraction,
        workers=settings.workers,
        download=settings.download,
    )
    prepared = prepare_data(loaded, settings.model, settings.img_size)
    settings = replace(settings, img_size=prepared.img_size)  # config.yaml records the size used
    torch.manual_seed(settings.seed)
    module = ClassificationTask(
        model=settings.model,
        classes=prepared.classes,
        in_channels=prepared.channels,
        img_size=prepared.img_size,
        mean=prepared.mean,
        std=prepared.std,
        label_smoothing=settings.label_smoothing,
        augment=settings.augment,
        seed=settings.seed,
        **engine_arguments(settings),
    )
    data = BatchDataModule(
        prepared.train, prepared.val, settings.batch_size, settings.seed, settings.workers
    )
    scored = {name: EvalData(split, len(split)) for name, split in prepared.splits.items()}
    scored.pop("train")
    return Training(
        module,
        data,
        settings,
        scored,
        skipped=loaded.skipped,
        extras={"img_size": prepared.img_size, "train_images": len(prepared.train)},
    )


def load_split(module: ClassificationTask, settings: ClassifyEvaluate) -> EvalData:
    """The split as the model's run split it (seed and fraction from its checkpoint),
    labels matched to the model's classes by name."""
    hp, card = module.hparams, module.data_card
    loaded = load_classification_data(
        settings.data,
        skip_bad=settings.skip_bad,
        seed=card.get("seed", hp.seed),
        val_fraction=card.get("val_fraction"),
        download=settings.download,
    )
    return labelled_split(
        module, settings, loaded, lambda: prepare_data(loaded, hp.model, hp.img_size, hp)
    )


def labelled_split(
    module: Any,
    settings: Any,
    loaded: ClassificationData,
    prepare: Callable[[], PreparedData],
) -> EvalData:
    """``settings.split`` of ``loaded`` as ``prepare()`` makes it a batch dataset, its
    labels matched to ``module``'s classes by name (``settings.class_map`` maps others)."""
    if settings.split not in loaded.splits:
        raise DeepImageError(
            f"{settings.data} has no {settings.split!r} split; it has {', '.join(loaded.splits)}."
        )
    hp = module.hparams
    index = class_index(loaded.classes, hp.classes, settings.class_map, settings.data)
    dataset = prepare().splits[settings.split]
    dataset.labels = torch.as_tensor(index, dtype=torch.int64)[dataset.labels]
    return EvalData(dataset, len(dataset), loaded.skipped)


def score(
    module: LabelTask, data: EvalData, out_dir: Path, split: str, settings: Any
) -> dict[str, Any]:
    """Top-1/top-5, calibration, per-class figures; confusion matrix and mistakes plotted
    (images, or clips by their middle frames)."""
    probs, labels = _predict_dataset(module, data.items, settings.batch_size)
    figures = classification_metrics(probs, labels, module.hparams.classes)
    classes = module.hparams.classes
    out_dir.mkdir(parents=True, exist_ok=True)
    cm = figures.pop("confusion_matrix")
    plot_confusion_matrix(cm, classes, out_dir / f"confusion_{split}.png")
    write_confusion_csv(cm, classes, out_dir / f"confusion_{split}.csv")
    _plot_mistakes(data.items, probs, labels, classes, out_dir / f"misclassified_{split}.png")
    plots = [out_dir / f"{kind}_{split}.png" for kind in ("confusion", "misclassified")]
    return {
        "images": figures.pop("images"),
        "per_class": figures.pop("per_class"),
        "metrics": figures,
        "confusion_matrix": cm,
        "plots": [str(p) for p in plots if p.is_file()],  # no mistakes, no grid
    }


def load_input(module: ClassificationTask, item: Input) -> np.ndarray:
    """HxWxC uint8 at the model's size and channels."""
    return input_for_model(item, module.hparams.in_channels, module.hparams.img_size)


def predict_batch(
    module: LabelTask, images: list[np.ndarray], settings: LabelPredict
) -> list[dict[str, Any]]:
    """``{label, score, top: [{label, score}]}`` per image (HxWxC) or clip (TxHxWxC),
    best first."""
    classes = module.hparams.classes
    batch = to_chw_tensor(np.stack(images)).to(module.device)
    with torch.inference_mode():
        probs = module(batch).float().softmax(1).cpu()
    scores, indices = probs.topk(min(settings.top_k, len(classes)), dim=1)
    rows = []
    for row_scores, row_indices in zip(scores, indices, strict=True):
        top = [
            {"label": classes[int(i)], "score": round(float(s), 6)}
            for s, i in zip(row_scores, row_indices, strict=True)
        ]
        rows.append({"label": top[0]["label"], "score": top[0]["score"], "top": top})
    return rows


def _predict_dataset(
    module: LabelTask, dataset: Any, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    module.eval()
    probs, labels = [], []
    with torch.inference_mode():
        for images, targets in batch_loader(dataset, batch_size, shuffle=False):
            probs.append(module(images.to(module.device)).float().softmax(1).cpu())
            labels.append(targets)
    return torch.cat(probs), torch.cat(labels)


def _plot_mistakes(
    dataset: Any,
    probs: torch.Tensor,
    labels: torch.Tensor,
    classes: list[str],
    out: Path,
    count: int = 32,
) -> None:
    wrong = torch.nonzero(probs.argmax(1) != labels).flatten()[:count].tolist()
    if not wrong:
        return
    images, _ = dataset[wrong]
    pictures = [_picture(item) for item in images]
    titles = [f"{classes[int(probs[i].argmax())]} (true {classes[int(labels[i])]})" for i in wrong]
    plot_image_grid(pictures, titles, out)


def _picture(item: torch.Tensor) -> np.ndarray:
    """A C x H x W image, or a C x T x H x W clip's middle frame, as H x W x C."""
    if item.dim() == 4:
        item = item[:, item.shape[1] // 2]
    return item.permute(1, 2, 0).numpy()


HOOKS = TaskHooks(
    ClassificationTask,
    prepare_training,
    load_split,
    score,
    load_input,
    predict_batch,
    write_outputs=write_outputs,
    check_outputs=check_outputs,
)

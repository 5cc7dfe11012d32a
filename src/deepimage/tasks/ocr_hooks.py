"""The text-line task's heavy half: data loading and splits, input conversion, batched
reading, evaluation (exact match, character error rate, a grid of mistakes).

Example:
    >>> HOOKS.module.task_name
    'ocr'
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchmetrics.text import CharErrorRate

from deepimage.data.model_input import match_channels
from deepimage.data.module import BatchDataModule
from deepimage.data.ocr import TextLines, load_text_lines, scale_to_height
from deepimage.data.ocr_batches import LineBatches
from deepimage.errors import DeepImageError
from deepimage.io import read_image
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.ocr import OcrTask
from deepimage.tasks.ocr_spec import OcrEvaluate, OcrPredict, OcrTrain
from deepimage.tasks.settings import engine_arguments
from deepimage.viz.plots import plot_image_grid

MISTAKES_SHOWN = 24


def prepare_training(settings: OcrTrain) -> Training:
    loaded = load_text_lines(
        settings.data,
        height=settings.img_height,
        max_width=settings.max_width,
        skip_bad=settings.skip_bad,
        seed=settings.seed,
        val_fraction=settings.val_fraction or 0.0,
        alphabet=settings.alphabet,
    )
    train, val = loaded.splits["train"], loaded.splits.get("val")
    if not val:
        raise DeepImageError(
            f"{settings.data}: training needs validation lines; add a val/ folder or pass "
            "--val-fraction 0.1."
        )
    torch.manual_seed(settings.seed)
    module = OcrTask(
        settings.model,
        loaded.alphabet,
        img_height=settings.img_height,
        max_width=settings.max_width,
        seed=settings.seed,
        **engine_arguments(settings),
    )
    augment = settings.augment == "lines"
    data = BatchDataModule(
        LineBatches(train.images, train.texts, loaded.alphabet, augment, settings.seed),
        LineBatches(val.images, val.texts, loaded.alphabet),
        settings.batch_size,
        settings.seed,
        settings.workers,
        drop_last=True,
        with_epoch=True,
    )
    scored = {name: EvalData(lines, len(lines)) for name, lines in loaded.splits.items()}
    scored.pop("train")
    return Training(
        module,
        data,
        replace(settings, alphabet=loaded.alphabet),
        scored,
        skipped=loaded.skipped,
        extras={"alphabet": loaded.alphabet, "train_lines": len(train), "val_lines": len(val)},
    )


def load_split(module: OcrTask, settings: OcrEvaluate) -> EvalData:
    """The split as the model's run split it (seed and fraction from its checkpoint)."""
    hp, card = module.hparams, module.data_card
    loaded = load_text_lines(
        settings.data,
        height=hp.img_height,
        max_width=hp.max_width,
        skip_bad=settings.skip_bad,
        seed=card.get("seed", OcrTrain.seed),
        val_fraction=card.get("val_fraction", OcrTrain.val_fraction) or 0.0,
    )
    if settings.split not in loaded.splits:
        raise DeepImageError(
            f"{settings.data} has no {settings.split!r} split; it has {', '.join(loaded.splits)}."
        )
    lines = loaded.splits[settings.split]
    return EvalData(lines, len(lines), loaded.skipped)


def score(
    module: OcrTask, data: EvalData, out_dir: Path, split: str, settings: Any
) -> dict[str, Any]:
    """Exact-match accuracy and character error rate of the texts predict returns, and a
    grid of the lines read wrong."""
    lines: TextLines = data.items
    decoder = getattr(settings, "decoder", "greedy")
    read = _read_all(module, lines.images, settings.batch_size, decoder, settings)
    texts = [row["text"] for row in read]
    exact = [a == b for a, b in zip(texts, lines.texts, strict=True)]
    cer = CharErrorRate()(texts, lines.texts) if lines.texts else torch.tensor(0.0)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot = out_dir / f"mistakes_{split}.png"
    wrong = [i for i, right in enumerate(exact) if not right][:MISTAKES_SHOWN]
    if wrong:
        plot_image_grid(
            [lines.images[i] for i in wrong],
            [f"{texts[i]!r} (true {lines.texts[i]!r})" for i in wrong],
            plot,
            columns=4,
            cell_inches=2.4,
        )
    return {
        "images": len(lines),
        "metrics": {
            "exact_match": float(np.mean(exact)) if exact else 0.0,
            "cer": float(cer),
            "mean_confidence": float(np.mean([r["confidence"] for r in read])) if read else 0.0,
        },
        "per_class": [],
        "plots": [str(plot)] if wrong else [],
    }


def _read_all(
    module: OcrTask, images: list[np.ndarray], batch_size: int, decoder: str, settings: Any
) -> list[dict[str, Any]]:
    module.eval()
    beam_width = getattr(settings, "beam_width", 10)
    order = np.argsort([image.shape[1] for image in images], kind="stable")  # less padding
    rows: list[dict[str, Any]] = [{}] * len(images)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        for i, row in zip(batch, module.read([images[i] for i in batch], decoder, beam_width),
                          strict=True):  # fmt: skip
            rows[i] = row
    return rows


def load_input(module: OcrTask, item: Input) -> np.ndarray:
    """A grey uint8 line at the model's height."""
    hp = module.hparams
    if isinstance(item, Path):
        image = read_image(item, mode="gray")
    else:
        image = match_channels(item[None], 1)[0, ..., 0]
    return scale_to_height(image, hp.img_height, hp.max_width)


def predict_batch(
    module: OcrTask, lines: list[np.ndarray], settings: OcrPredict
) -> list[dict[str, Any]]:
    """``{text, confidence}`` per line: confidence is p(text | line) under the model."""
    return _read_all(module, lines, settings.batch_size, settings.decoder, settings)


HOOKS = TaskHooks(OcrTask, prepare_training, load_split, score, load_input, predict_batch)

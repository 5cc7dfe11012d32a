"""The segmentation task's heavy half: image + mask data and splits, normalisation and
class weights from the training set, whole or tiled inference at every image's own size,
evaluation of exactly the masks predict writes (confusion matrix, mIoU, per-class IoU and
Dice, an example grid), and mask PNGs with palettes plus colour overlays.

Example:
    >>> HOOKS.module.task_name
    'segment'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from deepimage.data.module import BatchDataModule, seeded_share
from deepimage.data.segmentation import (
    IGNORED,
    SegmentationData,
    SegmentationItem,
    load_segmentation_data,
)
from deepimage.data.segmentation_batches import SegmentationCrops, SegmentationImages, read_input
from deepimage.errors import DeepImageError
from deepimage.io import probe_image
from deepimage.io.files import check_writable_folder
from deepimage.io.outputs import output_paths
from deepimage.io.paths import shown_path
from deepimage.io.writing import write_image, write_indexed_png
from deepimage.models.segmentation import latency_ms
from deepimage.tasks.classes import class_index
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.segmentation import SegmentationTask
from deepimage.tasks.segmentation_metrics import confusion_metric, segmentation_metrics
from deepimage.tasks.segmentation_spec import SegmentEvaluate, SegmentPredict, SegmentTrain
from deepimage.tasks.settings import engine_arguments
from deepimage.viz.draw import class_palette, overlay_classes
from deepimage.viz.plots import plot_confusion_matrix, plot_image_grid, write_confusion_csv

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
STATISTICS_IMAGES = 64  # training images the normalisation is measured on
STATISTICS_PIXELS = 65536  # pixels of each, at most
EXAMPLES_SHOWN = 4
VAL_COST = 5
"""Training crops per crop-sized area validated, for validation to cost about a tenth of
an epoch (a float32 forward pass costs about half a mixed-precision training step)."""
EXAMPLE_SIDE = 480


@dataclass
class Split:
    """A split to score: its items, the data they come from, and the table that maps the
    data's mask values to the model's classes (None: the same)."""

    data: SegmentationData
    items: list[SegmentationItem]
    lookup: np.ndarray | None = None

    def truth(self, item: SegmentationItem) -> np.ndarray:
        mask = self.data.read_mask(item)
        return mask if self.lookup is None else self.lookup[mask]


def prepare_training(settings: SegmentTrain) -> Training:
    loaded = load_segmentation_data(
        settings.data,
        skip_bad=settings.skip_bad,
        val_fraction=settings.val_fraction or 0.0,
        seed=settings.seed,
        classes=settings.classes,
        ignore_index=settings.ignore_index,
    )
    train, val = loaded.splits.get("train", []), loaded.splits.get("val", [])
    if not train or not val:
        raise DeepImageError(
            f"{settings.data}: training needs a 'train' and a 'val' split; found "
            f"{', '.join(f'{k} {len(v)}' for k, v in loaded.splits.items())}. "
            "Pass --val-fraction 0.2 to hold out a seeded fifth of the images."
        )
    train = seeded_share(
        train, settings.fraction, settings.seed
    )  # of images: crops are not one per image
    channels = _channels(train)
    mean, std = _statistics(train, channels, settings.pretrained)
    weights = _class_weights(settings.class_weights, loaded)
    torch.manual_seed(settings.seed)
    module = SegmentationTask(
        settings.model,
        list(loaded.classes),
        in_channels=channels,
        mean=mean,
        std=std,
        img_size=settings.img_size,
        tile=settings.tile,
        loss=settings.loss,
        class_weights=weights,
        colours=[list(c) for c in loaded.colours] if loaded.colours else None,
        ignore_index=settings.ignore_index,
        seed=settings.seed,
        **engine_arguments(settings),
    )
    crops = SegmentationCrops(
        train,
        loaded,
        channels,
        settings.crop,
        settings.img_size,
        settings.augment,
        settings.seed,
        length=epoch_length(val, settings.crop, settings.img_size),
    )
    data = BatchDataModule(
        crops,
        SegmentationImages(val, loaded, channels),
        settings.batch_size,
        settings.seed,
        settings.workers,
        drop_last=True,  # (the sampler keeps a lone short batch)
        with_epoch=True,
    )
    scored = {name: Split(loaded, items) for name, items in loaded.splits.items()}
    scored.pop("train")
    return Training(
        module,
        data,
        replace(settings, classes=list(loaded.classes)),
        {name: EvalData(split, len(split.items)) for name, split in scored.items()},
        skipped=loaded.skipped,
        extras={
            "classes": loaded.classes,
            "channels": channels,
            "class_weights": weights,
            "train_images": len(train),
            "val_images": len(val),
            "fraction": settings.fraction,
        },
    )


def epoch_length(val: list[SegmentationItem], crop: int, img_size: int | None) -> int:
    """Training crops per epoch so that validating (every val image whole, in float32)
    takes about a tenth of an epoch: :data:`VAL_COST` crops' worth of pixels per val
    pixel. Data sets with more training images than that keep one crop per image.

    Example:
        >>> from deepimage.data.segmentation import SegmentationItem
        >>> epoch_length([SegmentationItem(Path("a.png"), None, 512, 512)] * 6, 256, None)
        120
    """
    pixels = 0.0
    for item in val:
        scale = 1.0 if img_size is None else img_size / max(item.width, item.height)
        pixels += item.width * item.height * scale**2
    return int(np.ceil(VAL_COST * pixels / crop**2))


def _channels(items: list[SegmentationItem]) -> int:
    """1 when every image (of the first 50) is grey, else 3."""
    grey = all(probe_image(item.image).channels == 1 for item in items[:50])
    return 1 if grey else 3


def _statistics(
    items: list[SegmentationItem], channels: int, pretrained: bool
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the first training images (ImageNet's when pretrained)."""
    if pretrained:
        mean, std = list(IMAGENET_MEAN), list(IMAGENET_STD)
        return (mean, std) if channels == 3 else ([float(np.mean(mean))], [float(np.mean(std))])
    samples = []
    for item in items[:STATISTICS_IMAGES]:
        pixels = read_input(item.image, channels).reshape(-1, channels)
        samples.append(pixels[:: max(1, len(pixels) // STATISTICS_PIXELS)])
    pixels = np.concatenate(samples) / 255.0
    return pixels.mean(0).round(6).tolist(), np.maximum(pixels.std(0), 1e-3).round(6).tolist()


def _class_weights(given: str, data: SegmentationData) -> list[float] | None:
    """None, median frequency balancing (SegNet's: the median of the class frequencies over
    each class's frequency, a frequency counted on the images holding the class, capped at
    10), or the numbers given."""
    count = len(data.classes)
    if given == "none":
        return None
    if given != "balanced":
        try:
            weights = [float(value) for value in given.split(",")]
        except ValueError:
            weights = []
        if len(weights) != count or not all(np.isfinite(w) and w >= 0 for w in weights):
            raise DeepImageError(
                f"--class-weights {given!r}: give none, balanced, or {count} numbers (0 or "
                f"more) separated by commas, one per class ({', '.join(data.classes)})."
            )
        return weights
    counts = data.pixels["train"][:, :count].astype(np.float64)  # items x classes
    pixels = counts.sum(0)
    seen = ((counts > 0) * counts.sum(1, keepdims=True)).sum(0)
    frequency = np.where(seen > 0, pixels / np.maximum(seen, 1), np.nan)
    weights = np.nanmedian(frequency) / frequency
    return np.nan_to_num(np.minimum(weights, 10.0), nan=1.0).round(4).tolist()


def load_split(module: SegmentationTask, settings: SegmentEvaluate) -> EvalData:
    """The split as the model's run split it, masks read with the run's ignore value (or
    ``--ignore-index``), mask values matched to the model's classes by name."""
    card, hp = module.data_card, module.hparams
    loaded = load_segmentation_data(
        settings.data,
        skip_bad=settings.skip_bad,
        val_fraction=card.get("val_fraction", SegmentTrain.val_fraction),
        seed=card.get("seed", SegmentTrain.seed),
        classes=None if settings.class_map else list(hp.classes),
        ignore_index=settings.ignore_index
        if settings.ignore_index is not None
        else hp.ignore_index,
    )
    if settings.split == "all":
        items = [item for part in loaded.splits.values() for item in part]
    elif settings.split in loaded.splits:
        items = list(loaded.splits[settings.split])
    else:
        raise DeepImageError(
            f"{settings.data} has no {settings.split!r} split; it has "
            f"{', '.join(loaded.splits)} (or use 'all')."
        )
    lookup = None
    if settings.class_map:
        index = class_index(loaded.classes, list(hp.classes), settings.class_map, settings.data)
        lookup = np.full(256, IGNORED, np.uint8)
        lookup[: len(index)] = index
    return EvalData(Split(loaded, items, lookup), len(items), loaded.skipped)


def score(
    module: SegmentationTask, data: EvalData, out_dir: Path, split: str, settings: Any
) -> dict[str, Any]:
    """mIoU, pixel accuracy and per-class IoU and Dice of the masks predict would write
    (same tiles, same flips), with a confusion matrix and a grid of examples."""
    scored: Split = data.items
    tile = getattr(settings, "tile", None) or module.hparams.tile
    tta = bool(getattr(settings, "tta", False))
    confusion = confusion_metric(len(module.hparams.classes))
    examples = []
    module.eval()
    for item in scored.items:
        image = read_input(item.image, module.hparams.in_channels)
        truth = scored.truth(item)
        predicted = module.segment(image, tile, tta, settings.batch_size).cpu()
        confusion.update(predicted.long(), torch.from_numpy(truth))
        if len(examples) < EXAMPLES_SHOWN:
            examples.append((item, image, truth, predicted.numpy()))
    matrix = confusion.compute()
    metrics, per_class = segmentation_metrics(matrix, module.hparams.classes)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = list(module.hparams.classes)
    plot = out_dir / f"confusion_{split}.png"
    plot_confusion_matrix(matrix.tolist(), classes, plot, normalise=True)
    table = out_dir / f"confusion_{split}.csv"
    write_confusion_csv(matrix.tolist(), classes, table)
    grid = out_dir / f"examples_{split}.png"
    _plot_examples(module, examples, grid)
    return {
        "images": len(scored.items),
        "metrics": metrics,
        "per_class": per_class,
        "tile": tile,
        "tta": tta,
        "plots": [str(plot), str(grid), str(table)],
    }


def _plot_examples(module: SegmentationTask, examples: list[Any], out: Path) -> None:
    """Rows of image | truth | prediction (ignored truth pixels in white)."""
    palette = _palette(module)
    with_white = np.concatenate([palette, np.full((256 - len(palette), 3), 255, np.uint8)])
    pictures, titles = [], []
    for item, image, truth, predicted in examples:
        shrink = max(1, int(np.ceil(max(image.shape[:2]) / EXAMPLE_SIDE)))
        pictures += [image[::shrink, ::shrink], with_white[truth[::shrink, ::shrink]]]
        pictures.append(palette[predicted[::shrink, ::shrink]])
        titles += [Path(item.image).name, "truth", "prediction"]
    plot_image_grid(pictures, titles, out, columns=3, cell_inches=3.0)


def load_input(module: SegmentationTask, item: Input) -> np.ndarray:
    """The image as the model's channels take it (uint8 grey HxW or RGB HxWx3)."""
    channels = module.hparams.in_channels
    if isinstance(item, Path):
        return read_input(item, channels)
    image = item.reshape(*item.shape[:2], -1)
    if image.shape[2] == channels:
        return image[..., 0] if channels == 1 else image
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.repeat(image, 3, axis=2)


def predict_batch(
    module: SegmentationTask, loaded: list[np.ndarray], settings: SegmentPredict
) -> list[dict[str, Any]]:
    """``{width, height, areas: [{class, pixels, fraction}], mask}`` per image: ``mask`` is
    the H x W uint8 class array at the image's size (the API's; JSON leaves it out, and
    ``-o`` writes it as a palette PNG); ``areas`` lists the classes found, largest first."""
    module.eval()
    classes = module.hparams.classes
    rows = []
    for image in loaded:
        mask = module.segment(image, settings.tile, settings.tta, settings.batch_size).cpu().numpy()
        counts = np.bincount(mask.ravel(), minlength=len(classes))
        order = np.argsort(-counts, kind="stable")
        areas = [
            {
                "class": classes[i],
                "pixels": int(counts[i]),
                "fraction": round(counts[i] / mask.size, 6),
            }
            for i in order
            if counts[i]
        ]
        rows.append({"width": mask.shape[1], "height": mask.shape[0], "areas": areas, "mask": mask})
    return rows


def write_outputs(
    module: SegmentationTask, rows: list[dict[str, Any]], settings: SegmentPredict
) -> str | None:
    """Each file's mask as ``-o/<name>.png`` (class indices, the model's palette) and its
    overlay as ``-o/overlays/<name>.jpg``, planned as :func:`check_outputs` checked; each
    row gains ``mask_file`` and ``overlay_file``."""
    if not settings.out:
        return None
    files = [Path(row["path"]) for row in rows if row["path"] is not None]
    masks, overlays = _output_plans(files, settings)
    for row in rows:
        if row["path"] is None:
            continue
        path = Path(row["path"])
        write_indexed_png(masks[path], row["mask"], _palette(module))
        write_image(
            overlays[path], annotate(module, read_input(path, 3), row, settings), quality=90
        )
        row["mask_file"], row["overlay_file"] = shown_path(masks[path]), shown_path(overlays[path])
    return settings.out


def annotate(
    module: SegmentationTask, image: np.ndarray, row: dict[str, Any], settings: SegmentPredict
) -> np.ndarray:
    """``image`` (RGB) with the row's mask laid over it at ``--alpha``, classes named."""
    names = list(module.hparams.classes)
    background = names.index("background") if "background" in names else None
    return overlay_classes(image, row["mask"], _palette(module), names, settings.alpha, background)


def check_outputs(files: list[Path], settings: SegmentPredict) -> None:
    """Refuse, before any image is predicted, what :func:`write_outputs` would: a folder
    that cannot be written, files already there (unless ``settings.overwrite``)."""
    if settings.out:
        check_writable_folder(settings.out)
        _output_plans(files, settings)


def _output_plans(
    files: list[Path], settings: SegmentPredict
) -> tuple[dict[Path, Path], dict[Path, Path]]:
    existing = "overwrite" if settings.overwrite else "refuse"
    pairs = [(path.parent, path) for path in files]
    masks = output_paths(pairs, settings.out, suffix=".png", existing=existing)
    overlays = output_paths(
        pairs, Path(settings.out) / "overlays", suffix=".jpg", existing=existing
    )
    return masks, overlays


def _palette(module: SegmentationTask) -> np.ndarray:
    return class_palette(len(module.hparams.classes), module.hparams.colours)


def _latency(name: str, device: str) -> float:
    return latency_ms(name, device=device)


HOOKS = TaskHooks(
    SegmentationTask,
    prepare_training,
    load_split,
    score,
    load_input,
    predict_batch,
    write_outputs=write_outputs,
    check_outputs=check_outputs,
    model_latency=_latency,
    annotate=annotate,
)

"""The detection task's heavy half: COCO / VOC / YOLO data and splits, letterboxed inputs,
detections in original-image pixels, COCO evaluation (of exactly what predict returns at
the same ``conf``) with its plots (precision-recall; precision, recall and F1 against
confidence; a confusion matrix with a background class; the true boxes' classes, places and
sizes; examples, truths and detections side by side), annotated copies.

Example:
    >>> HOOKS.module.task_name
    'detect'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.data.detection import DetectionItem, load_detection_data
from deepimage.data.detection_batches import DetectionBatches, letterbox, shrink
from deepimage.data.module import BatchDataModule
from deepimage.errors import DeepImageError
from deepimage.io import read_image, write_image
from deepimage.io.files import check_writable_folder
from deepimage.io.outputs import output_paths
from deepimage.models.detection import latency_ms
from deepimage.tasks.classes import class_index
from deepimage.tasks.detection import DetectionTask, original_detections
from deepimage.tasks.detection_metrics import (
    ALL_CLASSES,
    ConfidenceCurves,
    GroundTruth,
    Prediction,
    coco_metrics,
    confidence_curves,
    detection_confusion,
)
from deepimage.tasks.detection_outputs import (
    check_saved,
    save_detections,
    saved_names,
    write_classes,
)
from deepimage.tasks.detection_spec import DetectEvaluate, DetectPredict, DetectTrain
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.predict import run_predict
from deepimage.tasks.settings import engine_arguments
from deepimage.viz.draw import draw_boxes
from deepimage.viz.plots import (
    plot_box_labels,
    plot_confidence_curve,
    plot_confusion_matrix,
    plot_image_grid,
    plot_precision_recall,
)

EXAMPLES_SHOWN = 8
EXAMPLE_SIDE = 480  # longest side of an image in the example grid


def prepare_training(settings: DetectTrain) -> Training:
    loaded = load_detection_data(
        settings.data,
        skip_bad=settings.skip_bad,
        val_fraction=settings.val_fraction or 0.0,
        seed=settings.seed,
        classes=settings.classes,
    )
    train, val = loaded.splits.get("train", []), loaded.splits.get("val", [])
    if not train or not val:
        raise DeepImageError(
            f"{settings.data}: training needs a 'train' and a 'val' split; found "
            f"{', '.join(f'{k} {len(v)}' for k, v in loaded.splits.items())}. "
            "Pass --val-fraction 0.2 to hold out a seeded fifth of the images."
        )
    torch.manual_seed(settings.seed)
    module = DetectionTask(
        settings.model,
        loaded.classes,
        img_size=settings.img_size,
        **engine_arguments(settings),
    )
    data = BatchDataModule(
        DetectionBatches(train, settings.img_size, settings.augment, settings.seed),
        DetectionBatches(val, settings.img_size),
        settings.batch_size,
        settings.seed,
        settings.workers,
        drop_last=True,  # a batch of one breaks BatchNorm in training
        with_epoch=True,
    )
    return Training(
        module,
        data,
        replace(settings, classes=list(loaded.classes)),
        {"val": EvalData(val, len(val))},
        skipped=loaded.skipped,
        extras={
            "classes": loaded.classes,
            "train_images": len(train),
            "val_images": len(val),
            "issues": loaded.issues,
        },
    )


def load_split(module: DetectionTask, settings: DetectEvaluate) -> EvalData:
    """The split as the model's run split it; labels matched to the model's classes by name."""
    card = module.data_card
    classes = module.hparams.classes
    loaded = load_detection_data(
        settings.data,
        skip_bad=settings.skip_bad,
        val_fraction=card.get("val_fraction", DetectTrain.val_fraction),
        seed=card.get("seed", DetectTrain.seed),
        classes=None if settings.class_map else classes,
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
    index = np.array(class_index(loaded.classes, classes, settings.class_map, settings.data))
    items = [replace(item, labels=index[item.labels]) for item in items]
    return EvalData(items, len(items), loaded.skipped)


def score(
    module: DetectionTask, data: EvalData, out_dir: Path, split: str, settings: Any
) -> dict[str, Any]:
    """The 12 COCO numbers, the best F1 (with its confidence, precision and recall) and AP
    per class of what predict returns, with the plots of :func:`_write_plots`."""
    items = data.items
    conf = getattr(settings, "conf", module.hparams.conf)
    iou = getattr(settings, "iou", module.hparams.iou)
    predict = DetectPredict(
        batch_size=settings.batch_size, device=settings.device, conf=conf, iou=iou
    )
    results = run_predict(HOOKS, module, [Path(item.image) for item in items], predict)
    classes = module.hparams.classes
    truths, predictions = scored_boxes(items, results, classes)
    metrics = coco_metrics(truths, predictions, classes)
    pr_curves, per_class = metrics.pop("pr_curves"), metrics.pop("per_class")
    curves = confidence_curves(truths, predictions, classes)
    confusion = detection_confusion(truths, predictions, len(classes), settings.draw_conf)
    scores = _Scores(items, results, pr_curves, curves, confusion, settings.draw_conf)
    return {
        "images": len(items),
        "metrics": {**metrics, **curves.best()},
        "per_class": [{"class": name, "ap": value} for name, value in per_class.items()],
        "conf": conf,
        "iou": iou,
        "draw_conf": settings.draw_conf,
        "plots": [str(path) for path in _write_plots(module, scores, out_dir, split)],
    }


def scored_boxes(
    items: Sequence[DetectionItem], results: list[dict[str, Any]], classes: list[str]
) -> tuple[list[GroundTruth], list[Prediction]]:
    """The true boxes of ``items`` and predict's ``results`` for them, image ids from 1 and
    1-based labels, as :mod:`~deepimage.tasks.detection_metrics` takes them.

    Example:
        >>> box, label = np.array([[1.0, 2, 30, 40]]), np.array([0])
        >>> item = DetectionItem(Path("a.jpg"), 100, 80, box, label)
        >>> found = {"detections": [{"box": [1, 2, 30, 41], "label": "cat", "score": 0.9}]}
        >>> truths, predictions = scored_boxes([item], [found], ["cat"])
        >>> truths[0].labels.tolist(), predictions[0].labels.tolist(), predictions[0].scores
        ([1], [1], array([0.9]))
    """
    index = {name: i + 1 for i, name in enumerate(classes)}
    truths, predictions = [], []
    for image_id, (item, result) in enumerate(zip(items, results, strict=True), start=1):
        truths.append(GroundTruth(image_id, item.width, item.height, item.boxes, item.labels + 1))
        found = result["detections"]
        predictions.append(
            Prediction(
                image_id,
                np.array([d["box"] for d in found], np.float64).reshape(-1, 4),
                np.array([d["score"] for d in found], np.float64),
                np.array([index[d["label"]] for d in found], np.int64),
            )
        )
    return truths, predictions


@dataclass
class _Scores:
    """What :func:`score` found, for :func:`_write_plots`: the items and predict's rows for
    them, COCO's precision-recall curves, the P, R and F1 curves against confidence and the
    confusion matrix of the detections scoring at least ``draw_conf``."""

    items: Sequence[DetectionItem]
    results: list[dict[str, Any]]
    pr_curves: dict[str, list[float]]
    curves: ConfidenceCurves
    confusion: np.ndarray
    draw_conf: float


PLOTS = ("precision_recall", "p_curve", "r_curve", "f1_curve", "confusion_matrix", "labels")
"""The plots of an evaluation besides the examples, each ``<name>_<split>.png``."""


def _write_plots(module: DetectionTask, scores: _Scores, out_dir: Path, split: str) -> list[Path]:
    """Write the :data:`PLOTS` and ``examples_<split>.png`` (:func:`_plot_examples`) into
    ``out_dir``; their absolute paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir.absolute() / f"{name}_{split}.png" for name in (*PLOTS, "examples")}
    classes = module.hparams.classes
    plot_precision_recall(scores.pr_curves, paths["precision_recall"])
    curves = scores.curves
    marked = curves.best()["f1_conf"]
    for name, figure, values in (
        ("p_curve", "precision", curves.precision),
        ("r_curve", "recall", curves.recall),
        ("f1_curve", "F1", curves.f1),
    ):
        overall = values.get(ALL_CLASSES, np.zeros_like(curves.confidence))
        per_class = {key: value for key, value in values.items() if key != ALL_CLASSES}
        plot_confidence_curve(curves.confidence, per_class, overall, figure, paths[name], marked)
    title = f"detections scoring at least {scores.draw_conf:g}, matched at IoU 0.5"
    plot_confusion_matrix(
        scores.confusion, [*classes, "background"], paths["confusion_matrix"], title=title
    )
    _plot_labels(classes, scores.items, paths["labels"])
    _plot_examples(
        module, scores.items[:EXAMPLES_SHOWN], scores.results, paths["examples"], scores.draw_conf
    )
    return list(paths.values())


def load_input(module: DetectionTask, item: Input) -> tuple[np.ndarray, Any, tuple[int, int]]:
    """(letterboxed RGB square, scale, original (width, height))."""
    image = read_image(item, mode="rgb") if isinstance(item, Path) else _rgb(item)
    boxed, scale = letterbox(image, module.hparams.img_size)
    return boxed, scale, (image.shape[1], image.shape[0])


def predict_batch(
    module: DetectionTask, loaded: list[Any], settings: DetectPredict
) -> list[dict[str, Any]]:
    """``{detections: [{box: [x1, y1, x2, y2], label, score}]}`` per image, boxes in the
    original image's pixels, each with an area there (see :func:`original_detections`)."""
    names = module.hparams.classes
    wanted = _class_filter(settings.classes, names)
    module.set_thresholds(settings.conf, settings.iou)
    batch = torch.from_numpy(np.stack([boxed for boxed, _, _ in loaded]))
    outputs = module.predict_batch(batch.permute(0, 3, 1, 2))
    rows = []
    for (_, scale, size), output in zip(loaded, outputs, strict=True):
        boxes, scores, labels = original_detections(output, scale, size)
        detections = [
            {
                "box": [float(v) for v in box],
                "label": names[int(label) - 1],
                "score": round(float(value), 6),
            }
            for box, label, value in zip(boxes, labels, scores, strict=True)
            if wanted is None or int(label) in wanted
        ]
        rows.append({"detections": detections})
    return rows


def write_outputs(
    module: DetectionTask, rows: list[dict[str, Any]], settings: DetectPredict
) -> str | None:
    """Annotated copies of the predicted files in ``settings.out`` (planned by
    :func:`~deepimage.io.outputs.output_paths`: an input is never overwritten, same names
    are numbered, a file already there is refused before anything is written unless
    ``settings.overwrite``, and formats that cannot be written, GIF or PPM, become PNG);
    the folder, or None. With ``--save-txt`` / ``--save-crops``, YOLO label files and
    cropped detections too (:mod:`~deepimage.tasks.detection_outputs`)."""
    if not settings.out:
        return None
    files = [Path(row["path"]) for row in rows if row["path"] is not None]
    plan, saved = _output_plan(files, settings), saved_names(files, settings)
    classes = module.hparams.classes
    for row in rows:
        if row["path"] is not None:
            image = read_image(row["path"], mode="rgb")
            write_image(plan[Path(row["path"])], annotate(module, image, row, settings))
            if Path(row["path"]) in saved:
                save_detections(classes, image, row, saved[Path(row["path"])], settings)
    write_classes(classes, settings)
    return settings.out


def annotate(
    module: DetectionTask, image: np.ndarray, row: dict[str, Any], settings: DetectPredict
) -> np.ndarray:
    """``image`` with the row's detections scoring at least ``--draw-conf`` drawn."""
    found = [d for d in row["detections"] if d["score"] >= settings.draw_conf]
    return _draw(module, image, found)


def check_outputs(files: list[Path], settings: DetectPredict) -> None:
    """Refuse, before any image is predicted, what :func:`write_outputs` would refuse: a
    folder that cannot be written, a file already there (unless ``settings.overwrite``)."""
    if settings.out:
        check_writable_folder(settings.out)
        _output_plan(files, settings)
        check_saved(files, settings)


def _output_plan(files: list[Path], settings: DetectPredict) -> dict[Path, Path]:
    return output_paths(
        [(path.parent, path) for path in files],
        settings.out,
        writable=True,
        existing="overwrite" if settings.overwrite else "refuse",
    )


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return image if image.shape[2] == 3 else np.repeat(image, 3, axis=2)


def _class_filter(wanted: Sequence[str] | None, names: list[str]) -> set[int] | None:
    """1-based indices of the wanted class names; None keeps every class."""
    if not wanted:
        return None
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise DeepImageError(f"unknown class {unknown[0]!r}: this model knows {', '.join(names)}.")
    return {names.index(name) + 1 for name in wanted}


def _draw(
    module: DetectionTask,
    image: np.ndarray,
    detections: list[dict],
    scale: float | np.ndarray = 1.0,
) -> np.ndarray:
    """``image`` with ``detections`` (boxes times ``scale``) labelled in class colours."""
    classes = module.hparams.classes
    labels = [f"{d['label']} {d['score']:.2f}" for d in detections]
    keys = [classes.index(d["label"]) for d in detections]
    boxes = np.array([d["box"] for d in detections], np.float64).reshape(-1, 4) * scale
    return draw_boxes(image, boxes, labels, colour_keys=keys)


def _plot_labels(classes: list[str], items: Sequence[DetectionItem], out: Path) -> None:
    """The split's true boxes: per class, where and how big (:func:`plot_box_labels`)."""
    boxes = np.concatenate([item.boxes for item in items] or [np.zeros((0, 4))])
    labels = np.concatenate([item.labels for item in items] or [np.zeros(0, np.int64)])
    sizes = np.array([(i.width, i.height) for i in items for _ in range(len(i.boxes))])
    plot_box_labels(classes, labels, boxes, sizes.reshape(-1, 2), out)


def example_panels(
    module: DetectionTask, item: DetectionItem, result: dict[str, Any], draw_conf: float
) -> tuple[list[np.ndarray], list[str]]:
    """One image twice, shrunk to at most ``EXAMPLE_SIDE`` pixels, with titles: its true
    boxes named in class colours, and the detections scoring at least ``draw_conf`` (the
    others are counted in the title, never drawn).

    Example:
        >>> import tempfile
        >>> photo = Path(tempfile.mkdtemp()) / "grey.png"
        >>> write_image(photo, np.full((60, 80, 3), 128, np.uint8))
        >>> item = DetectionItem(photo, 80, 60, np.array([[5.0, 5, 30, 30]]), np.array([0]))
        >>> weak = {"box": [40, 5, 70, 50], "label": "cat", "score": 0.1}
        >>> module = DetectionTask("ssdlite320_mobilenet_v3_large", ["cat"], img_size=64)
        >>> (truth, found), titles = example_panels(module, item, {"detections": [weak]}, 0.25)
        >>> bool((truth != 128).any()), bool((found != 128).any())
        (True, False)
        >>> titles[1]
        '0 found scoring at least 0.25\\n(1 in the metrics)'
    """
    image = read_image(item.image, mode="rgb")
    scale = np.ones(4)
    if max(image.shape[:2]) > EXAMPLE_SIDE:
        image, (x_scale, y_scale) = shrink(image, EXAMPLE_SIDE)
        scale = np.array([x_scale, y_scale, x_scale, y_scale])
    names = [module.hparams.classes[label] for label in item.labels]
    truth = draw_boxes(image, item.boxes * scale, names, colour_keys=item.labels)
    found = [d for d in result["detections"] if d["score"] >= draw_conf]
    titles = [
        f"{Path(item.image).name}\ntrue boxes: {len(item.boxes)}",
        f"{len(found)} found scoring at least {draw_conf:g}\n"
        f"({len(result['detections'])} in the metrics)",
    ]
    return [truth, _draw(module, image, found, scale)], titles


def _plot_examples(
    module: DetectionTask,
    items: Sequence[DetectionItem],
    results: list[dict],
    out: Path,
    draw_conf: float,
) -> None:
    """A grid of ``items``, two panels each (:func:`example_panels`): the true boxes, then
    the detections scoring at least ``draw_conf``; two images a row."""
    pictures, titles = [], []
    for item, result in zip(items, results, strict=False):
        shown, named = example_panels(module, item, result, draw_conf)
        pictures += shown
        titles += named
    plot_image_grid(pictures, titles, out, columns=min(4, len(pictures)), cell_inches=3.0)


def _latency(name: str, device: str) -> float:
    return latency_ms(name, device=device)


HOOKS = TaskHooks(
    DetectionTask,
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

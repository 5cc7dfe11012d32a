"""``deepimage detect``: object detection (models, train, evaluate, predict, convert)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from deepimage.cli.output import (
    DEVICE,
    DEVICES,
    JSON,
    QUIET,
    console,
    emit,
    files_table,
    plot_lines,
    print_models,
    print_skipped,
)
from deepimage.data.detection import Format, convert
from deepimage.errors import DeepImageError

app = typer.Typer(
    help="Object detection: two-stage (Faster R-CNN) and one-stage (RetinaNet, FCOS, SSD) "
    "detectors on COCO, Pascal VOC or YOLO data.",
    no_args_is_help=True,
)

MODEL_FILE = typer.Option(..., "--model", "-m", help="A .ckpt file or a run folder.")
CONF = typer.Option(
    0.05,
    "--conf",
    min=0.0,
    max=1.0,
    help="Score threshold. 0.05 (torchvision's default) in predict and evaluate alike, so "
    "predict's JSON reproduces evaluate's numbers.",
)
IOU = typer.Option(0.5, "--iou", min=0.0, max=1.0, help="IoU of non-maximum suppression.")
BATCH = typer.Option(8, "--batch-size", "-b", min=1, help="Images per batch.")
SKIP_BAD = typer.Option(
    False, "--skip-bad", help="Skip broken images or annotations (listed) instead of failing."
)


@app.command("models")
def models(
    speed: bool = typer.Option(
        True, "--speed/--no-speed", help="Time one 320 px image through each model, here."
    ),
    device: str = DEVICE,
    as_json: bool = JSON,
) -> None:
    """List the detection models (torchvision's builder names) with their sizes and speed."""
    from deepimage.models.detection import latency_ms

    timing = (lambda name: latency_ms(name, device=device)) if speed else None
    print_models("detect", {"num_classes": 20}, as_json, timing)


@app.command("convert")
def convert_command(
    source: str = typer.Argument(
        ..., help="Detection data (COCO, VOC or YOLO folder, COCO JSON file, or data set name)."
    ),
    out: Path = typer.Argument(..., help="New (or empty) output folder."),
    to: Format = typer.Option(..., "--to", help="Output format."),
    val_split: float = typer.Option(
        0.2, "--val-split", help="Fraction held out as 'val' when the data has no split."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of that split."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip broken items (listed in the report) instead of failing."
    ),
    as_json: bool = JSON,
) -> None:
    """Convert detection data between COCO, Pascal VOC and YOLO (inputs are never modified)."""
    result = convert(source, out, to, val_split=val_split, seed=seed, skip_bad=skip_bad)
    for issue in result["issues"]:
        console.print(f"  {issue['kind']}: {issue['path']}: {issue['detail']}", highlight=False)
    splits = ", ".join(f"{split} {count}" for split, count in result["splits"].items())
    emit(
        result,
        as_json,
        f"{result['from']} -> {to}: {splits} images, {result['boxes']} boxes, "
        f"{len(result['issues'])} issue(s) -> {result['out']}",
    )


@app.command("train")
def train(
    data: str = typer.Option(
        "", "--data", "-d", help="COCO, VOC or YOLO folder, COCO JSON file, or data set name."
    ),
    model: str = typer.Option(
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "--model",
        "-m",
        help="torchvision builder name (see `deepimage detect models`).",
    ),
    epochs: int = typer.Option(300, "--epochs", "-e", min=1, help="Most epochs to train."),
    img_size: int = typer.Option(
        320, "--img-size", min=32, help="Side of the square the images are letterboxed into."
    ),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=2),
    time_minutes: float | None = typer.Option(
        None, "--time", help="Stop after this many minutes (the schedule fits itself to it)."
    ),
    lr: float = typer.Option(2e-3, "--lr", help="Peak AdamW learning rate."),
    weight_decay: float = typer.Option(0.05, "--weight-decay"),
    warmup_steps: int = typer.Option(100, "--warmup", min=0, help="Linear warm-up steps."),
    augment: str = typer.Option(
        "detect", "--augment", help="Augmentation preset (detect, none) for training."
    ),
    val_split: float = typer.Option(
        0.2, "--val-split", min=0.0, max=0.9, help="Held out as 'val' when the data has no split."
    ),
    classes: list[str] | None = typer.Option(
        None,
        "--classes",
        help="The class names, in order (repeat the option); boxes of other classes are "
        "errors. Default: the data's own list (COCO categories, YOLO/VOC classes.txt) or "
        "the names found.",
    ),
    pretrained: bool = typer.Option(
        False, "--pretrained", help="Start the backbone from torchvision's weights (internet)."
    ),
    weights: Path | None = typer.Option(
        None, "--weights", help="Start from a state dict or checkpoint file."
    ),
    name: str | None = typer.Option(None, "--name", help="Run name (default: the model name)."),
    runs_root: str = typer.Option("runs", "--runs", help="Folder that holds run folders."),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue the run in this run folder."
    ),
    seed: int = typer.Option(0, "--seed"),
    device: str = DEVICE,
    devices: int = DEVICES,
    workers: int = typer.Option(0, "--workers", min=0, help="Data loading processes."),
    patience: int | None = typer.Option(
        None, "--patience", help="Stop after this many epochs without a better map50."
    ),
    skip_bad: bool = SKIP_BAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Train a detector; keeps the checkpoint with the best validation map50.

    Writes a run folder with checkpoints, metrics.csv, plots and report.json; --json prints
    run_dir, best_checkpoint, map and map50 (among others).
    """
    from deepimage.api.detector import Detector

    if not data and not resume:
        raise DeepImageError("detect train needs --data (COCO, VOC or YOLO) or --resume RUN_DIR.")
    if resume:
        report = Detector.resume(resume, quiet=quiet, device=device, workers=workers)
    else:
        report = Detector(model).fit(
            data,
            quiet=quiet,
            epochs=epochs,
            img_size=img_size,
            batch_size=batch_size,
            time_minutes=time_minutes,
            lr=lr,
            weight_decay=weight_decay,
            warmup_steps=warmup_steps,
            augment=augment,
            val_split=val_split,
            classes=classes or None,
            pretrained=pretrained,
            weights=str(weights) if weights else None,
            name=name,
            runs_root=runs_root,
            seed=seed,
            device=device,
            devices=devices,
            workers=workers,
            patience=patience,
            skip_bad=skip_bad,
        )
    if not report:  # a DDP worker process
        return
    for issue in report["issues"]:
        console.print(f"  {issue['kind']}: {issue['path']}: {issue['detail']}", highlight=False)
    emit(
        report,
        as_json,
        f"[bold]trained[/] {report['model']} for {report['epochs']} epochs "
        f"({report['train_images_per_s']:.1f} images/s): val map {report['map']:.4f}, "
        f"map50 {report['map50']:.4f}\nrun folder: {report['run_dir']}",
    )


@app.command("evaluate")
def evaluate(
    model: Path = MODEL_FILE,
    data: str = typer.Option(..., "--data", "-d", help="COCO, VOC or YOLO data."),
    split: str = typer.Option("val", "--split", help="train, val, test or all."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for plots (default: the run's plots/)."
    ),
    conf: float = CONF,
    iou: float = IOU,
    batch_size: int = BATCH,
    device: str = DEVICE,
    skip_bad: bool = SKIP_BAD,
    as_json: bool = JSON,
) -> None:
    """The 12 COCO numbers (pycocotools), AP per class and a precision-recall plot."""
    from deepimage.api.detector import Detector

    result = Detector.load(model).evaluate(
        data,
        split,
        out_dir=str(out) if out else None,
        conf=conf,
        iou=iou,
        batch_size=batch_size,
        device=device,
        skip_bad=skip_bad,
    )
    if not as_json:
        table = Table("metric", "value", title=f"{data} [{split}], {result['images']} images")
        for key, value in result.items():
            if isinstance(value, float) and key.startswith(("map", "mar")):
                table.add_row(key, f"{value:.4f}")
        for name, value in result["per_class"].items():
            table.add_row(f"AP {name}", f"{value:.4f}")
        console.print(table)
    emit(result, as_json, plot_lines(result["plots"]))


@app.command("predict")
def predict(
    images: list[str] = typer.Argument(..., help="Image files, folders or glob patterns."),
    model: Path = MODEL_FILE,
    conf: float = CONF,
    iou: float = IOU,
    classes: list[str] | None = typer.Option(
        None, "--classes", help="Keep only these class names (repeat the option)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write annotated copies (boxes, labels, scores) here."
    ),
    draw_conf: float = typer.Option(
        0.25,  # api.detector.DRAW_CONF, not imported here: it would load torch for --help
        "--draw-conf",
        min=0.0,
        max=1.0,
        help="Least score drawn on the -o copies, so they stay legible; the JSON keeps every "
        "detection above --conf.",
    ),
    batch_size: int = BATCH,
    device: str = DEVICE,
    skip_bad: bool = SKIP_BAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Find objects: a JSON array of {path, detections: [{box, label, score}]} with --json,
    boxes as [x1, y1, x2, y2] in the original image's pixels."""
    from deepimage.api.detector import Detector
    from deepimage.api.run_files import expand_image_paths

    detector = Detector.load(model)
    paths = [str(path) for path in expand_image_paths(images)]
    with Progress(console=console, disable=quiet or len(paths) < 2, transient=True) as bar:
        task = bar.add_task("detecting", total=len(paths))
        results = detector.predict(
            paths,
            conf=conf,
            iou=iou,
            classes=classes,
            batch_size=batch_size,
            device=device,
            skip_bad=skip_bad,
            on_image=lambda: bar.advance(task),
        )
    print_skipped(detector.skipped, shown=None)
    if out:
        detector.save_annotated(results, out, min_score=draw_conf)
    if as_json:
        emit(results, True)
        return
    table, shown = files_table([row["path"] for row in results], "image", "objects", "best")
    for row, path in zip(results, shown, strict=True):
        found = row["detections"]
        best = max(found, key=lambda d: d["score"], default=None)
        table.add_row(
            path, str(len(found)), f"{best['label']} {best['score']:.2f}" if best else "-"
        )
    console.print(table)
    if out:
        console.print(f"annotated images in {out}")

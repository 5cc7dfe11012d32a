"""The parts of ``deepimage demo``: each runs one corner of the toolkit on data that ships
with the installed packages (scikit-image's photos, scikit-learn's digits, generated
shapes) and returns a :class:`Section`: its figures and the pictures it wrote.

Example:
    >>> import tempfile, pathlib
    >>> section = PARTS["process"](Tour(pathlib.Path(tempfile.mkdtemp()), quiet=True))
    >>> section.title, sorted(section.figures)[:2], len(section.pictures)
    ('Classical processing', ['Otsu mask values', 'denoised PSNR (dB)'], 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.io import write_image


@dataclass
class Tour:
    """Where the demo writes (``root``: inputs, pictures and run folders) and how loud."""

    root: Path
    quiet: bool = False

    @property
    def runs(self) -> str:
        return str(self.root / "runs")


@dataclass
class Section:
    """One part's result: ``figures`` (name -> number or text) and ``pictures``
    (file, caption); ``seconds`` is filled in by :func:`run_part`."""

    name: str
    title: str
    about: str
    figures: dict[str, Any]
    pictures: list[tuple[Path, str]]
    seconds: float = 0.0
    run_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {"astronaut": data.astronaut(), "coffee": data.coffee()}


def process_part(tour: Tour) -> Section:
    """Greyscale, CLAHE, Canny edges, an Otsu mask and non-local-means denoising."""
    from deepimage import process
    from deepimage.viz.plots import plot_image_grid

    photos = _photos()
    grey = process.grayscale(photos["coffee"])
    rng = np.random.default_rng(0)
    clean = photos["astronaut"][:256, 128:384]
    noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    denoised = process.denoise_nl_means(noisy, h=12)
    mask = process.otsu_threshold(grey)
    pictures = [photos["coffee"], process.clahe(grey), process.canny(grey), mask, noisy, denoised]
    titles = ["coffee", "CLAHE", "Canny edges", "Otsu mask", "noisy", "non-local means"]
    grid = tour.root / "pictures" / "process.png"
    plot_image_grid(pictures, titles, grid, columns=3, cell_inches=2.6)
    return Section(
        "process",
        "Classical processing",
        "deepimage process: OpenCV operations on scikit-image's photos.",
        {
            "noisy PSNR (dB)": round(process.psnr(clean, noisy), 2),
            "denoised PSNR (dB)": round(process.psnr(clean, denoised), 2),
            "Otsu mask values": sorted(int(v) for v in np.unique(mask)),
        },
        [(grid, "coffee through four operations; the astronaut with noise, then denoised")],
    )


def augment_part(tour: Tour) -> Section:
    """The classification preset on digits: what training sees."""
    from deepimage.api.augment_preview import preview

    grid = tour.root / "pictures" / "augment.png"
    report = preview("digits", grid, count=16, augment="classify-strong", seed=0)
    return Section(
        "augment",
        "Augmentation",
        "deepimage augment preview: random transforms of the training images.",
        {"preset": report["augment"], "samples": report["samples"]},
        [(grid, "16 augmented digits")],
    )


def classify_part(tour: Tour) -> Section:
    """small-cnn on scikit-learn's 8x8 digits; a few test digits labelled."""
    from deepimage.api.classifier import Classifier
    from deepimage.data.classification import load_classification_data

    clf = Classifier("small-cnn")
    report = clf.fit(
        "digits", epochs=15, img_size=16, name="classify", runs_root=tour.runs,
        quiet=tour.quiet, device="cpu",
    )  # fmt: skip
    test = load_classification_data("digits").splits["test"]
    samples = []
    for index in range(6):
        path = tour.root / "inputs" / f"digit{index}_true{test.labels[index]}.png"
        write_image(path, test.images[index].squeeze(-1))
        samples.append(path)
    labelled = clf.predict([str(p) for p in samples])
    run = Path(report["out_dir"])
    return Section(
        "classify",
        "Classification",
        "deepimage classify train/evaluate/predict: small-cnn on scikit-learn's digits.",
        {
            "test top-1": round(report["test"]["metrics"]["top1"], 4),
            "epochs": report["epochs"],
            "training images/s": round(report["train_images_per_s"]),
            "labelled": ", ".join(f"{Path(r['path']).stem}: {r['label']}" for r in labelled),
        },
        _run_plots(run, ("training_curves", "confusion_test", "misclassified_test")),
        run_dir=str(run),
    )


def detect_part(tour: Tour) -> Section:
    """fcos-tiny trained from scratch on generated shapes for a minute."""
    from deepimage.api import Detector
    from deepimage.data.shapes import write_shapes

    detect, _ = _shapes(tour, write_shapes)
    report = Detector("fcos-tiny").fit(
        str(detect), time_minutes=1.0, epochs=60, img_size=96, batch_size=16, lr=3e-3,
        warmup_steps=30, name="detect", runs_root=tour.runs, quiet=tour.quiet, device="cpu",
    )  # fmt: skip
    run = Path(report["out_dir"])
    metrics = report["val"]["metrics"]
    return Section(
        "detect",
        "Object detection",
        "deepimage detect train: a one-stage FCOS from scratch on generated circles, "
        "squares and triangles (a minute).",
        {"val mAP@0.5": round(metrics["map50"], 4), "val mAP": round(metrics["map"], 4)},
        _run_plots(run, ("examples_val", "confusion_matrix_val", "f1_curve_val", "labels_val")),
        run_dir=str(run),
    )


def segment_part(tour: Tour) -> Section:
    """small-unet on the same generated shapes, one class per shape kind."""
    from deepimage.api import Segmenter
    from deepimage.data.shapes import write_shapes

    _, segment = _shapes(tour, write_shapes)
    report = Segmenter("small-unet").fit(
        str(segment), time_minutes=0.6, epochs=40, crop=96, batch_size=16, name="segment",
        runs_root=tour.runs, quiet=tour.quiet, device="cpu",
    )  # fmt: skip
    run = Path(report["out_dir"])
    metrics = report["val"]["metrics"]
    return Section(
        "segment",
        "Semantic segmentation",
        "deepimage segment train: a small U-Net on the generated shapes (35 seconds).",
        {
            "val mIoU": round(metrics["miou"], 4),
            "val pixel accuracy": round(metrics["pixel_accuracy"], 4),
        },
        _run_plots(run, ("examples_val", "confusion_val", "training_curves")),
        run_dir=str(run),
    )


def face_part(tour: Tour) -> Section:
    """dlib's detector, landmarks and embeddings on scikit-image's astronaut portrait:
    enrolled from a mirrored, darker crop, then identified in the original (the largest
    face: the detector also gives the mission patch a low score)."""
    from deepimage.api import FaceRecognizer

    photo = _photos()["astronaut"]
    inputs = tour.root / "inputs"
    original, mirrored = inputs / "astronaut.png", inputs / "enrol" / "astronaut-mirrored.png"
    write_image(original, photo)
    write_image(mirrored, (photo[:300, 380:60:-1] * 0.7).astype(np.uint8))  # her face only
    faces = FaceRecognizer(tour.root / "gallery.db", quiet=True)
    found = faces.detect([original], landmarks=68)["results"][0]["faces"]
    faces.enroll([mirrored], name="Eileen Collins")
    named = tour.root / "pictures" / "faces"
    rows = faces.identify([original], out=named, overwrite=True)["results"]
    match = max(
        rows, key=lambda row: (row["box"][2] - row["box"][0]) * (row["box"][3] - row["box"][1])
    )
    return Section(
        "face",
        "Face recognition",
        "deepimage face detect/enroll/identify: enrolled from a mirrored, darker copy, "
        "named in the original.",
        {
            "faces found (scores)": ", ".join(f"{face['score']:.2f}" for face in found),
            "identified as": match["name"],
            "distance (match below 0.6)": round(match["distance"], 3),
        },
        [(named / "astronaut.png", "the portrait, named from the gallery")],
    )


def generate_part(tour: Tour) -> Section:
    """A convolutional VAE on digits: reconstructions and samples."""
    from deepimage.api import Generator

    report = Generator("vae").fit(
        "digits", time_minutes=0.5, epochs=40, img_size=16, name="generate",
        runs_root=tour.runs, quiet=tour.quiet, device="cpu",
    )  # fmt: skip
    run = Path(report["out_dir"])
    metrics = report["val"]["metrics"]
    return Section(
        "generate",
        "Generation",
        "deepimage generate train: a convolutional VAE on digits (30 seconds).",
        {"val PSNR (dB)": round(metrics["psnr"], 2), "val SSIM": round(metrics["ssim"], 4)},
        _run_plots(run, ("reconstructions", "samples")),
        run_dir=str(run),
    )


def _shapes(tour: Tour, write: Callable[..., tuple[Path, Path]]) -> tuple[Path, Path]:
    """The generated shapes (written once per tour)."""
    root = tour.root / "inputs" / "shapes"
    if not (root / "segment" / "classes.txt").exists():
        write(root)
    return root / "detect", root / "segment"


def _run_plots(run: Path, stems: tuple[str, ...]) -> list[tuple[Path, str]]:
    """The run's plots of these names that exist, captioned by name."""
    found = [run / "plots" / f"{stem}.png" for stem in stems]
    return [(path, path.stem.replace("_", " ")) for path in found if path.exists()]


PARTS: dict[str, Callable[[Tour], Section]] = {
    "process": process_part,
    "augment": augment_part,
    "classify": classify_part,
    "detect": detect_part,
    "segment": segment_part,
    "face": face_part,
    "generate": generate_part,
}
"""The tour's parts, in the order it runs them."""


def run_part(name: str, tour: Tour) -> Section:
    """Run one part, timed."""
    start = time.perf_counter()
    section = PARTS[name](tour)
    section.seconds = round(time.perf_counter() - start, 1)
    return section

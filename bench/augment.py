"""Augmentation throughput: deepimage vs Albumentations vs torchvision transforms v2.

One thread each, the same pipeline (horizontal flip, affine rotate/scale/translate,
brightness/contrast jitter, Gaussian blur, random erasing) on the 200 raccoon JPEGs,
decoded once and resized to 256 px on the long side. Two modes: the image alone, and
the image with its boxes. Prints images/s per library, the ratios, then one JSON line.

    .venv/bin/python bench/augment.py [--data DIR] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import torch
import torchvision
from torchvision import tv_tensors
from torchvision.transforms import v2

from deepimage.data.detection import load_detection_data
from deepimage.io.images import read_image
from deepimage.transforms.compose import Compose
from deepimage.transforms.geometric import Affine, HorizontalFlip
from deepimage.transforms.photometric import ColorJitter, GaussianBlur, RandomErasing
from deepimage.transforms.sample import Sample

SIDE = 256
Case = tuple[np.ndarray, np.ndarray]  # image HxWx3 uint8, boxes Nx4 xyxy float32


def load_cases(folder: Path) -> list[Case]:
    """Every VOC image of ``folder`` with its boxes, resized to SIDE on the long side."""
    cases = []
    for item in load_detection_data(folder, val_fraction=0, check_images=False).splits["train"]:
        zoom = SIDE / max(item.width, item.height)
        size = (round(item.width * zoom), round(item.height * zoom))
        image = cv2.resize(read_image(item.image, "rgb"), size, interpolation=cv2.INTER_AREA)
        cases.append((image, np.clip(item.boxes * zoom, 0, [*size, *size]).astype(np.float32)))
    return cases


def deepimage_runner(with_boxes: bool) -> Callable[[Case, int], object]:
    pipeline = Compose(
        [
            HorizontalFlip(p=0.5),
            Affine(degrees=15, translate=0.1, scale=(0.8, 1.2)),
            ColorJitter(brightness=0.2, contrast=0.2),
            GaussianBlur(sigma=(0.1, 1.0)),
            RandomErasing(p=0.5),
        ]
    )
    rng = np.random.default_rng(0)

    def run(case: Case, index: int) -> object:
        image, boxes = case
        sample = Sample(image, boxes=boxes) if with_boxes else Sample(image)
        return pipeline(sample, rng)

    return run


def albumentations_runner(with_boxes: bool) -> Callable[[Case, int], object]:
    steps = [
        A.HorizontalFlip(p=0.5),
        A.Affine(rotate=(-15, 15), translate_percent=(-0.1, 0.1), scale=(0.8, 1.2), p=1.0),
        A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.0, hue=0.0, p=1.0),
        A.GaussianBlur(blur_limit=0, sigma_limit=(0.1, 1.0), p=1.0),
        A.Erasing(p=0.5),
    ]
    boxes = A.BboxParams(format="pascal_voc", label_fields=["labels"]) if with_boxes else None
    pipeline = A.Compose(steps, bbox_params=boxes, seed=0)

    def run(case: Case, index: int) -> object:
        image, xyxy = case
        if with_boxes:
            return pipeline(image=image, bboxes=xyxy, labels=np.zeros(len(xyxy)))
        return pipeline(image=image)

    return run


def torchvision_runner(with_boxes: bool) -> Callable[[Case, int], object]:
    pipeline = v2.Compose(
        [
            v2.RandomHorizontalFlip(p=0.5),
            v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.8, 1.2)),
            v2.ColorJitter(brightness=0.2, contrast=0.2),
            v2.GaussianBlur(kernel_size=7, sigma=(0.1, 1.0)),
            v2.RandomErasing(p=0.5),
            v2.SanitizeBoundingBoxes() if with_boxes else v2.Identity(),
        ]
    )
    torch.manual_seed(0)

    def run(case: Case, index: int) -> object:
        image, xyxy = case
        tensor = torch.from_numpy(image).permute(2, 0, 1)
        if not with_boxes:
            return pipeline(tensor)
        boxes = tv_tensors.BoundingBoxes(
            torch.from_numpy(xyxy), format="XYXY", canvas_size=image.shape[:2]
        )
        return pipeline({"image": tensor, "boxes": boxes, "labels": torch.zeros(len(xyxy))})

    return run


def images_per_second(
    runners: dict[str, Callable[[Case, int], object]], cases: list[Case], rounds: int
) -> dict[str, float]:
    """Best rate of each runner over ``rounds`` passes, interleaved, after a warm-up pass.

    Interleaving spreads the noise of a shared machine over all libraries alike, and the
    best pass is the one least disturbed by other processes (as ``timeit`` advises).
    """
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for round_index in range(rounds + 1):
        for name, run in runners.items():
            start = time.perf_counter()
            for index, case in enumerate(cases):
                run(case, index)
            if round_index:
                rates[name].append(len(cases) / (time.perf_counter() - start))
    return {name: max(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(
        os.environ.get("DEEPIMAGE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    parser.add_argument("--data", type=Path, default=default / "raccoon")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="RandomErasing")  # torchvision: boxes pass
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    cases = load_cases(args.data)
    result: dict[str, object] = {
        "images": len(cases),
        "side": SIDE,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "versions": {
            "albumentations": A.__version__,
            "torchvision": torchvision.__version__,
            "opencv": cv2.__version__,
        },
    }
    for mode, with_boxes in (("image", False), ("image+boxes", True)):
        runners = {
            "deepimage": deepimage_runner(with_boxes),
            "albumentations": albumentations_runner(with_boxes),
            "torchvision": torchvision_runner(with_boxes),
        }
        rates = images_per_second(runners, cases, args.rounds)
        ratios = {
            "deepimage/albumentations": rates["deepimage"] / rates["albumentations"],
            "deepimage/torchvision": rates["deepimage"] / rates["torchvision"],
        }
        print(
            f"{mode:12s} "
            + "  ".join(f"{name} {rate:7.0f} img/s" for name, rate in rates.items())
            + "  |  "
            + "  ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
        )
        result[mode] = {"images_per_s": rates, "ratios": ratios}
    print(json.dumps(result, default=lambda v: round(v, 3)))


if __name__ == "__main__":
    main()

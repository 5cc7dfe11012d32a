"""Segmentation on the CPU: training images/s and inference latency per model, the overhead
of ``Segmenter.predict`` over torchvision's model called directly, and the time and peak
memory of a tiled 4000 x 3000 photo.

    python bench/segment.py [--models NAME ...] [--steps N] [--images 12]
                            [--skip-training] [--direct-model deeplabv3_mobilenet_v3_large]

Per model (default: every registered segment model), on the membrane images
(``$DEEPIMAGE_DATA/membrane/train``, grey, masks 0/255 read as classes 0/1): AdamW steps
(fused) on batches of 8 random 256 x 256 crops as deepimage trains (bf16 autocast where
the CPU has it, channels-last, the ce-dice loss), the first step left out of the timing;
``--steps`` of them (default 3, 2 for the ResNet-50 networks); then the latency of one
512 x 512 image through ``SegmentationTask.segment`` (eval, float32, no TTA) after a
warm-up call. Then, for ``--direct-model``, ``--images`` membrane files through
``Segmenter.predict`` (decode, normalise, inference, mask, area rows) against the loop a
torchvision user writes on the very same weights (PIL decode, ``to_tensor``, normalise,
``net(x)["out"].argmax(1)`` one image at a time), interleaved twice, the best round of each
counting, with the fraction of mask pixels on which the two agree. Last, in a child
process each (this script with a hidden flag), an untrained 3-channel small-unet (2
classes, tile 512) predicts a 4000 x 3000 and a 2000 x 1500 JPEG made from scikit-image's
astronaut, writing mask and overlay into a temporary folder: seconds per image, the mask's
shape and the child's peak RSS (``ru_maxrss``) against its peak after imports and model
build and after a 512 x 512 warm-up (the child is started through a shell that forks, so
that it does not inherit this process's peak: Linux keeps ``ru_maxrss`` across exec).
Prints tables, then one JSON line.

Every model is untrained (no weights are downloaded). The default run takes about 1.5
minutes on an idle 2-core machine (2026-12-01: 90 s, a third of it the two tiled
children); with another job on the cores, expect several times that and noisy figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision.transforms.functional import normalize, to_tensor

from deepimage.api.segmenter import Segmenter
from deepimage.engine.devices import precision_for
from deepimage.io import read_image
from deepimage.io.writing import write_image
from deepimage.models import list_models
from deepimage.tasks.segmentation import SegmentationTask
from deepimage.tasks.segmentation_losses import segmentation_loss
from folders import data_root

BATCH, CROP = 8, 256  # the segment train defaults
DEFAULT_STEPS = 3
HEAVY = {"fcn_resnet50": 2, "deeplabv3_resnet50": 2}  # default steps of the slowest
CLASSES = ["membrane", "cell"]  # mask 0 / 255
LATENCY_CALLS = 3
ROUNDS = 2
PHOTO_SIZES = [(4000, 3000), (2000, 1500)]  # width, height


def load_membrane(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """The training images (N x H x W uint8) and their masks as classes 0/1."""
    folder = root / "membrane" / "train"
    paths = sorted((folder / "image").glob("*.png"))
    if not paths:
        raise SystemExit(f"no membrane images in {folder / 'image'} (set DEEPIMAGE_DATA)")
    images = np.stack([read_image(path, mode="gray") for path in paths])
    masks = np.stack([read_image(folder / "label" / path.name, mode="gray") for path in paths])
    return images, (masks > 127).astype(np.uint8)


def random_batch(
    images: np.ndarray, masks: np.ndarray, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``BATCH`` random ``CROP`` x ``CROP`` windows: N x 1 x H x W uint8 and N x H x W."""
    picks = rng.integers(len(images), size=BATCH)
    ys = rng.integers(images.shape[1] - CROP + 1, size=BATCH)
    xs = rng.integers(images.shape[2] - CROP + 1, size=BATCH)
    windows = [np.s_[i, y : y + CROP, x : x + CROP] for i, y, x in zip(picks, ys, xs, strict=True)]
    crops = np.stack([images[w] for w in windows])[:, None]
    return torch.from_numpy(crops), torch.from_numpy(np.stack([masks[w] for w in windows]))


def new_task(name: str, stats: tuple[list[float], list[float]]) -> SegmentationTask:
    torch.manual_seed(0)
    return SegmentationTask(name, CLASSES, in_channels=1, mean=stats[0], std=stats[1])


def train_images_per_s(
    name: str, images: np.ndarray, masks: np.ndarray, stats: Any, steps: int
) -> float:
    """Images/s of ``steps`` training steps (forward, backward, fused AdamW) after one
    warm-up step, as the engine runs them (the precision ``--precision auto`` picks on the
    CPU, channels-last, the task's default ce-dice loss)."""
    task = new_task(name, stats).train()
    net = task.net
    precision = precision_for("cpu")
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4, fused=True)
    rng = np.random.default_rng(0)
    seconds = 0.0
    for step in range(steps + 1):
        crops, truth = random_batch(images, masks, rng)
        started = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16-mixed"):
            x = task.normalise(crops).contiguous(memory_format=torch.channels_last)
            loss = segmentation_loss("ce-dice", net(x), truth.long())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        seconds += (time.perf_counter() - started) if step else 0.0
    return steps * BATCH / seconds


def latency_ms(name: str, image: np.ndarray, stats: Any) -> float:
    """Milliseconds one 512 x 512 grey image takes through ``segment`` after a warm-up."""
    task = new_task(name, stats).eval()
    task.segment(image)
    started = time.perf_counter()
    for _ in range(LATENCY_CALLS):
        task.segment(image)
    return 1000 * (time.perf_counter() - started) / LATENCY_CALLS


def overhead(segmenter: Segmenter, paths: list[str]) -> dict[str, float]:
    """Seconds per image and mask agreement: ``Segmenter.predict`` against torchvision's
    network (inside the ``Padded`` wrapper) called directly on the same weights."""
    task = segmenter.task
    assert isinstance(task, SegmentationTask)
    net = task.net.net.eval()
    mean, std = list(task.hparams.mean), list(task.hparams.std)

    def direct(files: list[str]) -> list[np.ndarray]:
        out = []
        with torch.inference_mode():
            for path in files:
                x = normalize(to_tensor(Image.open(path).convert("L")), mean, std)
                out.append(net(x[None].expand(-1, 3, -1, -1))["out"].argmax(1)[0].numpy())
        return out

    def ours(files: list[str]) -> list[np.ndarray]:
        return [row["mask"] for row in segmenter.predict(files)]

    direct(paths[:1])  # warm-up of both paths' first calls
    ours(paths[:1])
    best = {"torchvision_s": float("inf"), "deepimage_s": float("inf")}
    for _ in range(ROUNDS):
        for key, run in (("torchvision_s", direct), ("deepimage_s", ours)):
            started = time.perf_counter()
            masks = run(paths)
            best[key] = min(best[key], (time.perf_counter() - started) / len(paths))
            if key == "torchvision_s":
                theirs = masks
    equal = sum(int((a == b).sum()) for a, b in zip(theirs, masks, strict=True))
    pixels = sum(mask.size for mask in masks)
    return {**best, "ratio": best["deepimage_s"] / best["torchvision_s"], "agree": equal / pixels}


def rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tiled_child(path: str) -> None:
    """(Child process) an untrained 3-channel small-unet predicts ``path`` with its mask
    and overlay written beside it; prints one JSON line of seconds, shape and RSS."""
    segmenter = Segmenter("small-unet")
    torch.manual_seed(0)
    segmenter.task = SegmentationTask(
        "small-unet", ["background", "foreground"], 3, [0.5] * 3, [0.25] * 3, tile=512
    ).eval()
    after_build = rss_mb()
    segmenter.predict(np.zeros((512, 512, 3), np.uint8))  # warm-up (one whole tile)
    after_warmup = rss_mb()
    started = time.perf_counter()
    rows = segmenter.predict(path, out=str(Path(path).parent / "out"))
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "mask_shape": list(rows[0]["mask"].shape),
        "baseline_rss_mb": after_build,
        "warm_rss_mb": after_warmup,
        "peak_rss_mb": rss_mb(),
    }
    print(json.dumps(result))


def tiled(folder: Path) -> list[dict[str, Any]]:
    """Each of :data:`PHOTO_SIZES` as a JPEG, predicted in a child process of its own."""
    from skimage import data as samples

    astronaut = samples.astronaut()
    results = []
    for width, height in PHOTO_SIZES:
        case = folder / f"{width}x{height}"
        case.mkdir()
        path = case / "photo.jpg"
        write_image(path, cv2.resize(astronaut, (width, height), interpolation=cv2.INTER_CUBIC))
        # through a shell that forks: a child exec'd straight from this process would
        # inherit its peak RSS as its own ru_maxrss (Linux keeps it across exec)
        command = [sys.executable, __file__, "--tiled-child", str(path)]
        done = subprocess.run(
            ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"the tiled child failed on {width}x{height}:\n{done.stderr}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        results.append({"image": f"{width}x{height}", **row})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=[m.name for m in list_models("segment")])
    parser.add_argument(
        "--steps",
        type=int,
        help=f"Timed steps per model (default {DEFAULT_STEPS}; "
        + ", ".join(f"{steps} for {name}" for name, steps in HEAVY.items())
        + ").",
    )
    parser.add_argument("--images", type=int, default=12, help="Images for the overhead test.")
    parser.add_argument("--skip-training", action="store_true", help="Latency only per model.")
    parser.add_argument("--direct-model", default="deeplabv3_mobilenet_v3_large")
    parser.add_argument("--tiled-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiled_child:
        tiled_child(args.tiled_child)
        return
    root = data_root()
    images, masks = load_membrane(root)
    pixels = images / 255.0
    stats = ([round(float(pixels.mean()), 6)], [round(float(pixels.std()), 6)])
    print(
        f"{len(images)} membrane images {images.shape[1]}x{images.shape[2]}; training: "
        f"batches of {BATCH} {CROP}x{CROP} crops, {precision_for('cpu')}, "
        f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'model':30} {'train img/s':>12} {'steps':>6} {'latency ms':>11}")
    rows = []
    for name in args.models:
        steps = args.steps or HEAVY.get(name, DEFAULT_STEPS)
        row: dict[str, Any] = {"model": name, "train_images_per_s": None, "steps": None}
        if not args.skip_training:
            speed = train_images_per_s(name, images, masks, stats, steps)
            row.update(train_images_per_s=round(speed, 2), steps=steps)
        row["latency_ms"] = round(latency_ms(name, images[0], stats), 1)
        rows.append(row)
        shown = row["train_images_per_s"] if row["steps"] else "-"
        print(f"{name:30} {shown:>12} {row['steps'] or '-':>6} {row['latency_ms']:>11}")

    segmenter = Segmenter(args.direct_model)
    segmenter.task = new_task(args.direct_model, stats).eval()
    folder = root / "membrane" / "train" / "image"
    paths = [str(folder / f"{index}.png") for index in range(args.images)]
    cost = overhead(segmenter, paths)
    print(
        f"predict, {args.direct_model}, {len(paths)} images ({folder}): torchvision directly "
        f"{cost['torchvision_s'] * 1000:.1f} ms/image, deepimage "
        f"{cost['deepimage_s'] * 1000:.1f} ms/image, ratio {cost['ratio']:.3f}, masks agree "
        f"on {100 * cost['agree']:.4f}% of pixels"
    )

    with tempfile.TemporaryDirectory() as temporary:
        photos = tiled(Path(temporary))
    print("tiled predict, untrained small-unet (3 channels, 2 classes, tile 512), one child each:")
    print(
        f"{'image':>10} {'s/image':>8} {'mask':>10} {'baseline MB':>12} {'warm MB':>8} "
        f"{'peak MB':>8} {'increase MB':>12}"
    )
    for photo in photos:
        photo["increase_mb"] = photo["peak_rss_mb"] - photo["baseline_rss_mb"]
        shape = "x".join(map(str, photo["mask_shape"]))
        print(
            f"{photo['image']:>10} {photo['seconds']:>8.2f} {shape:>10} "
            f"{photo['baseline_rss_mb']:>12.0f} {photo['warm_rss_mb']:>8.0f} "
            f"{photo['peak_rss_mb']:>8.0f} {photo['increase_mb']:>12.0f}"
        )
    print(json.dumps({"models": rows, "predict_overhead": cost, "tiled": photos}))


if __name__ == "__main__":
    main()

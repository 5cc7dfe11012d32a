"""Detection on the CPU: training images/s and inference latency per model, and the overhead
of ``deepimage detect predict`` over torchvision's model called directly.

    python bench/detect.py [--data raccoon] [--models NAME ...] [--images 24]
                           [--checkpoint RUN_OR_CKPT]

Per model: a few AdamW steps on batches of 4 letterboxed 320 px raccoon images (the first
left out of the timing) and single-image inference latency. Then, for one detector
(``--checkpoint``'s, else an untrained fasterrcnn_mobilenet_v3_large_320_fpn), the same
images through ``Detector.predict`` (decode, letterbox, batch, map back, JSON-ready rows)
against the loop a torchvision user writes: decode with PIL, ``to_tensor``, ``model([x])``
one image at a time on the very same weights. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.functional import to_tensor

from deepimage.api.detector import Detector
from deepimage.data.detection import load_detection_data
from deepimage.data.detection_batches import DetectionBatches
from deepimage.models import list_models
from deepimage.tasks.detection import DetectionTask

BATCH = 4
TRAIN_STEPS = 3


def train_images_per_s(name: str, batches: DetectionBatches) -> float:
    """Images/s of plain training steps (forward, backward, AdamW) after one warm-up step."""
    task = DetectionTask(name, ["raccoon"])
    net = task.net.train()
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-4)
    seconds = 0.0
    for step in range(TRAIN_STEPS + 1):
        images, targets = batches[(0, list(range(step * BATCH, (step + 1) * BATCH)))]
        started = time.perf_counter()
        losses = net(
            list(images.float().div(255)),
            [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets],
        )
        optimiser.zero_grad()
        sum(losses.values()).backward()
        optimiser.step()
        seconds += (time.perf_counter() - started) if step else 0.0
    return TRAIN_STEPS * BATCH / seconds


def latency_ms(name: str, batches: DetectionBatches, count: int = 5) -> float:
    """Milliseconds per 320 px image, one image per call, after a warm-up call."""
    task = DetectionTask(name, ["raccoon"])
    images, _ = batches[list(range(count + 1))]
    task.predict_batch(images[:1])
    started = time.perf_counter()
    for image in images[1:]:
        task.predict_batch(image[None])
    return 1000 * (time.perf_counter() - started) / count


def overhead(detector: Detector, paths: list[str]) -> dict[str, float]:
    """Seconds per image: deepimage's predict against torchvision called directly."""
    task = detector.task
    assert task is not None
    model = task.ema.eval()
    detector.predict(paths[:2])  # warm-up of both paths' first calls
    started = time.perf_counter()
    with torch.inference_mode():
        for path in paths:
            image = to_tensor(Image.open(path).convert("RGB"))
            model([image])
    direct = (time.perf_counter() - started) / len(paths)
    started = time.perf_counter()
    detector.predict(paths)
    ours = (time.perf_counter() - started) / len(paths)
    return {"torchvision_s": direct, "deepimage_s": ours, "ratio": ours / direct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="raccoon")
    parser.add_argument("--models", nargs="*", default=[m.name for m in list_models("detect")])
    parser.add_argument("--images", type=int, default=24, help="Images for the overhead test.")
    parser.add_argument("--checkpoint", help="A trained detector (run folder or .ckpt).")
    args = parser.parse_args()
    torch.manual_seed(0)
    data = load_detection_data(args.data)
    items = [item for split in data.splits.values() for item in split]
    batches = DetectionBatches(items, 320, augment="detect")
    rows = []
    print(f"{'model':40} {'train img/s':>12} {'latency ms':>11}")
    for name in args.models:
        row = {
            "model": name,
            "train_images_per_s": round(train_images_per_s(name, batches), 2),
            "latency_ms": round(latency_ms(name, batches), 1),
        }
        rows.append(row)
        print(f"{name:40} {row['train_images_per_s']:>12} {row['latency_ms']:>11}")
    if args.checkpoint:
        detector = Detector.load(args.checkpoint)
    else:
        detector = Detector()
        detector.task = DetectionTask(detector.model, data.classes).eval()
    paths = [str(item.image) for item in items[: args.images]]
    cost = overhead(detector, paths)
    print(
        f"predict, {len(paths)} images ({Path(paths[0]).parent}): torchvision directly "
        f"{cost['torchvision_s'] * 1000:.1f} ms/image, deepimage {cost['deepimage_s'] * 1000:.1f}"
        f" ms/image, ratio {cost['ratio']:.3f}"
    )
    print(json.dumps({"models": rows, "predict_overhead": cost}))


if __name__ == "__main__":
    main()

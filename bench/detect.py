"""Detection on the CPU: training images/s and inference latency per model, and the overhead
of ``deepimage detect predict`` over torchvision's model called directly.

    python bench/detect.py [--data raccoon] [--models NAME ...] [--images 24]
                           [--checkpoint RUN_OR_CKPT] [--profile]

Per model: a few AdamW steps on batches of 8 letterboxed 320 px raccoon images (the first
left out of the timing), as deepimage trains (its RoIAlign, bf16 autocast where the CPU has
it, fused AdamW) and as before (torchvision's RoIAlign kernel, float32, default AdamW), and
single-image inference latency. Then, for one detector
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
from torchvision.ops import MultiScaleRoIAlign
from torchvision.transforms.functional import to_tensor

from deepimage.api.detector import Detector
from deepimage.data.detection import load_detection_data
from deepimage.data.detection_batches import DetectionBatches
from deepimage.engine.devices import precision_for
from deepimage.models import list_models
from deepimage.tasks.detection import DetectionTask

BATCH = 8  # the detect train default
TRAIN_STEPS = 3


def train_images_per_s(name: str, batches: DetectionBatches, engine: bool) -> float:
    """Images/s of training steps (forward, backward, AdamW) after one warm-up step.

    ``engine``: as deepimage trains (its RoIAlign, the precision ``--precision auto``
    picks, fused AdamW); otherwise the same network with torchvision's RoIAlign kernel,
    float32 and torch's default AdamW, as before issue 12."""
    torch.manual_seed(0)
    net = DetectionTask(name, ["raccoon"]).net.train()
    precision = precision_for("cpu") if engine else "32-true"
    if not engine and hasattr(net, "roi_heads"):
        pool = net.roi_heads.box_roi_pool
        net.roi_heads.box_roi_pool = MultiScaleRoIAlign(
            pool.featmap_names, pool.output_size, pool.sampling_ratio
        )
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-4, fused=engine or None)
    seconds = 0.0
    for step in range(TRAIN_STEPS + 1):
        images, targets = batches[(0, list(range(step * BATCH, (step + 1) * BATCH)))]
        started = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16-mixed"):
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


def print_profiles(name: str, batches: DetectionBatches) -> None:
    """torch.profiler's per-op tables (self CPU time) of deepimage's training steps and
    of single-image inference."""
    from torch.profiler import ProfilerActivity, profile

    runs = {
        "training": lambda: train_images_per_s(name, batches, engine=True),
        "inference": lambda: latency_ms(name, batches),
    }
    for what, run in runs.items():
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run()
        print(f"{name}, {what}:")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="raccoon")
    parser.add_argument("--models", nargs="*", default=[m.name for m in list_models("detect")])
    parser.add_argument("--images", type=int, default=24, help="Images for the overhead test.")
    parser.add_argument("--checkpoint", help="A trained detector (run folder or .ckpt).")
    parser.add_argument("--profile", action="store_true", help="Print torch's per-op tables.")
    args = parser.parse_args()
    torch.manual_seed(0)
    data = load_detection_data(args.data)
    items = [item for split in data.splits.values() for item in split]
    batches = DetectionBatches(items, 320, augment="detect")
    rows = []
    print(f"training: batches of {BATCH}, {precision_for('cpu')} for deepimage")
    print(f"{'model':40} {'before img/s':>12} {'train img/s':>12} {'ratio':>6} {'latency ms':>11}")
    for name in args.models:
        before = train_images_per_s(name, batches, engine=False)
        ours = train_images_per_s(name, batches, engine=True)
        row = {
            "model": name,
            "before_images_per_s": round(before, 2),
            "train_images_per_s": round(ours, 2),
            "ratio": round(ours / before, 2),
            "latency_ms": round(latency_ms(name, batches), 1),
        }
        rows.append(row)
        print(
            f"{name:40} {row['before_images_per_s']:>12} {row['train_images_per_s']:>12} "
            f"{row['ratio']:>6} {row['latency_ms']:>11}"
        )
        if args.profile:
            print_profiles(name, batches)
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

"""What each CPU speed-up gives a bare training step (forward, cross-entropy, backward,
AdamW) of a registry classifier on 28 x 28 grey batches, outside any framework: float32
NCHW as a tutorial writes it, then channels-last, fused AdamW, bf16 autocast and
torch.compile, alone and combined. Variants run interleaved, ``--rounds`` times; the best
round counts (the machine is shared).

    python bench/train_step.py [--models small-cnn fast-cnn] [--steps 200] [--rounds 2]
                               [--no-compile]

Prints images/s per variant and its ratio to the plain float32 step, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from deepimage.models import create_model

BATCH = 64
WARMUP = 20
VARIANTS = {  # name: (channels_last, fused AdamW, bf16 autocast, torch.compile)
    "float32": (False, False, False, False),
    "channels-last": (True, False, False, False),
    "channels-last + fused": (True, True, False, False),
    "bf16": (False, False, True, False),
    "bf16 + channels-last + fused (deepimage)": (True, True, True, False),
    "compile + channels-last": (True, False, False, True),
    "compile + bf16 + channels-last": (True, False, True, True),
}


def step_images_per_s(model: str, variant: tuple[bool, bool, bool, bool], steps: int) -> float:
    """Training images/s of ``steps`` timed steps after ``WARMUP`` untimed ones."""
    channels_last, fused, bf16, compiled = variant
    torch.manual_seed(0)
    net = create_model("classify", model, num_classes=10, in_channels=1, img_size=28)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=layout)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, fused=fused or None)
    images = torch.randint(0, 256, (8 * BATCH, 1, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (8 * BATCH,))

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(net(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    run: Callable[[torch.Tensor, torch.Tensor], None] = torch.compile(step) if compiled else step
    started = 0.0
    for i in range(WARMUP + steps):
        if i == WARMUP:
            started = time.perf_counter()
        rows = slice((i % 8) * BATCH, (i % 8 + 1) * BATCH)
        x = images[rows].float().div_(255).contiguous(memory_format=layout)
        run(x, labels[rows])
    return steps * BATCH / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["small-cnn", "fast-cnn"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-compile", action="store_true", help="Leave torch.compile out.")
    args = parser.parse_args()
    variants = {k: v for k, v in VARIANTS.items() if not (args.no_compile and v[3])}
    results: dict[str, dict[str, float]] = {}
    for model in args.models:
        best = dict.fromkeys(variants, 0.0)
        for _ in range(args.rounds):
            for name, variant in variants.items():
                best[name] = max(best[name], step_images_per_s(model, variant, args.steps))
        results[model] = {name: round(value, 1) for name, value in best.items()}
        print(f"{model}, batch {BATCH}, {torch.get_num_threads()} threads")
        for name, value in best.items():
            print(f"  {name:42} {value:8.0f} img/s  {value / best['float32']:5.2f}x")
    print(json.dumps({"bench": "train_step", "batch": BATCH, "results": results}))


if __name__ == "__main__":
    main()

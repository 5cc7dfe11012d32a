"""Generation on the CPU: training images/s per model, and a trained denoising
autoencoder against OpenCV's non-local means on the same noisy images.

    python bench/generate.py [--dae RUN | --dae-minutes 10] [--models NAME ...]
                             [--speed-seconds 20] [--sigma 0.2] [--images 10000]
                             [--out DIR]
    python bench/generate.py --gan RUN --classifier RUN [--samples 5000]

Speed: each model (default: every registered generate model) trains on Fashion-MNIST
for ``--speed-seconds`` through ``Generator.fit`` (batch 128, bf16 autocast where the CPU
has it, the run's own throughput meter: the first batches of each epoch and validation
left out); ``--speed-seconds 0`` skips it.

Denoising: the first ``--images`` Fashion-MNIST test images get Gaussian noise of
``--sigma`` (on the 0-1 scale; seeded, clipped to [0, 1] and rounded to 8 bits, as a
saved noisy image is), the very same uint8 images going to both denoisers: the dae of
``--dae RUN`` (else one trained here for ``--dae-minutes`` with the `generate train`
defaults) through ``Generator.denoise``, and ``cv2.fastNlMeansDenoising`` (template 7,
search 21) at every ``h`` of a grid, the best ``h`` on these very images counting (an
oracle choice, in NLM's favour). PSNR is per image against the clean image, averaged;
seconds per image for each. A figure of noisy | NLM | dae | clean rows goes to
``--out`` (default: a temporary folder). Prints tables, then one JSON line.

``--gan RUN`` instead scores a GAN run's ``last.ckpt`` twice with ``generate evaluate``'s
classifier-feature figures (``--classifier``, on the Fashion-MNIST test split): the
generator as trained (what a plain DCGAN samples) and its weight average (what deepimage
samples), from the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from deepimage.api.generator import Generator
from deepimage.data.classification import load_classification_data
from deepimage.io.writing import write_image
from deepimage.models import list_models
from deepimage.viz.draw import tile_images

NLM_H = (10, 20, 25, 30, 33, 36, 38, 40, 42, 44, 47, 50, 60, 80)  # on the 0-255 scale


def psnr(clean: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) of uint8 images against clean ones."""
    error = (clean.astype(np.float64) - other.astype(np.float64)) / 255
    mse = (error**2).reshape(len(clean), -1).mean(1)
    return 10 * np.log10(1 / np.maximum(mse, 1e-10))


def speed(models: list[str], seconds: float, runs: Path) -> list[dict[str, Any]]:
    rows = []
    for name in models:
        report = Generator(name).fit(
            "fashion-mnist", time_minutes=seconds / 60, quiet=True, runs_root=str(runs),
            device="cpu",
        )  # fmt: skip
        rows.append({"model": name, "train_images_per_s": report["train_images_per_s"]})
        print(f"{name:10s} {report['train_images_per_s']:8.0f} img/s")
    return rows


def noisy_images(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = clean / 255 + rng.normal(0, sigma, clean.shape)
    return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)


def nlm(noisy: np.ndarray, clean: np.ndarray) -> dict[str, Any]:
    scores = {}
    best: tuple[float, int, np.ndarray, float] | None = None
    for h in NLM_H:
        started = time.perf_counter()
        out = np.stack([cv2.fastNlMeansDenoising(image, None, h, 7, 21) for image in noisy])
        seconds = (time.perf_counter() - started) / len(noisy)
        scores[h] = float(psnr(clean, out).mean())
        if best is None or scores[h] > best[0]:
            best = (scores[h], h, out, seconds)
        print(f"  NLM h={h:3d}: {scores[h]:.2f} dB")
    assert best is not None
    return {"psnr": best[0], "h": best[1], "out": best[2], "s_per_image": best[3], "by_h": scores}


def gan_against_its_average(run: str, classifier: str, samples: int) -> dict[str, Any]:
    """A GAN's ``last.ckpt`` scored twice on the classifier's features: the generator as
    trained (a plain DCGAN's samples) and its weight average (what deepimage samples)."""
    figures = {}
    for name in ("average", "raw"):
        gan = Generator.load(Path(run) / "checkpoints" / "last.ckpt")
        if name == "raw":
            gan.task.ema = None  # inference_net is then the trained weights
        scored = gan.evaluate("fashion-mnist", features=classifier, samples=samples,
                              out_dir=tempfile.mkdtemp(), device="cpu")  # fmt: skip
        figures[name] = {k: v for k, v in scored["metrics"].items() if k.startswith("classifier")}
        shown = {k.removeprefix("classifier_"): round(v, 4) for k, v in figures[name].items()}
        print(f"  {name:8s} {shown}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dae", help="A trained dae run (default: train one here).")
    parser.add_argument("--dae-minutes", type=float, default=10.0)
    parser.add_argument("--models", nargs="*", default=[m.name for m in list_models("generate")])
    parser.add_argument("--speed-seconds", type=float, default=20.0)
    parser.add_argument("--sigma", type=float, default=0.2)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="Folder for the figure.")
    parser.add_argument("--gan", help="A GAN run: its generator and its average, scored.")
    parser.add_argument("--classifier", help="The classify run whose features score --gan.")
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    if args.gan:
        print(f"{args.gan}: the trained generator against its weight average:")
        print(json.dumps(gan_against_its_average(args.gan, args.classifier, args.samples)))
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    out = args.out or scratch
    result: dict[str, Any] = {"sigma": args.sigma}
    if args.speed_seconds:
        print(f"training speed ({args.speed_seconds:.0f} s each, Fashion-MNIST, batch 128):")
        result["speed"] = speed(args.models, args.speed_seconds, scratch / "runs")
    if args.dae:
        dae = Generator.load(args.dae)
    else:
        dae = Generator("dae")
        dae.fit("fashion-mnist", time_minutes=args.dae_minutes, quiet=True,
                runs_root=str(scratch / "runs"), name="dae-bench")  # fmt: skip
    test = load_classification_data("fashion-mnist").splits["test"].images[: args.images]
    clean = test[..., 0]
    noisy = noisy_images(clean, args.sigma)
    print(f"denoising {len(clean)} test images, Gaussian sigma {args.sigma}:")
    started = time.perf_counter()
    rows = dae.denoise(list(noisy[..., None]), device="cpu")
    dae_seconds = (time.perf_counter() - started) / len(noisy)
    denoised = np.stack([row["image"][..., 0] for row in rows])
    best = nlm(noisy, clean)
    result.update(
        noisy_psnr=float(psnr(clean, noisy).mean()),
        nlm_psnr=best["psnr"],
        nlm_h=best["h"],
        nlm_s_per_image=best["s_per_image"],
        nlm_by_h=best["by_h"],
        dae_psnr=float(psnr(clean, denoised).mean()),
        dae_s_per_image=dae_seconds,
        dae_checkpoint=str(dae.checkpoint),
    )
    result["dae_minus_nlm_db"] = result["dae_psnr"] - result["nlm_psnr"]
    print(f"{'':8s} {'PSNR dB':>8s} {'ms/image':>9s}")
    print(f"{'noisy':8s} {result['noisy_psnr']:8.2f}")
    print(
        f"{'NLM':8s} {result['nlm_psnr']:8.2f} {1000 * best['s_per_image']:9.3f}  (h={best['h']})"
    )
    print(f"{'dae':8s} {result['dae_psnr']:8.2f} {1000 * dae_seconds:9.3f}")
    print(f"dae - NLM: {result['dae_minus_nlm_db']:+.2f} dB")
    cells = [
        image
        for rows4 in zip(noisy[:8], best["out"][:8], denoised[:8], clean[:8], strict=True)
        for image in rows4
    ]
    figure = out / "denoise_nlm_vs_dae.png"
    write_image(figure, tile_images(cells, columns=4))
    result["figure"] = str(figure)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

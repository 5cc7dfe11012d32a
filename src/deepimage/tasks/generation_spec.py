"""The generation task's light half: its settings per verb (train, evaluate, reconstruct,
sample, interpolate, denoise) and its registry entry.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> make_settings(GenerateTrain, {"data": "fashion-mnist"}).model
    'vae'
    >>> make_settings(GenerateSample, {"out": "samples"}).count
    64
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepimage.engine.settings import setting
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import EvaluateSettings, PredictSettings, TrainSettings

GAN_MODELS = ("dcgan", "wgan-gp")
NOISE_KINDS = ("gaussian", "salt-pepper", "jpeg")
MAX_GENERATE_SIZE = 256
DATA_HELP = (
    "Built-in name (fashion-mnist, mnist, digits), a folder of images (flat, or of class "
    "folders, optionally in train/ val/ test/) or a CSV of path,label rows."
)
DEVICE_HELP = "auto, cpu, cuda or mps (checked by engine.devices)."


@dataclass
class GenerateTrain(TrainSettings):
    """Everything a generation run is made from; saved as the run's ``config.yaml``."""

    data: str = setting("", DATA_HELP, short="-d")
    model: str = setting(
        "vae", "ae, conv-ae, dae, vae, dcgan or wgan-gp (see `deepimage generate models`).",
        short="-m",
    )  # fmt: skip
    epochs: int = setting(
        100, "Most epochs to train (a --time budget usually ends a run first).", low=1,
        short="-e",
    )  # fmt: skip
    batch_size: int = setting(128, "Images per training batch.", low=1, short="-b")
    lr: float | None = setting(
        None,
        "Peak learning rate. Default: 2e-4 for dcgan (Adam, betas 0.5 and 0.999, "
        "constant), 1e-4 for wgan-gp (Adam, betas 0 and 0.9), 2e-3 otherwise (AdamW, "
        "cosine).",
        low=0.0,
    )
    weight_decay: float = setting(0.0, "Weight decay (AdamW's decoupled kind).", low=0.0)
    img_size: int | None = setting(
        None,
        "Image side in pixels (default: the data's own, 64 for folders of mixed sizes).",
        low=8,
        high=MAX_GENERATE_SIZE,
    )
    latent_dim: int | None = setting(
        None,
        "Code (latent) size. Default: ae/conv-ae 32, vae 64 (16 conditional), GANs 100.",
        low=0,
        high=4096,
    )
    width: int | None = setting(
        None,
        "Channels of the first convolution (ae: hidden units). Default: ae 64, conv-ae, dae "
        "and vae 32, GANs 64.",
        low=1,
        high=1024,
    )
    conditional: bool = setting(
        False, "Condition the vae or GAN on the data's classes (then sample --class NAME)."
    )
    beta: float = setting(1.0, "VAE: weight of the KL term once warmed up (beta-VAE).", low=0.0)
    likelihood: str | None = setting(
        None,
        "VAE: the decoder's likelihood: gaussian with the variance that fits the batch best "
        "(sigma-VAE: sharp reconstructions, so the code carries more; Fashion-MNIST, 20 "
        "minutes: classifier-FID 26 against 79) or bernoulli (binary cross-entropy). "
        "Default: gaussian, bernoulli for --conditional (which samples N(0, I)).",
        choices=("bernoulli", "gaussian"),
    )
    kl_warmup_steps: int = setting(
        2000, "VAE: steps over which the KL weight rises from 0 to --beta.", low=0,
        flag="--kl-warmup",
    )  # fmt: skip
    noise: list[str] = setting(
        list(NOISE_KINDS),
        "dae: the noise it learns to remove, one drawn per image (repeat the option).",
        choices=NOISE_KINDS,
    )
    noise_level: float = setting(
        0.2,
        "dae: Gaussian sigma (0-1 scale) in the middle of the training range (0.5x to "
        "1.5x); salt-and-pepper flips half that share of pixels.",
        low=0.0,
        high=1.0,
    )
    gp_weight: float = setting(10.0, "wgan-gp: weight of the gradient penalty.", low=0.0)
    critic_steps: int = setting(2, "wgan-gp: critic updates per generator update.", low=1, high=10)
    ema_decay: float = setting(
        0.0,
        "Keep an exponential moving average of the weights with this decay (0: off); "
        "sampling and inference use it (a GAN's batch-norm statistics are re-estimated for "
        "it each epoch). Off by default: a DCGAN's averaged generator (0.999) sampled worse "
        "than the trained one on Fashion-MNIST.",
        low=0.0,
        high=0.99999,
    )
    augment: str = setting("none", "No augmentation for generative models.", cli=False)
    pretrained: bool = setting(False, "No pretrained generative models.", cli=False)
    download: bool = setting(False, "Download a missing built-in data set (fashion-mnist, mnist).")


@dataclass
class GenerateEvaluate(EvaluateSettings):
    """``generate evaluate`` options."""

    data: str = setting("", DATA_HELP, short="-d")
    batch_size: int = setting(256, "Images per batch.", low=1, short="-b")
    features: str | None = setting(
        None,
        "A deepimage classification run (or .ckpt) trained on the same data: FID and KID of "
        "samples against the split on its features (labelled classifier-FID, not "
        "Inception), its confidence and class entropy on the samples, and the floor (the "
        "split against the training images).",
    )
    inception_weights: str | None = setting(
        None, "The pt_inception-2015-12-05 weights file: the standard Inception FID as well."
    )
    samples: int = setting(5000, "Images sampled for FID and KID.", low=2)
    sigma: float = setting(0.2, "dae: the Gaussian noise (0-1 scale) it is scored on.", low=0.0)
    seed: int = setting(0, "Seed of the samples and of the noise.", low=0)
    download: bool = setting(False, "Download a missing built-in data set.")


@dataclass
class GenerateReconstruct(PredictSettings):
    """``generate reconstruct`` options."""

    out: str | None = setting(
        None, "Write each reconstruction as a PNG into this folder.", short="-o"
    )
    overwrite: bool = setting(False, "Replace files already in the -o folder.")


@dataclass
class GenerateDenoise(PredictSettings):
    """``generate denoise`` options."""

    out: str = setting("", "Folder for the denoised PNGs (each at its image's size).", short="-o")
    overwrite: bool = setting(False, "Replace files already in the -o folder.")
    batch_size: int = setting(1, "Images per batch.", low=1, short="-b", cli=False)
    tile: int = setting(
        512, "Images larger than this are denoised in overlapping tiles of it.", low=64
    )


@dataclass
class GenerateSample:
    """``generate sample`` options."""

    count: int = setting(64, "Images to sample.", low=1, high=1_000_000, short="-n")
    out: str = setting("", "Folder for the PNGs (sample_00000.png, ...).", short="-o")
    class_name: str | None = setting(
        None, "A conditional model: sample this class (default: every class in turn).",
        flag="--class",
    )  # fmt: skip
    seed: int = setting(0, "Seed: the same seed gives the same images.", low=0)
    grid: str | None = setting(None, "Also write the first 64 as one grid image to this file.")
    overwrite: bool = setting(False, "Replace files already in the -o folder.")
    batch_size: int = setting(256, "Images generated per batch.", low=1, short="-b")
    device: str = setting("auto", DEVICE_HELP)


@dataclass
class GenerateInterpolate:
    """``generate interpolate`` options."""

    out: str = setting("", "The grid image to write (PNG or JPEG).", short="-o")
    steps: int = setting(8, "Images from A to B, both included.", low=2, high=64)
    class_name: str | None = setting(
        None, "A conditional model: walk within this class (default: its first class).",
        flag="--class",
    )  # fmt: skip
    overwrite: bool = setting(False, "Replace the file if it exists.")
    device: str = setting("auto", DEVICE_HELP)


def _row_summary(row: dict[str, Any]) -> dict[str, str]:
    return {"mse": f"{row['mse']:.5f}", "psnr": f"{row['psnr']:.2f}"}


SPEC = register_task(
    TaskSpec(
        name="generate",
        noun="generative model",
        help="Autoencoders, denoising autoencoders, VAEs and GANs: train, sample, "
        "reconstruct, interpolate, denoise, evaluate (FID/KID).",
        train=GenerateTrain,
        evaluate=GenerateEvaluate,
        predict=GenerateReconstruct,
        hooks_module="deepimage.tasks.generation_hooks",
        monitor=None,  # a GAN's losses pick no best epoch; every model keeps its latest
        headline=("mse", "psnr"),
        row_summary=_row_summary,
        models_example={"in_channels": 1, "img_size": 28},
        predict_verb="reconstruct",
        predict_help="Reconstruct images through a trained autoencoder or VAE (at the "
        "model's size); each row's mse and psnr are its reconstruction error, an anomaly "
        "score. --json prints {{task, model, results, skipped, out_dir}}.\n\nExample: "
        "deepimage generate reconstruct --model runs/generate/vae photos/ -o recon/ --json",
    )
)

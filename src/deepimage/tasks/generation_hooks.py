"""The generation task's heavy half: data (the classification loaders, a flat folder as
one class), the module, evaluation (reconstruction figures, FID/KID on a classifier's
features) and ``reconstruct`` (the task's predict verb).

Example:
    >>> HOOKS.module.task_name
    'generate'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepimage.data.batches import to_chw_tensor
from deepimage.data.classification import load_classification_data
from deepimage.data.model_input import input_for_model
from deepimage.data.module import BatchDataModule, batch_loader
from deepimage.engine.checkpoints import load_checkpoint
from deepimage.engine.run_files import resolve_model_path
from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder
from deepimage.io.outputs import output_paths
from deepimage.io.paths import shown_path
from deepimage.io.writing import write_image
from deepimage.models import model_info
from deepimage.models.generation import DEFAULTS
from deepimage.tasks.classes import class_index
from deepimage.tasks.classification import ClassificationTask
from deepimage.tasks.classification_data import prepare_data
from deepimage.tasks.generation import GenerationTask, psnr
from deepimage.tasks.generation_grids import (
    draw_codes,
    reconstruction_grid,
    sample_grid,
    sample_images,
    to_uint8,
)
from deepimage.tasks.generation_metrics import (
    ClassifierFeatures,
    classifier_figures,
    distances,
    inception_fid,
    reconstruction_metrics,
)
from deepimage.tasks.generation_spec import (
    GAN_MODELS,
    GenerateEvaluate,
    GenerateReconstruct,
    GenerateTrain,
)
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.settings import engine_arguments

PREVIEW = 32  # val images in the per-epoch reconstruction grid


@dataclass
class Splits:
    """What ``evaluate`` scores: the split, and the training images (the FID floor)."""

    split: Any  # TensorBatches or FileBatches of uint8 images and labels
    train: Any | None = None


CONDITIONAL_VAE_CODE = 16


def resolved(settings: GenerateTrain, img_size: int) -> GenerateTrain:
    """The settings with every per-model default filled in (what config.yaml records)."""
    defaults, gan = DEFAULTS[settings.model], settings.model in GAN_MODELS
    latent = settings.latent_dim if settings.latent_dim is not None else defaults["latent_dim"]
    # a conditional VAE samples N(0, I): the sigma-VAE's richer 64-d codes leave it, so
    # its samples lose their class (Sneaker 44% against 97% with cross-entropy and 16-d)
    plain_vae = settings.model == "vae" and settings.conditional
    if plain_vae and settings.latent_dim is None:
        latent = CONDITIONAL_VAE_CODE
    likelihood = settings.likelihood or ("bernoulli" if plain_vae else "gaussian")
    lr = settings.lr if settings.lr is not None else (
        1e-4 if settings.model == "wgan-gp" else 2e-4 if gan else 2e-3
    )  # fmt: skip
    return replace(
        settings,
        img_size=img_size,
        latent_dim=latent,
        width=settings.width or defaults["width"],
        lr=lr,
        likelihood=likelihood,
    )


def prepare_training(settings: GenerateTrain) -> Training:
    model_info("generate", settings.model)  # an unknown name fails before the data is read
    if settings.model in GAN_MODELS and settings.gradient_clip:
        raise DeepImageError(
            "--gradient-clip: a GAN steps its two optimizers by hand; drop the option."
        )
    loaded = _load(settings.data, settings, settings.seed, settings.val_fraction)
    if settings.conditional and len(loaded.classes) < 2:
        raise DeepImageError(
            f"{settings.data}: --conditional needs labelled images (two class folders or "
            f"more, a CSV of path,label rows or a built-in set); it has one class."
        )
    if "val" not in loaded.splits:
        raise DeepImageError(
            f"{settings.data}: no images held out for validation; pass --val-fraction 0.1."
        )
    prepared = prepare_data(loaded, settings.model, settings.img_size, task="generate")
    settings = resolved(settings, prepared.img_size)
    torch.manual_seed(settings.seed)
    module = GenerationTask(
        model=settings.model,
        classes=prepared.classes,
        in_channels=prepared.channels,
        img_size=prepared.img_size,
        latent_dim=settings.latent_dim,
        width=settings.width,
        conditional=settings.conditional,
        beta=settings.beta,
        likelihood=settings.likelihood,
        kl_warmup_steps=settings.kl_warmup_steps,
        noise=list(settings.noise),
        noise_level=settings.noise_level,
        gp_weight=settings.gp_weight,
        critic_steps=settings.critic_steps,
        seed=settings.seed,
        **engine_arguments(settings),
    )
    module.preview = prepared.val[list(range(min(PREVIEW, len(prepared.val))))]
    data = BatchDataModule(
        prepared.train, prepared.val, settings.batch_size, settings.seed, settings.workers
    )
    scored = {}
    if module.kind != "gan":  # a GAN's figures need a classifier: `generate evaluate`
        scored = {
            name: EvalData(Splits(split), len(split))
            for name, split in prepared.splits.items()
            if name != "train"
        }
    return Training(
        module,
        data,
        settings,
        scored,
        skipped=loaded.skipped,
        extras={"img_size": prepared.img_size, "train_images": len(prepared.train)},
    )


def _load(data: str, settings: Any, seed: int, val_fraction: float | None) -> Any:
    return load_classification_data(
        data,
        skip_bad=settings.skip_bad,
        seed=seed,
        val_fraction=val_fraction,
        workers=getattr(settings, "workers", 0),
        download=settings.download,
        unlabelled=True,
    )


def load_split(module: GenerationTask, settings: GenerateEvaluate) -> EvalData:
    """The split as the model's run split it, with the training images for the floor;
    a conditional model's classes matched by name."""
    hp, card = module.hparams, module.data_card
    loaded = _load(settings.data, settings, card.get("seed", hp.seed), card.get("val_fraction"))
    if settings.split not in loaded.splits:
        raise DeepImageError(
            f"{settings.data} has no {settings.split!r} split; it has {', '.join(loaded.splits)}."
        )
    prepared = prepare_data(loaded, hp.model, hp.img_size, hp, task="generate")
    if module.num_classes:
        index = class_index(loaded.classes, hp.classes, settings.class_map, settings.data)
        for dataset in prepared.splits.values():
            dataset.labels = torch.as_tensor(index, dtype=torch.int64)[dataset.labels]
    dataset = prepared.splits[settings.split]
    return EvalData(Splits(dataset, prepared.splits.get("train")), len(dataset), loaded.skipped)


def score(
    module: GenerationTask, data: EvalData, out_dir: Path, split: str, settings: Any
) -> dict[str, Any]:
    """Reconstruction figures (models with an encoder, the dae), FID/KID and the
    classifier's figures on samples (``--features``), the Inception FID; grids plotted."""
    items: Splits = data.items
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    plots: list[Path] = []
    result: dict[str, Any] = {"images": data.count, "per_class": []}
    if module.kind != "gan":
        figures.update(
            reconstruction_metrics(
                module, items.split, settings.batch_size, settings.sigma, settings.seed
            )
        )
        images, labels = items.split[list(range(min(PREVIEW, len(items.split))))]
        sigma = settings.sigma if module.hparams.model == "dae" else None
        plots.append(out_dir / f"reconstructions_{split}.png")
        write_image(plots[-1], reconstruction_grid(module, images, labels, sigma))
    if module.can_sample:
        plots.append(out_dir / f"samples_{split}.png")
        write_image(plots[-1], sample_grid(module))
    if getattr(settings, "features", None):
        if not module.can_sample:
            raise DeepImageError(
                f"--features scores samples; {module.hparams.model} cannot sample (use a "
                "vae, dcgan or wgan-gp)."
            )
        sampled = _sample_scores(module, items, settings)
        figures.update(sampled.pop("metrics"))
        result.update(sampled)
    if getattr(settings, "inception_weights", None):
        real, fake = _real_batches(items.split, settings), _fake_batches(module, settings)
        figures["inception_fid"] = inception_fid(
            Path(settings.inception_weights), real, fake, module.device
        )
    if not figures:
        raise DeepImageError(
            f"a {module.hparams.model} has no reconstruction to score: pass --features RUN "
            "(a deepimage classifier of the same data) for FID and KID."
        )
    return {**result, "metrics": figures, "plots": [str(p) for p in plots]}


def _sample_scores(module: GenerationTask, items: Splits, settings: Any) -> dict[str, Any]:
    path = resolve_model_path(Path(settings.features))
    classifier = ClassificationTask.from_checkpoint(load_checkpoint(path), str(path))
    features = ClassifierFeatures(classifier).to(module.device)
    count = settings.samples
    real = _real_batches(items.split, settings)
    fake = _fake_batches(module, settings)
    train = _real_batches(items.train, settings, count) if items.train is not None else None
    model = distances(features, real, fake, min(count, len(items.split)), module.device)
    made = classifier_figures(features, fake, module.device)
    metrics = {
        "classifier_fid": model["fid"],
        "classifier_kid": model["kid"],
        "classifier_kid_std": model["kid_std"],
        "classifier_confidence": made["confidence"],
        "classifier_class_entropy": made["class_entropy"],
        "classifier_real_confidence": classifier_figures(features, real, module.device)[
            "confidence"
        ],
    }
    if train is not None:
        shortest = min(count, len(items.train), len(items.split))
        floor = distances(features, real, train, shortest, module.device)
        metrics["classifier_fid_floor"] = floor["fid"]
        metrics["classifier_kid_floor"] = floor["kid"]
    per_class = _per_class(module, classifier.hparams.classes, made["predicted"], count)
    if per_class:
        metrics["classifier_class_accuracy"] = float(np.mean([r["accuracy"] for r in per_class]))
    return {
        "metrics": metrics,
        "per_class": per_class,
        "features": {
            "kind": "classifier",
            "classifier": shown_path(path),
            "model": classifier.hparams.model,
            "layer": "input of the last linear layer",
            "note": "classifier-feature FID/KID, not Inception FID: compare only figures "
            "computed with this classifier",
        },
    }


def _per_class(
    module: GenerationTask, called: list[str], predicted: torch.Tensor, count: int
) -> list[dict[str, Any]]:
    """A conditional model: per class, the share of its samples the classifier calls it."""
    if not module.num_classes:
        return []
    wanted = torch.arange(count) % module.num_classes
    rows = []
    for index, name in enumerate(module.hparams.classes):
        mine = predicted[wanted == index]
        right = (
            (mine == called.index(name)).float().mean()
            if name in called
            else torch.tensor(float("nan"))
        )
        rows.append({"class": name, "samples": len(mine), "accuracy": float(right)})
    return rows


def _real_batches(dataset: Any, settings: Any, limit: int | None = None) -> Any:
    """uint8 batches of ``dataset`` (a seeded random ``limit`` of it)."""
    picks = None
    if limit is not None and limit < len(dataset):
        picks = np.random.default_rng(settings.seed).choice(len(dataset), limit, replace=False)

    def stream() -> Any:
        if picks is None:
            for images, _ in batch_loader(dataset, settings.batch_size, shuffle=False):
                yield images
            return
        for start in range(0, len(picks), settings.batch_size):
            yield dataset[picks[start : start + settings.batch_size].tolist()][0]

    return stream


def _fake_batches(module: GenerationTask, settings: Any) -> Any:
    """uint8 batches of ``settings.samples`` samples (balanced classes when conditional)."""
    codes = draw_codes(module, settings.samples, settings.seed)
    labels = torch.arange(settings.samples) % module.num_classes if module.num_classes else None

    def stream() -> Any:
        module.eval()
        for start in range(0, settings.samples, settings.batch_size):
            part = slice(start, start + settings.batch_size)
            images = sample_images(module, codes[part], None if labels is None else labels[part])
            yield (images * 255).round().clamp(0, 255).to(torch.uint8)

    return stream


def load_input(module: GenerationTask, item: Input) -> np.ndarray:
    """HxWxC uint8 at the model's size and channels; refused for what cannot reconstruct."""
    if module.kind == "gan":
        raise DeepImageError(
            f"a {module.hparams.model} has no encoder; reconstruct with an ae, conv-ae, dae "
            "or vae model."
        )
    if module.num_classes:
        raise DeepImageError(
            "a conditional model needs each image's class to reconstruct it; use an "
            "unconditional one (train without --conditional)."
        )
    return input_for_model(item, module.hparams.in_channels, module.hparams.img_size)


def predict_batch(
    module: GenerationTask, images: list[np.ndarray], settings: GenerateReconstruct
) -> list[dict[str, Any]]:
    """``{mse, psnr, image}`` per image: the reconstruction error (an anomaly score) and
    the reconstruction (H x W [x C] uint8; the JSON leaves it out)."""
    x = to_chw_tensor(np.stack(images)).to(module.device).float() / 255
    with torch.inference_mode():
        out = module.reconstruct(x).float()
    mse = (out - x).pow(2).flatten(1).mean(1).cpu()
    return [
        {"mse": round(float(m), 6), "psnr": round(float(p), 3), "image": image}
        for m, p, image in zip(mse, psnr(mse), to_uint8(out), strict=True)
    ]


def write_outputs(
    module: GenerationTask, rows: list[dict[str, Any]], settings: GenerateReconstruct
) -> str | None:
    """Each file's reconstruction as ``-o/<name>.png``; rows gain ``output``."""
    if not settings.out:
        return None
    plan = plan_outputs([Path(row["path"]) for row in rows if row["path"]], settings)
    for row in rows:
        if row["path"]:
            write_image(plan[Path(row["path"])], row["image"])
            row["output"] = shown_path(plan[Path(row["path"])])
    return settings.out


def check_outputs(files: list[Path], settings: Any) -> None:
    """Refuse, before any image is read, a folder that cannot be written or files already
    in it (unless ``--overwrite``)."""
    if settings.out:
        check_writable_folder(settings.out)
        plan_outputs(files, settings)


def plan_outputs(files: list[Path], settings: Any) -> dict[Path, Path]:
    """``{input: -o/<name>.png}``, refusing existing files unless ``settings.overwrite``."""
    existing = "overwrite" if settings.overwrite else "refuse"
    return output_paths(
        [(p.parent, p) for p in files], settings.out, suffix=".png", existing=existing
    )


HOOKS = TaskHooks(
    GenerationTask,
    prepare_training,
    load_split,
    score,
    load_input,
    predict_batch,
    write_outputs=write_outputs,
    check_outputs=check_outputs,
)

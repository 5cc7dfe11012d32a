"""How good a generative model is, in numbers:

- reconstruction: mean squared error, PSNR (per image, averaged) and SSIM (torchmetrics)
  of a split through the model (a dae: of the split with Gaussian noise, beside the
  noisy images' own PSNR);
- samples: Frechet and kernel distances (torchmetrics' FID and KID, given another
  feature extractor) between samples and real images on the penultimate features of a
  deepimage classifier trained on the same data, its mean confidence on the samples and
  the entropy of the classes it calls them (1 = every class equally often); the same
  distances between the split and the training images are the floor. With the Inception
  weights file, the standard Inception FID too.

Example:
    >>> class_entropy(torch.tensor([0, 1, 2, 3]), 4), class_entropy(torch.tensor([2, 2]), 4)
    (1.0, 0.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image import StructuralSimilarityIndexMeasure
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from deepimage.data.module import batch_loader
from deepimage.errors import DeepImageError
from deepimage.tasks.generation import GenerationTask, psnr
from deepimage.tasks.generation_noise import gaussian_noise

KID_SUBSET = 1000  # images per KID subset (fewer when fewer are compared)
warnings.filterwarnings("ignore", message=".*will save all extracted features in buffer.*")


def reconstruction_metrics(
    task: GenerationTask, dataset: Any, batch_size: int, sigma: float, seed: int = 0
) -> dict[str, float]:
    """``{mse, psnr, ssim}`` of ``dataset`` through ``task`` (a dae: of its images with
    Gaussian noise ``sigma``, plus ``noisy_psnr``)."""
    ssim = StructuralSimilarityIndexMeasure(data_range=1.0).to(task.device)
    dae = task.hparams.model == "dae"
    generator = torch.Generator().manual_seed(seed)
    errors, noisy_errors = [], []
    task.eval()
    with torch.inference_mode():
        for images, labels in batch_loader(dataset, batch_size, shuffle=False):
            x = images.to(task.device).float() / 255
            if dae:
                noisy = gaussian_noise(x, sigma, generator)
                noisy_errors.append((noisy - x).pow(2).flatten(1).mean(1).cpu())
                out = task.reconstruct(noisy)
            else:
                out = task.reconstruct(x, labels.to(task.device))
            errors.append((out - x).pow(2).flatten(1).mean(1).cpu())
            ssim.update(out.float(), x)
    mse = torch.cat(errors)
    figures = {
        "mse": float(mse.mean()),
        "psnr": float(psnr(mse).mean()),
        "ssim": float(ssim.compute()),
    }
    if dae:
        figures["noisy_psnr"] = float(psnr(torch.cat(noisy_errors)).mean())
        figures["sigma"] = sigma
    return figures


class ClassifierFeatures(nn.Module):
    """A trained deepimage classifier as a feature extractor for torchmetrics' FID and
    KID: uint8 images (any size, grey or colour) in, the input of its last linear layer
    out; ``logits`` gives its class scores."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier.eval()
        linears = [m for m in classifier.inference_net.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise DeepImageError("the --features classifier has no linear layer to read.")
        self._last = linears[-1]
        self.num_features = self._last.in_features
        self._captured: torch.Tensor | None = None
        self._last.register_forward_pre_hook(self._capture)

    def _capture(self, module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        self._captured = inputs[0]

    def fit_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 N x C x H x W images at the classifier's size and channels."""
        hp = self.classifier.hparams
        x = images.float()
        if x.shape[1] != hp.in_channels:
            x = x.mean(1, keepdim=True) if hp.in_channels == 1 else x.expand(-1, 3, -1, -1)
        if x.shape[-1] != hp.img_size or x.shape[-2] != hp.img_size:
            x = F.interpolate(x, size=(hp.img_size, hp.img_size), mode="bilinear", antialias=True)
        return x.round().clamp(0, 255).to(torch.uint8)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.fit_input(images)).float()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.classifier(self.fit_input(images))
        assert self._captured is not None
        return self._captured.flatten(1).float()


def class_entropy(predicted: torch.Tensor, classes: int) -> float:
    """Entropy of the histogram of predicted classes over its maximum, log(classes)."""
    share = torch.bincount(predicted, minlength=classes).double() / max(len(predicted), 1)
    share = share[share > 0]
    return round(float(-(share * share.log()).sum() / math.log(classes)), 6) + 0.0


Batches = Callable[[], Iterator[torch.Tensor]]  # uint8 N x C x H x W batches, anew per call


def distances(
    features: nn.Module, real: Batches, fake: Batches, smallest: int, device: torch.device
) -> dict[str, float]:
    """torchmetrics' FID and KID between two image streams on ``features``; ``smallest``
    is the length of the shorter stream (KID's subsets are no larger)."""
    fid = FrechetInceptionDistance(feature=features, reset_real_features=True).to(device)
    kid = KernelInceptionDistance(
        feature=features, subset_size=min(KID_SUBSET, smallest), reset_real_features=True
    ).to(device)
    for is_real, stream in ((True, real), (False, fake)):
        for batch in stream():
            fid.update(batch.to(device), real=is_real)
            kid.update(batch.to(device), real=is_real)
    kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}


def classifier_figures(
    features: ClassifierFeatures, fake: Batches, device: torch.device
) -> dict[str, Any]:
    """The classifier's mean confidence on the samples, its class entropy and predictions."""
    confidences, predicted = [], []
    with torch.inference_mode():
        for batch in fake():
            probs = features.logits(batch.to(device)).softmax(1)
            best = probs.max(1)
            confidences.append(best.values.cpu())
            predicted.append(best.indices.cpu())
    classes = len(features.classifier.hparams.classes)
    calls = torch.cat(predicted)
    return {
        "confidence": float(torch.cat(confidences).mean()),
        "class_entropy": class_entropy(calls, classes),
        "predicted": calls,
    }


def inception_fid(weights: Path, real: Batches, fake: Batches, device: torch.device) -> float:
    """The standard FID: torch-fidelity's Inception v3 (the TF 2015-12-05 weights, read
    from ``weights``, never downloaded) through torchmetrics."""
    if not weights.is_file():
        raise DeepImageError(
            f"{weights}: no such file; pass the pt_inception-2015-12-05 weights file that "
            "torch-fidelity uses (downloadable from its GitHub releases)."
        )
    try:
        fid = FrechetInceptionDistance(feature_extractor_weights_path=str(weights)).to(device)
    except (RuntimeError, ValueError, OSError, KeyError) as error:
        raise DeepImageError(
            f"{weights}: not the Inception weights torch-fidelity reads ({str(error)[:200]})."
        ) from None
    for is_real, stream in ((True, real), (False, fake)):
        for batch in stream():
            rgb = batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch[:, :3]
            fid.update(rgb.to(device), real=is_real)
    return float(fid.compute())

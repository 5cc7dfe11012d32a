"""The generation LightningModule: uint8 batches in, scaled on the device to [0, 1]
(autoencoders, VAEs) or [-1, 1] (GANs), one of four trainings:

- ``ae``, ``conv-ae``: binary cross-entropy of the reconstruction;
- ``dae``: the mean squared error between the clean image and the network's output for a
  copy with noise it adds itself (:mod:`~deepimage.tasks.generation_noise`);
- ``vae``: the negative evidence lower bound, reconstruction (a Gaussian likelihood with
  the batch's best variance, sigma-VAE, or cross-entropy, summed over pixels) plus the KL
  divergence of the code, weighted by ``beta`` after a linear warm-up;
- ``dcgan``, ``wgan-gp``: two optimizers stepped by hand (Lightning's manual optimization):
  the discriminator (non-saturating loss) or the critic (Wasserstein loss with a gradient
  penalty, ``critic_steps`` per generator step), then the generator. Adam, constant rate.

Losses are logged as epoch means (``train/..._epoch`` in ``metrics.csv``); autoencoders are
validated on reconstruction (``val/mse``, ``val/psnr``; the dae on Gaussian noise of
``noise_level``); a grid of samples from fixed noise and one of reconstructions are
written to the run's ``plots/`` after every epoch. Optimizer, schedule and the weight
average (EMA) come from :class:`~deepimage.engine.module.TaskModule`.

Example:
    >>> import torch
    >>> task = GenerationTask(model="vae", classes=["image"], in_channels=1, img_size=28,
    ...                       latent_dim=16, width=8)
    >>> task.reconstruct(torch.zeros(2, 1, 28, 28)).shape, task.can_sample
    (torch.Size([2, 1, 28, 28]), True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from deepimage.engine.module import TaskModule
from deepimage.models import create_model, model_info
from deepimage.tasks.generation_noise import add_noise, gaussian_noise
from deepimage.tasks.generation_prior import CODES, MixturePrior
from deepimage.tasks.generation_spec import MAX_GENERATE_SIZE, NOISE_KINDS, GenerateTrain

GRID = 64  # images in the per-epoch sample and reconstruction grids


class GenerationTask(TaskModule):
    """Trains and runs a registry generative model on N x C x H x W uint8 batches."""

    task_name = "generate"
    settings_classes = (GenerateTrain,)

    def __init__(
        self,
        model: str,
        classes: list[str],
        in_channels: int,
        img_size: int,
        latent_dim: int,
        width: int,
        conditional: bool = False,
        beta: float = 1.0,
        likelihood: str = "gaussian",
        kl_warmup_steps: int = 2000,
        noise: list[str] | None = None,
        noise_level: float = 0.2,
        gp_weight: float = 10.0,
        critic_steps: int = 2,
        lr: float = 2e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 0.0,
        seed: int = 0,
        pretrained: bool = False,
        warmup_steps: int = 0,
        ema_decay: float = 0.0,
        time_budget_s: float | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "generate",
            model,
            in_channels=in_channels,
            img_size=img_size,
            latent_dim=latent_dim,
            width=width,
            num_classes=len(classes) if conditional else 0,
        )
        self.automatic_optimization = self.net.kind != "gan"
        self.ddp_unused_parameters = self.net.kind == "gan"  # each step trains one half
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}
        self._batches = 0  # GAN steps: the critic's count says when the generator steps
        self.preview: tuple[torch.Tensor, torch.Tensor] | None = None  # val images to plot
        # the mixture models the codes of all classes together: a conditional VAE's class
        # codes fit N(0, I) better (classifier-FID 110 against 125 with the mixture)
        mixture = self.net.kind == "vae" and not conditional
        self.prior = MixturePrior(dim=latent_dim) if mixture else None
        self._prior_images: tuple[torch.Tensor, torch.Tensor] | None = None
        self.init_engine()

    # ------------------------------------------------------------------ what it is
    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def can_sample(self) -> bool:
        return bool(self.net.can_sample)

    @property
    def can_encode(self) -> bool:
        """Whether images map to a code (a walk between two images needs it)."""
        return self.kind in ("ae", "vae") and self.hparams.model != "dae"

    @property
    def num_classes(self) -> int:
        return len(self.hparams.classes) if self.hparams.conditional else 0

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """The engine's checks, and: a registered model, 1 to 4 channels, a size the model
        takes, a code for every model but the dae, two classes or more when conditional.

        Example:
            >>> GenerationTask.check_hyperparameters(dict(model="vae", classes=["a"],
            ...     in_channels=1, img_size=28, latent_dim=16, width=32, conditional=True))
            Traceback (most recent call last):
            ...
            ValueError: 'conditional' needs two classes or more, not 1
        """
        super().check_hyperparameters(hparams)
        info = model_info("generate", hparams["model"])
        if not 1 <= hparams["in_channels"] <= 4:
            raise ValueError(f"'in_channels' is {hparams['in_channels']}, expected 1 to 4")
        if not info.min_size <= hparams["img_size"] <= MAX_GENERATE_SIZE:
            raise ValueError(
                f"'img_size' is {hparams['img_size']}, expected {info.min_size} to "
                f"{MAX_GENERATE_SIZE} for {info.name}"
            )
        if hparams["latent_dim"] < 1 and hparams["model"] != "dae":
            raise ValueError(f"'latent_dim' is {hparams['latent_dim']}, expected 1 or more")
        if hparams.get("conditional") and len(hparams["classes"]) < 2:
            raise ValueError(
                f"'conditional' needs two classes or more, not {len(hparams['classes'])}"
            )

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "kind": self.kind,
            "classes": list(hp.classes),
            "conditional": bool(hp.conditional),
            "latent_dim": hp.latent_dim,
            "input": {"size": hp.img_size, "channels": hp.in_channels},
        }

    # ------------------------------------------------------------------- inference
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """[0, 1] images through the model: decoded from their code (a VAE's mean), or
        denoised by the dae."""
        net = self.inference_net
        if self.hparams.model == "dae":
            return net(x).clamp(0, 1)
        return torch.sigmoid(net.decode(self.encode(x, labels), self._labels(labels)))

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The code of [0, 1] images (a VAE's mean)."""
        code = self.inference_net.encode(x, self._labels(labels))
        return code[0] if isinstance(code, tuple) else code

    def decode(self, code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """[0, 1] images from codes: a VAE's or autoencoder's decoder, a GAN's generator."""
        net = self.inference_net
        if self.kind == "gan":
            return (net.generator(code, self._labels(labels)) + 1) / 2
        return torch.sigmoid(net.decode(code, self._labels(labels)))

    def _labels(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return labels if self.num_classes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)

    # -------------------------------------------------------------------- training
    def on_train_epoch_start(self) -> None:
        # the codes a VAE draws come from the global generator: seeded per epoch for resumes
        torch.manual_seed(hash((self.hparams.seed, self.current_epoch, self.global_rank)) % 2**63)

    def _generator(self, batch_idx: int) -> torch.Generator:
        seed = hash((self.hparams.seed, self.current_epoch, batch_idx, self.global_rank))
        return torch.Generator().manual_seed(seed % 2**63)

    def _add(self, **figures: torch.Tensor) -> None:
        """Add this batch's figures to the epoch's sums (logged as means once an epoch)."""
        for name, value in figures.items():
            self._sums[name] = self._sums.get(name, 0.0) + value.detach().float()
            self._counts[name] = self._counts.get(name, 0) + 1

    def compute_loss(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        images, labels = batch
        x, labels_used = images.float() / 255, self._labels(labels)
        if self.hparams.model == "dae":
            noisy = add_noise(x, tuple(self.hparams.noise or NOISE_KINDS), self.hparams.noise_level,
                              self._generator(batch_idx))  # fmt: skip
            loss = F.mse_loss(self.net(noisy), x)
            self._add(loss=loss)
            return loss
        if self.kind == "vae":
            return self._vae_loss(x, labels_used)
        logits = self.net.decode(self.net.encode(x, labels_used), labels_used)
        loss = F.binary_cross_entropy_with_logits(logits, x)
        self._add(loss=loss)
        return loss

    def _vae_loss(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        mean, log_var = self.net.encode(x, labels)
        mean, log_var = mean.float(), log_var.float().clamp(-30, 20)
        code = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        logits = self.net.decode(code, labels).float()
        pixels = x[0].numel()
        if self.hparams.likelihood == "gaussian":
            # sigma-VAE (Rybkin et al. 2021): the shared variance that fits the batch best
            # is its mean squared error, so the Gaussian NLL is D/2 log(mse) + constant
            mse = (torch.sigmoid(logits) - x).pow(2).mean().clamp_min(1e-6)
            rec = 0.5 * pixels * mse.log()
        else:
            rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum() / len(x)
        warm = (
            min(1.0, self.global_step / self.hparams.kl_warmup_steps)
            if self.hparams.kl_warmup_steps
            else 1.0
        )
        loss = (rec + self.hparams.beta * warm * kl) / pixels
        self._add(loss=loss, reconstruction_loss=rec / pixels, kl_loss=kl)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        if self.kind != "gan":
            return super().training_step(batch, batch_idx)
        return self._gan_step(batch, batch_idx)

    def _gan_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        real, labels = images.float() / 127.5 - 1, self._labels(labels)
        net, critic = self.net, self.net.critic
        opt_g, opt_d = self.optimizers()
        noise = torch.randn(len(real), net.latent_dim, device=real.device)
        update_g = not critic or self._batches % self.hparams.critic_steps == 0
        self._batches += 1
        with torch.set_grad_enabled(update_g):
            fake = net.generator(noise, labels)
        real_scores = net.discriminator(real, labels)
        fake_scores = net.discriminator(fake.detach(), labels)
        if critic:
            d_loss = fake_scores.float().mean() - real_scores.float().mean()
            d_loss = d_loss + self.hparams.gp_weight * self._penalty(real, fake.detach(), labels)
        else:
            d_loss = F.binary_cross_entropy_with_logits(
                real_scores.float(), torch.ones_like(real_scores, dtype=torch.float32)
            ) + F.binary_cross_entropy_with_logits(
                fake_scores.float(), torch.zeros_like(fake_scores, dtype=torch.float32)
            )
        if not torch.isfinite(d_loss):
            self.skipped_steps += 1
            return None
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        opt_d.step()
        self._add(loss_d=d_loss)
        if not update_g:
            return None
        scores = net.discriminator(fake, labels).float()
        if critic:
            g_loss = -scores.mean()
        else:
            g_loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        opt_g.step()
        self._add(loss_g=g_loss)
        return None

    def _penalty(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        """WGAN-GP's penalty: (|grad of the critic| - 1)^2 at random points between real
        and fake images, in float32."""
        alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
        mixed = (alpha * real.float() + (1 - alpha) * fake.float()).requires_grad_(True)
        with torch.autocast(self.device.type, enabled=False):
            scores = self.net.discriminator(mixed, labels)
            (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        return (grads.flatten(1).norm(dim=1) - 1).pow(2).mean()

    def configure_optimizers(self) -> Any:
        if self.kind != "gan":
            return super().configure_optimizers()
        betas = (0.0, 0.9) if self.net.critic else (0.5, 0.999)
        lr = self.hparams.lr
        return [
            torch.optim.Adam(self.net.generator.parameters(), lr, betas=betas),
            torch.optim.Adam(self.net.discriminator.parameters(), lr, betas=betas),
        ]

    def on_train_epoch_end(self) -> None:
        for name, total in self._sums.items():
            self.log(f"train/{name}_epoch", total / self._counts[name], sync_dist=True)
        self._sums, self._counts = {}, {}
        if self.trainer.is_global_zero:
            from deepimage.tasks.generation_grids import write_epoch_grids

            write_epoch_grids(
                self, Path(self.trainer.default_root_dir) / "plots", self.current_epoch
            )

    # ------------------------------------------------------------------ validation
    def on_validation_epoch_start(self) -> None:
        """Before every checkpoint: a VAE's mixture prior fitted to the codes of training
        images; the averaged generator's batch-norm statistics re-estimated on its own
        samples (the averaged ones belong to other weights)."""
        if self.prior is not None:
            self.fit_prior(self.trainer.datamodule.train)
        if self.kind == "gan" and self.ema is not None:
            standing_statistics(self.ema.generator, self.hparams.seed, self.num_classes)

    def fit_prior(self, train: Any) -> None:
        """Fit the VAE's mixture prior to the codes (means) of up to
        :data:`~deepimage.tasks.generation_prior.CODES` seeded training images."""
        if self._prior_images is None:
            count = min(CODES, len(train))
            picks = torch.randperm(
                len(train), generator=torch.Generator().manual_seed(self.hparams.seed)
            )
            self._prior_images = train[picks[:count].tolist()]
        images, labels = self._prior_images
        was_training = self.training
        self.eval()
        with torch.no_grad():
            codes = torch.cat([
                self.encode(images[i : i + 512].to(self.device).float() / 255, labels[i : i + 512].to(self.device)).float()
                for i in range(0, len(images), 512)
            ])  # fmt: skip
        self.prior.fit(codes, self.hparams.seed)
        self.train(was_training)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        if self.kind == "gan":
            return
        images, labels = batch
        x = images.float() / 255
        if self.hparams.model == "dae":
            noisy = gaussian_noise(
                x, self.hparams.noise_level, torch.Generator().manual_seed(batch_idx)
            )
            out = self.reconstruct(noisy)
        else:
            out = self.reconstruct(x, labels)
        mse = (out - x).pow(2).flatten(1).mean(1)
        self.log("val/mse", mse.mean(), batch_size=len(x), sync_dist=True)
        self.log("val/psnr", psnr(mse).mean(), batch_size=len(x), prog_bar=True, sync_dist=True)


def psnr(mse: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of [0, 1] images from their mean squared errors.

    Example:
        >>> psnr(torch.tensor([0.01, 0.0])).tolist()
        [20.0, 100.0]
    """
    return 10 * torch.log10(1 / mse.clamp_min(1e-10))


def standing_statistics(
    generator: torch.nn.Module, seed: int, classes: int, batches: int = 16, size: int = 256
) -> None:
    """Reset the batch-norm statistics of ``generator`` and re-estimate them, as a
    cumulative average, from ``batches`` batches of its samples of seeded noise."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    generator.train()
    numbers = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    with torch.no_grad():
        for _ in range(batches):
            noise = torch.randn(size, generator.latent_dim, generator=numbers).to(device)
            labels = (
                torch.randint(classes, (size,), generator=numbers).to(device) if classes else None
            )
            generator(noise, labels)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    generator.eval()

"""Generative models for the ``generate`` task, each for grey or colour images of any small
size and optionally class-conditional (``num_classes`` > 0):

- ``ae``: the dense autoencoder of the mission (784-64-32 on 28x28 grey images);
- ``conv-ae``: a convolutional autoencoder with a dense code;
- ``dae``: a denoising autoencoder, a small U-Net that predicts the clean image from a
  noisy one; fully convolutional, so it denoises images of any size;
- ``vae``: a convolutional variational autoencoder (mean and log-variance of the code);
- ``dcgan`` and ``wgan-gp``: a DCGAN generator with a discriminator (batch norm) or a
  critic (layer norm, as a gradient penalty needs); the discriminators of conditional
  models are projection discriminators (Miyato & Koyama, 2018).

Every model says what it can do: ``kind`` ("ae", "vae", "gan"), ``latent_dim`` (0 for the
U-Net, which has no single code), ``can_sample``. Outputs are in [0, 1] for autoencoders
and VAEs (logits come out of ``decode``) and in [-1, 1] for generators (tanh).

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("generate", "vae", in_channels=1, img_size=28)
    >>> mean, log_var = net.encode(torch.zeros(2, 1, 28, 28))
    >>> net.decode(mean).shape, net.kind, net.can_sample
    (torch.Size([2, 1, 28, 28]), 'vae', True)
    >>> create_model("generate", "dcgan", in_channels=3, img_size=40).generator(torch.zeros(2, 100)).shape
    torch.Size([2, 3, 40, 40])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from deepimage.models.registry import register


def conv_stages(img_size: int) -> tuple[int, int]:
    """(stride-2 stages, side of the smallest feature map) for an image side: two stages
    at least, more while the smallest map would stay 4 pixels or more, five at most; the
    network works at ``base * 2**stages`` (at least ``img_size``) and crops.

    Example:
        >>> [conv_stages(s) for s in (8, 28, 32, 64, 100)]
        [(2, 2), (2, 7), (3, 4), (4, 4), (4, 7)]
    """
    stages = 2
    while stages < 5 and img_size / 2 ** (stages + 1) >= 4:
        stages += 1
    return stages, math.ceil(img_size / 2**stages)


def _pad_to(x: torch.Tensor, side: int) -> torch.Tensor:
    extra = side - x.shape[-1]
    return F.pad(x, (0, extra, 0, extra)) if extra else x


def _crop(x: torch.Tensor, side: int) -> torch.Tensor:
    return x[..., :side, :side]


def _one_hot(labels: torch.Tensor | None, classes: int, like: torch.Tensor) -> torch.Tensor:
    """One-hot rows for a conditional model (an empty tensor for an unconditional one)."""
    if not classes:
        return like.new_zeros(len(like), 0)
    if labels is None:
        raise ValueError("a conditional model needs class labels")
    return F.one_hot(labels, classes).to(like.dtype)


class ConvEncoder(nn.Module):
    """Image (+ label maps) -> a flat feature vector: stride-2 convolutions, doubling widths."""

    def __init__(self, in_channels: int, img_size: int, width: int, norm: str = "batch") -> None:
        super().__init__()
        self.stages, self.base = conv_stages(img_size)
        layers: list[nn.Module] = []
        channels, side = in_channels, self.base * 2**self.stages
        for stage in range(self.stages):
            out = width * 2**stage
            side //= 2
            layers.append(nn.Conv2d(channels, out, 4, 2, 1, bias=stage == 0 or norm == "none"))
            if stage > 0 and norm == "batch":
                layers.append(nn.BatchNorm2d(out))
            elif stage > 0 and norm == "layer":
                layers.append(nn.GroupNorm(1, out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels = out
        self.body = nn.Sequential(*layers)
        self.features = channels * self.base * self.base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(_pad_to(x, self.base * 2**self.stages)).flatten(1)


class ConvDecoder(nn.Module):
    """A code -> an image: a dense layer to the smallest map, then transposed convolutions
    halving widths (the DCGAN generator); returns pre-activation outputs."""

    def __init__(self, code: int, out_channels: int, img_size: int, width: int) -> None:
        super().__init__()
        self.img_size = img_size
        stages, base = conv_stages(img_size)
        channels = width * 2**stages
        self.stem = nn.Sequential(
            nn.Linear(code, channels * base * base, bias=False),
            nn.Unflatten(1, (channels, base, base)),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        layers.append(nn.ConvTranspose2d(channels, out_channels, 4, 2, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return _crop(self.body(self.stem(code)), self.img_size)


class DenseAutoencoder(nn.Module):
    """The mission's dense autoencoder: pixels -> hidden -> code -> hidden -> pixels."""

    kind, can_sample = "ae", False

    def __init__(
        self, in_channels: int, img_size: int, latent_dim: int, hidden: int, num_classes: int
    ) -> None:
        super().__init__()
        self.shape = (in_channels, img_size, img_size)
        pixels, self.latent_dim, self.num_classes = math.prod(self.shape), latent_dim, num_classes
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim + num_classes, hidden),
            nn.ReLU(),
            nn.Linear(hidden, pixels),
            nn.Unflatten(1, self.shape),
        )

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of the pixels (sigmoid gives the image)."""
        return self.decoder(torch.cat([code, _one_hot(labels, self.num_classes, code)], 1))


class ConvAutoencoder(nn.Module):
    """Convolutional encoder and decoder around a dense code; ``variational`` makes the
    code a Gaussian (``encode`` returns its mean and log-variance)."""

    def __init__(
        self,
        in_channels: int,
        img_size: int,
        latent_dim: int,
        width: int,
        num_classes: int,
        variational: bool = False,
    ) -> None:
        super().__init__()
        self.kind = "vae" if variational else "ae"
        self.can_sample = variational
        self.latent_dim, self.num_classes, self.img_size = latent_dim, num_classes, img_size
        self.encoder = ConvEncoder(in_channels + num_classes, img_size, width)
        self.to_code = nn.Linear(self.encoder.features, latent_dim * (2 if variational else 1))
        self.decoder = ConvDecoder(latent_dim + num_classes, in_channels, img_size, width)

    def encode(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if self.num_classes:
            maps = _one_hot(labels, self.num_classes, x)[:, :, None, None]
            x = torch.cat([x, maps.expand(-1, -1, *x.shape[-2:])], 1)
        code = self.to_code(self.encoder(x))
        return code.chunk(2, dim=1) if self.kind == "vae" else code

    def decode(self, code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of the pixels (sigmoid gives the image)."""
        return self.decoder(torch.cat([code, _one_hot(labels, self.num_classes, code)], 1))


class DenoisingUNet(nn.Module):
    """A three-level U-Net that adds a correction to its input: trained on noisy -> clean
    pairs, it denoises images of any size (padded to a multiple of 4 inside)."""

    kind, can_sample, latent_dim, num_classes = "ae", False, 0, 0

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True),
            )  # fmt: skip

        self.down1, self.down2 = block(in_channels, width), block(width, 2 * width)
        self.bottom = block(2 * width, 4 * width)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, 2)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 2, 2)
        self.merge2, self.merge1 = block(4 * width, 2 * width), block(2 * width, width)
        self.head = nn.Conv2d(width, in_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The denoised image (unclipped) for images in [0, 1]."""
        height, width = x.shape[-2:]
        padded = F.pad(x, (0, -width % 4, 0, -height % 4), mode="replicate")
        d1 = self.down1(padded)
        d2 = self.down2(F.max_pool2d(d1, 2))
        bottom = self.bottom(F.max_pool2d(d2, 2))
        m2 = self.merge2(torch.cat([self.up2(bottom), d2], 1))
        m1 = self.merge1(torch.cat([self.up1(m2), d1], 1))
        return (padded + self.head(m1))[..., :height, :width]


class Discriminator(nn.Module):
    """A DCGAN discriminator (or WGAN critic): one score per image; conditional models add
    the projection of a class embedding onto the features."""

    def __init__(
        self, in_channels: int, img_size: int, width: int, num_classes: int, norm: str
    ) -> None:
        super().__init__()
        self.features = ConvEncoder(in_channels, img_size, width, norm)
        self.score = nn.Linear(self.features.features, 1)
        self.embed = nn.Embedding(num_classes, self.features.features) if num_classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        out = self.score(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional model needs class labels")
            out = out + (self.embed(labels) * h).sum(1)
        return out


class Generator(nn.Module):
    """Noise (+ a one-hot class) -> an image in [-1, 1]."""

    def __init__(
        self, in_channels: int, img_size: int, latent_dim: int, width: int, num_classes: int
    ) -> None:
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.decoder = ConvDecoder(latent_dim + num_classes, in_channels, img_size, width)

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        code = torch.cat([noise, _one_hot(labels, self.num_classes, noise)], 1)
        return torch.tanh(self.decoder(code))


class GAN(nn.Module):
    """A generator and its discriminator (or critic), trained against each other."""

    kind, can_sample = "gan", True

    def __init__(
        self,
        in_channels: int,
        img_size: int,
        latent_dim: int,
        width: int,
        num_classes: int,
        critic: bool,
    ) -> None:
        super().__init__()
        self.latent_dim, self.num_classes, self.critic = latent_dim, num_classes, critic
        self.generator = Generator(in_channels, img_size, latent_dim, width, num_classes)
        norm = "layer" if critic else "batch"
        self.discriminator = Discriminator(in_channels, img_size, width, num_classes, norm)
        self.apply(_dcgan_init)


def _dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


_MODELS: dict[str, tuple[str, int, int, Callable[..., nn.Module]]] = {
    # name: (summary, default code size, default width, (channels, size, code, width, classes) -> net)
    "ae": ("Dense autoencoder 784-64-32; reconstructs", 32, 64, DenseAutoencoder),
    "conv-ae": ("Convolutional autoencoder, dense 32-d code; reconstructs", 32, 32, ConvAutoencoder),
    "dae": ("Denoising U-Net autoencoder; denoises images of any size", 0, 32,
            lambda channels, size, code, width, classes: DenoisingUNet(channels, width)),
    "vae": ("Convolutional VAE, 64-d code; samples, reconstructs, walks", 64, 32,
            partial(ConvAutoencoder, variational=True)),
    "dcgan": ("DCGAN generator and discriminator; samples, walks", 100, 64,
              partial(GAN, critic=False)),
    "wgan-gp": ("DCGAN generator, layer-norm critic, gradient penalty", 100, 64,
                partial(GAN, critic=True)),
}  # fmt: skip

DEFAULTS = {
    name: {"latent_dim": code, "width": width} for name, (_, code, width, _) in _MODELS.items()
}
"""Each model's code size and width (the dense autoencoder's hidden layer) by default."""


def _builder(make: Callable[..., nn.Module], code: int, width: int) -> Callable[..., nn.Module]:
    def build(
        in_channels: int = 1,
        img_size: int = 28,
        latent_dim: int = code,
        width: int = width,
        num_classes: int = 0,
    ) -> nn.Module:
        return make(in_channels, img_size, latent_dim, width, num_classes)

    return build


for _name, (_summary, _code, _width, _make) in _MODELS.items():
    register("generate", _name, _summary)(_builder(_make, _code, _width))

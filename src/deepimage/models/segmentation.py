"""Semantic segmentation networks: a small U-Net for CPUs, torchvision's FCN, DeepLabV3 and
LR-ASPP, and U-Net with its relatives from segmentation_models_pytorch.

Every builder takes ``num_classes``, ``in_channels`` and ``pretrained`` and returns a
module mapping an N x C x H x W float batch, of any H and W, to N x K x H x W logits (inputs
are padded to the network's stride inside, and the logits cropped back). ``pretrained``
starts the encoder from ImageNet weights (needs internet); grey inputs are repeated to
three channels for torchvision's networks, whose stems take RGB.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("segment", "small-unet", num_classes=3, in_channels=1).eval()
    >>> net(torch.zeros(1, 1, 50, 70)).shape
    torch.Size([1, 3, 50, 70])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import segmentation as tv

from deepimage.engine.devices import torch_device
from deepimage.errors import DeepImageError
from deepimage.models.pretrained import build_with_weights, default_weights
from deepimage.models.registry import create_model, forward_ms, register


class Padded(nn.Module):
    """Runs ``net`` on the input padded (reflected) to a multiple of ``multiple`` and crops
    the logits back; ``repeat_grey`` feeds a one-channel batch as three channels."""

    def __init__(self, net: nn.Module, multiple: int, repeat_grey: bool = False) -> None:
        super().__init__()
        self.net, self.multiple, self.repeat_grey = net, multiple, repeat_grey

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if self.repeat_grey:
            x = x.expand(-1, 3, -1, -1)
        bottom, right = -height % self.multiple, -width % self.multiple
        if bottom or right:
            mode = "reflect" if bottom < height and right < width else "replicate"
            x = F.pad(x, (0, right, 0, bottom), mode=mode)
        out = self.net(x)
        if isinstance(out, dict):  # torchvision's {"out": ..., "aux": ...}
            out = out["out"]
        return out[..., :height, :width]


def double_conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """Two 3x3 convolutions (the first with ``stride``), each with batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SmallUNet(nn.Module):
    """Ronneberger et al.'s U-Net at a fraction of its width: ``depth`` poolings with
    ``width``, 2x ``width``, ... channels, batch norm, bilinear up-sampling and skip
    concatenations; 'same' padding, so the output has the input's size (a multiple of
    2 ** ``depth``)."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 16, depth: int = 4) -> None:
        super().__init__()
        widths = [width * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList([double_conv(in_channels, widths[0])])
        self.down.extend(double_conv(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(
            double_conv(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for index, block in enumerate(self.down):
            x = block(x if index == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for block in self.up:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return self.head(x)


def _no_weights(name: str, pretrained: bool) -> None:
    if pretrained:
        raise DeepImageError(
            f"{name} has no published pretrained weights; train from scratch or pass --weights FILE."
        )


@register(
    "segment", "small-unet", "U-Net, 16-256 channels, batch norm, 1.9M params: the CPU choice"
)
def small_unet(num_classes: int, in_channels: int = 3, pretrained: bool = False) -> nn.Module:
    """:class:`SmallUNet` with widths 16 to 256 over four poolings."""
    _no_weights("small-unet", pretrained)
    return Padded(SmallUNet(in_channels, num_classes), 16)


TORCHVISION = [
    # (builder, backbone weights enum, summary)
    ("fcn_resnet50", "ResNet50_Weights", "torchvision FCN, ResNet-50 (dilated)"),
    ("deeplabv3_resnet50", "ResNet50_Weights", "torchvision DeepLabV3, ResNet-50 (dilated)"),
    (
        "deeplabv3_mobilenet_v3_large",
        "MobileNet_V3_Large_Weights",
        "torchvision DeepLabV3, MobileNetV3-Large",
    ),
    (
        "lraspp_mobilenet_v3_large",
        "MobileNet_V3_Large_Weights",
        "torchvision LR-ASPP, MobileNetV3-Large: fast",
    ),
]


def _torchvision(name: str, backbone_enum: str) -> Callable[..., nn.Module]:
    def build(num_classes: int, in_channels: int = 3, pretrained: bool = False) -> nn.Module:
        if in_channels not in (1, 3):
            raise DeepImageError(f"{name} takes grey or RGB images, not {in_channels} channels")
        backbone = default_weights(backbone_enum, pretrained)
        extra: dict[str, Any] = {} if name.startswith("lraspp") else {"aux_loss": False}
        net = build_with_weights(
            getattr(tv, name),
            backbone,
            weights=None,
            weights_backbone=backbone,
            num_classes=num_classes,
            **extra,
        )
        return Padded(net, 8, repeat_grey=in_channels == 1)

    build.__doc__ = f"torchvision's {name} for ``num_classes`` classes."
    return build


SMP = [
    # (name, smp architecture, encoder, summary)
    ("unet", "Unet", "resnet34", "U-Net, ResNet-34 encoder (segmentation_models_pytorch)"),
    ("unet-resnet18", "Unet", "resnet18", "U-Net, ResNet-18 encoder (segmentation_models_pytorch)"),
    (
        "unet-mobilenet",
        "Unet",
        "mobilenet_v2",
        "U-Net, MobileNetV2 encoder (segmentation_models_pytorch)",
    ),
    (
        "unetplusplus",
        "UnetPlusPlus",
        "resnet34",
        "U-Net++, ResNet-34 (segmentation_models_pytorch)",
    ),
    ("fpn", "FPN", "resnet34", "FPN, ResNet-34 (segmentation_models_pytorch)"),
    (
        "deeplabv3plus",
        "DeepLabV3Plus",
        "resnet34",
        "DeepLabV3+, ResNet-34 (segmentation_models_pytorch)",
    ),
]


def _smp(name: str, architecture: str, encoder: str) -> Callable[..., nn.Module]:
    def build(num_classes: int, in_channels: int = 3, pretrained: bool = False) -> nn.Module:
        import segmentation_models_pytorch as smp  # imports timm: only when one is built

        try:
            net = getattr(smp, architecture)(
                encoder_name=encoder,
                encoder_weights="imagenet" if pretrained else None,
                in_channels=in_channels,
                classes=num_classes,
            )
        except (OSError, ConnectionError) as error:
            raise DeepImageError(
                f"could not download the ImageNet weights of {name}'s {encoder} encoder "
                f"({error}); without internet, pass --weights FILE or train from scratch "
                "without --pretrained."
            ) from None
        return Padded(net, 32)

    build.__doc__ = f"segmentation_models_pytorch's {architecture} with a {encoder} encoder."
    return build


def latency_ms(name: str, img_size: int = 512, device: str = "auto", repeats: int = 5) -> float:
    """Milliseconds one ``img_size`` RGB image takes through ``name`` (eval mode, 2 classes):
    the median of ``repeats`` images after a warm-up call.

    Example:
        >>> latency_ms("small-unet", img_size=64, repeats=1) > 0
        True
    """
    target = torch_device(device)
    net = create_model("segment", name, num_classes=2, in_channels=3).eval().to(target)
    return forward_ms(net, torch.rand(1, 3, img_size, img_size, device=target), target, repeats)


for _name, _enum, _summary in TORCHVISION:
    register("segment", _name, _summary, 32)(_torchvision(_name, _enum))
for _name, _architecture, _encoder, _summary in SMP:
    register("segment", _name, _summary, 32)(_smp(_name, _architecture, _encoder))

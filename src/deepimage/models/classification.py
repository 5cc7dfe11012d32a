"""Image classifiers: the mission's small CNN, LeNet-5, a compact ResNet for small images,
and torchvision's ResNet / MobileNetV3 / EfficientNet adapted to any channel count and to
small inputs.

Every builder takes ``num_classes``, ``in_channels``, ``img_size`` and ``pretrained``.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("classify", "resnet18", num_classes=10, in_channels=1, img_size=28)
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torchvision
from torch import nn

from deepimage.errors import DeepImageError
from deepimage.models.pretrained import build_with_weights, default_weights
from deepimage.models.registry import register

SMALL_INPUT = 64  # below this side, torchvision stems lose their early downsampling


def _conv_out(size: int, kernel: int, pool: int = 2) -> int:
    """Side length after a 'valid' convolution followed by max-pooling."""
    return (size - kernel + 1) // pool


def refuse_pretrained(name: str, pretrained: bool) -> None:
    """A clear error when ``pretrained`` is asked of a model that has no published weights."""
    if pretrained:
        raise DeepImageError(
            f"{name} has no published pretrained weights; train from scratch or pass --weights FILE."
        )


@register("classify", "small-cnn", "the classic small CNN: 2 conv + 2 dense, 0.1M params", 10)
def small_cnn(
    num_classes: int, in_channels: int = 1, img_size: int = 28, pretrained: bool = False
) -> nn.Module:
    """conv 32 3x3 ReLU, max-pool 2, conv 64 3x3 ReLU, max-pool 2, dense 64 ReLU, dense N.

    Each ReLU runs after its max-pool: the same function and gradients (max and ReLU
    commute), on a quarter of the values (8% faster training on a CPU); the parameter
    names are those of the conv-ReLU-pool order.
    """
    refuse_pretrained("small-cnn", pretrained)
    side = _conv_out(_conv_out(img_size, 3), 3)
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3),
        nn.MaxPool2d(2),
        nn.ReLU(inplace=True),
        nn.Conv2d(32, 64, 3),
        nn.MaxPool2d(2),
        nn.ReLU(inplace=True),
        nn.Flatten(),
        nn.Linear(64 * side * side, 64),
        nn.ReLU(inplace=True),
        nn.Linear(64, num_classes),
    )


@register("classify", "lenet5", "LeCun's LeNet-5 (padded 5x5 convs, ReLU, max-pool)", 8)
def lenet5(
    num_classes: int, in_channels: int = 1, img_size: int = 28, pretrained: bool = False
) -> nn.Module:
    """LeNet-5: conv 6 5x5 (padded), pool, conv 16 5x5, pool, dense 120, 84, N (each ReLU
    after its pool, as in :func:`small_cnn`)."""
    refuse_pretrained("lenet5", pretrained)
    side = _conv_out(img_size // 2, 5)
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2),
        nn.MaxPool2d(2),
        nn.ReLU(inplace=True),
        nn.Conv2d(6, 16, 5),
        nn.MaxPool2d(2),
        nn.ReLU(inplace=True),
        nn.Flatten(),
        nn.Linear(16 * side * side, 120),
        nn.ReLU(inplace=True),
        nn.Linear(120, 84),
        nn.ReLU(inplace=True),
        nn.Linear(84, num_classes),
    )


def conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """A padded 3x3 convolution (no bias), batch norm and ReLU.

    Example:
        >>> conv_bn(1, 8, stride=2)(torch.zeros(1, 1, 16, 16)).shape
        torch.Size([1, 8, 8, 8])
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    """Two 3x3 conv-BN layers with an identity shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(channels, channels), conv_bn(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@register("classify", "fast-cnn", "VGG-style CNN with batch norm: most accuracy per CPU second", 8)
def fast_cnn(
    num_classes: int, in_channels: int = 1, img_size: int = 28, pretrained: bool = False
) -> nn.Module:
    """Two conv-BN pairs at full and half resolution (32 and 64 filters), dense 256, dropout."""
    refuse_pretrained("fast-cnn", pretrained)
    return nn.Sequential(
        conv_bn(in_channels, 32),
        conv_bn(32, 32),
        nn.MaxPool2d(2),
        nn.Dropout(0.1),
        conv_bn(32, 64),
        conv_bn(64, 64),
        nn.MaxPool2d(2),
        nn.Dropout(0.2),
        nn.Conv2d(64, 128, 3, padding=1, bias=False),
        nn.BatchNorm2d(128),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(128 * 4, 256),
        nn.ReLU(inplace=True),
        nn.Dropout(0.3),
        nn.Linear(256, num_classes),
    )


@register(
    "classify", "resnet-mini", "compact ResNet for small images: best accuracy per CPU second", 8
)
def resnet_mini(
    num_classes: int, in_channels: int = 1, img_size: int = 28, pretrained: bool = False
) -> nn.Module:
    """A ResNet-9-style network (widths 32/64/128) sized for 28-64 px images on a CPU."""
    refuse_pretrained("resnet-mini", pretrained)
    return nn.Sequential(
        conv_bn(in_channels, 32),
        conv_bn(32, 64),
        nn.MaxPool2d(2),
        _Residual(64),
        conv_bn(64, 128),
        nn.MaxPool2d(2),
        _Residual(128),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(128, num_classes),
    )


def first_conv_for(conv: nn.Conv2d | nn.Conv3d, in_channels: int, small: bool) -> nn.Module:
    """A copy of ``conv`` (2-D, or 3-D for clips) taking ``in_channels`` inputs (and a 3x3
    stride-1 kernel for small images: 2-D only).

    Pretrained RGB filters are summed over colour for one channel and repeated otherwise.

    Example:
        >>> stem = nn.Conv3d(3, 8, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        >>> first_conv_for(stem, 1, small=False)
        Conv3d(1, 8, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
    """
    kernel, stride, padding = conv.kernel_size, conv.stride, conv.padding
    if small:
        kernel, stride, padding = (3, 3), (1, 1), (1, 1)
    new = type(conv)(
        in_channels, conv.out_channels, kernel, stride, padding, bias=conv.bias is not None
    )
    if not small and conv.in_channels == 3 and in_channels != 3:
        with torch.no_grad():
            mean = conv.weight.sum(dim=1, keepdim=True) / in_channels
            new.weight.copy_(mean.repeat(1, in_channels, *[1] * (conv.weight.dim() - 2)))
    return new


def _torchvision_builder(
    arch: str, weights_enum: str, adapt: Callable[[nn.Module, int, bool, int], None]
) -> Callable[..., nn.Module]:
    def build(
        num_classes: int, in_channels: int = 3, img_size: int = 224, pretrained: bool = False
    ) -> nn.Module:
        weights = default_weights(weights_enum, pretrained)
        net = build_with_weights(getattr(torchvision.models, arch), weights, weights=weights)
        adapt(net, in_channels, img_size < SMALL_INPUT, num_classes)
        return net

    build.__doc__ = f"torchvision's {arch}, adapted to the input channels, size and classes."
    return build


def _adapt_resnet(net: nn.Module, in_channels: int, small: bool, num_classes: int) -> None:
    net.conv1 = first_conv_for(net.conv1, in_channels, small)
    if small:
        net.maxpool = nn.Identity()
    net.fc = nn.Linear(net.fc.in_features, num_classes)


def _adapt_features_classifier(
    net: nn.Module, in_channels: int, small: bool, num_classes: int
) -> None:
    net.features[0][0] = first_conv_for(net.features[0][0], in_channels, small)
    last = net.classifier[-1]
    net.classifier[-1] = nn.Linear(last.in_features, num_classes)


for _arch, _enum, _adapt, _summary in [
    ("resnet18", "ResNet18_Weights", _adapt_resnet, "torchvision ResNet-18 (11M params)"),
    ("resnet34", "ResNet34_Weights", _adapt_resnet, "torchvision ResNet-34 (21M params)"),
    ("resnet50", "ResNet50_Weights", _adapt_resnet, "torchvision ResNet-50 (24M params)"),
    (
        "mobilenet_v3_small",
        "MobileNet_V3_Small_Weights",
        _adapt_features_classifier,
        "torchvision MobileNetV3-Small (1.5M params)",
    ),
    (
        "mobilenet_v3_large",
        "MobileNet_V3_Large_Weights",
        _adapt_features_classifier,
        "torchvision MobileNetV3-Large (4.2M params)",
    ),
    (
        "efficientnet_b0",
        "EfficientNet_B0_Weights",
        _adapt_features_classifier,
        "torchvision EfficientNet-B0 (4.0M params)",
    ),
]:
    register("classify", _arch.replace("_", "-"), _summary, 16)(
        _torchvision_builder(_arch, _enum, _adapt)
    )

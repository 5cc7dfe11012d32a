"""Clip classifiers, registered under task ``video``: N x C x T x H x W float clips in
(channels, then frames), N x classes logits out.

``cnn-gru`` (the default) and ``cnn-lstm`` run one small CNN on every frame (conv-BN-ReLU
blocks, each halving the side, then a 4 x 4 average grid, so that where things are is
kept, and a dense layer) and a recurrent layer over the frames' features; the class comes
from its last step. ``r3d-18``, ``mc3-18`` and ``r2plus1d-18`` are torchvision's video
ResNets (3-D, mixed and (2+1)-D convolutions), their stem adapted to the channel count;
``pretrained`` loads their Kinetics-400 weights.

Every builder takes ``num_classes``, ``in_channels``, ``img_size`` and ``pretrained``.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("video", "cnn-gru", num_classes=4, in_channels=1, img_size=32)
    >>> net(torch.zeros(2, 1, 16, 32, 32)).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torchvision
from torch import nn

from deepimage.models.classification import conv_bn, first_conv_for, refuse_pretrained
from deepimage.models.pretrained import build_with_weights, default_weights
from deepimage.models.registry import register

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}
WIDTHS = (16, 32, 64)  # filters of the frame CNN's blocks, each halving the side
FEATURES = 128  # per frame, into the recurrent layer
GRID = 4  # the frame CNN's output is averaged to GRID x GRID cells


class FrameRecurrent(nn.Module):
    """A per-frame CNN, then a GRU or LSTM over the frames, then a dense layer."""

    def __init__(
        self,
        cell: str,
        num_classes: int,
        in_channels: int,
        widths: tuple[int, ...] = WIDTHS,
        features: int = FEATURES,
        hidden: int = FEATURES,
    ) -> None:
        super().__init__()
        blocks = [
            conv_bn(c_in, c_out, stride=2)
            for c_in, c_out in zip((in_channels, *widths[:-1]), widths, strict=True)
        ]
        self.frames = nn.Sequential(
            *blocks,
            nn.AdaptiveAvgPool2d(GRID),
            nn.Flatten(),
            nn.Linear(widths[-1] * GRID * GRID, features),
            nn.ReLU(inplace=True),
        )
        self.rnn = CELLS[cell](features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c, h, w)
        out, _ = self.rnn(self.frames(frames).view(n, t, -1))
        return self.head(out[:, -1])


def _recurrent_builder(cell: str) -> Callable[..., nn.Module]:
    def build(
        num_classes: int, in_channels: int = 3, img_size: int = 112, pretrained: bool = False
    ) -> nn.Module:
        refuse_pretrained(f"cnn-{cell}", pretrained)
        return FrameRecurrent(cell, num_classes, in_channels)

    build.__doc__ = (
        f"Frame CNN ({'/'.join(map(str, WIDTHS))} filters), {cell.upper()} {FEATURES}, dense."
    )
    return build


def _torchvision_builder(arch: str, weights_enum: str) -> Callable[..., nn.Module]:
    def build(
        num_classes: int, in_channels: int = 3, img_size: int = 112, pretrained: bool = False
    ) -> nn.Module:
        weights = default_weights(weights_enum, pretrained)
        net = build_with_weights(getattr(torchvision.models.video, arch), weights, weights=weights)
        net.stem[0] = first_conv_for(net.stem[0], in_channels, small=False)
        net.fc = nn.Linear(net.fc.in_features, num_classes)
        return net

    build.__doc__ = f"torchvision's {arch}, adapted to the input channels and classes."
    return build


for _cell in CELLS:
    register(
        "video",
        f"cnn-{_cell}",
        f"per-frame CNN, then {'an' if _cell == 'lstm' else 'a'} {_cell.upper()}: fast on a CPU (0.3M params)",
        16,
    )(_recurrent_builder(_cell))

for _arch, _enum, _summary in [
    ("r3d_18", "R3D_18_Weights", "torchvision ResNet3D-18, 3-D convolutions (33M params)"),
    ("mc3_18", "MC3_18_Weights", "torchvision MC3-18, 3-D then 2-D convolutions (12M params)"),
    (
        "r2plus1d_18",
        "R2Plus1D_18_Weights",
        "torchvision R(2+1)D-18, split space/time convolutions (31M params)",
    ),
]:
    register("video", _arch.replace("_", "-"), _summary, 16)(_torchvision_builder(_arch, _enum))

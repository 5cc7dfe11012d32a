"""``fcos-tiny``: torchvision's anchor-free FCOS on a small convolutional backbone with a
feature pyramid (strides 8, 16, 32), made to train from scratch in a minute on a CPU
(simple data such as the demo's generated shapes), where the torchvision detectors need
pretrained weights or hours.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("detect", "fcos-tiny", num_classes=3, img_size=96).eval()
    >>> sorted(net([torch.rand(3, 96, 96)])[0])
    ['boxes', 'labels', 'scores']
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models.detection import FCOS
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

from deepimage.models.registry import register
from deepimage.models.segmentation import double_conv

WIDTHS = (16, 32, 64, 96, 128)
"""Channels of the five stride-2 stages (strides 2 to 32)."""
PYRAMID = 64
"""Channels of the pyramid levels and of FCOS's heads."""


class TinyPyramid(nn.Module):
    """The backbone: five stages, the last three (strides 8, 16, 32) through an FPN, plus
    P6 and P7 as FCOS uses them: five maps of :data:`PYRAMID` channels."""

    out_channels = PYRAMID

    def __init__(self) -> None:
        super().__init__()
        widths = (3, *WIDTHS)
        self.stages = nn.ModuleList(
            double_conv(a, b, stride=2) for a, b in itertools.pairwise(widths)
        )
        self.fpn = FeaturePyramidNetwork(
            list(WIDTHS[2:]), PYRAMID, extra_blocks=LastLevelP6P7(PYRAMID, PYRAMID)
        )

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        features = OrderedDict()
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index >= 2:
                features[str(index)] = x
        return self.fpn(features)


@register(
    "detect", "fcos-tiny", "one-stage FCOS, small CNN + FPN, 0.8M params: trains from scratch", 32
)
def fcos_tiny(num_classes: int, pretrained: bool = False, img_size: int | None = None) -> nn.Module:
    """FCOS with :class:`TinyPyramid` for ``num_classes`` classes (+ background); there
    are no pretrained weights, so ``pretrained`` is refused."""
    if pretrained:
        from deepimage.errors import DeepImageError

        raise DeepImageError("fcos-tiny has no pretrained weights; train it with --no-pretrained")
    side = img_size or 320
    anchors = AnchorGenerator(
        sizes=tuple((s,) for s in (8, 16, 32, 64, 128)), aspect_ratios=((1.0,),) * 5
    )
    return FCOS(
        TinyPyramid(),
        num_classes + 1,
        min_size=side,
        max_size=side,
        anchor_generator=anchors,
        score_thresh=0.05,
        detections_per_img=100,
    )

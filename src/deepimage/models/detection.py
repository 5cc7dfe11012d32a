"""Object detectors from torchvision, with any number of classes: two-stage Faster R-CNN
and one-stage RetinaNet, FCOS, SSD300 and SSDlite320.

Names are torchvision's builder names; ``pretrained`` starts the backbone from torchvision's
ImageNet weights (needs internet). ``img_size`` is the longer image side the model resizes
to (SSD models have their own fixed size). Class indices are 1-based: 0 is background.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("detect", "ssdlite320_mobilenet_v3_large", num_classes=2).eval()
    >>> out = net([torch.rand(3, 240, 320)])
    >>> sorted(out[0])
    ['boxes', 'labels', 'scores']
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import detection

from deepimage.engine.devices import torch_device
from deepimage.models.pretrained import build_with_weights, default_weights
from deepimage.models.registry import create_model, forward_ms, register
from deepimage.models.roi_align import MatmulRoIAlign

RESIZABLE = {"fasterrcnn", "retinanet", "fcos"}  # families that take min_size / max_size
FASTER_RCNN_OPTIONS = {"box_batch_size_per_image": 128}
"""Region proposals sampled per training image for the box head: torchvision's 512 spends
most of a CPU step in the head (3.5x slower at 320 px); 128 still holds 32 positives."""

MODELS = [
    # (builder name, backbone weights enum, summary)
    ("fasterrcnn_resnet50_fpn", "ResNet50_Weights", "two-stage Faster R-CNN, ResNet-50 FPN"),
    (
        "fasterrcnn_mobilenet_v3_large_fpn",
        "MobileNet_V3_Large_Weights",
        "two-stage Faster R-CNN, MobileNetV3-Large FPN",
    ),
    (
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "MobileNet_V3_Large_Weights",
        "two-stage Faster R-CNN, MobileNetV3-Large FPN at 320 px: the CPU choice",
    ),
    ("retinanet_resnet50_fpn", "ResNet50_Weights", "one-stage RetinaNet, ResNet-50 FPN"),
    ("fcos_resnet50_fpn", "ResNet50_Weights", "one-stage anchor-free FCOS, ResNet-50 FPN"),
    ("ssd300_vgg16", "VGG16_Weights", "one-stage SSD at 300 px, VGG-16"),
    (
        "ssdlite320_mobilenet_v3_large",
        "MobileNet_V3_Large_Weights",
        "one-stage SSDlite at 320 px, MobileNetV3-Large",
    ),
]


def _builder(name: str, backbone_enum: str):
    def build(num_classes: int, pretrained: bool = False, img_size: int | None = None) -> nn.Module:
        backbone = default_weights(backbone_enum, pretrained)
        size = {"min_size": img_size, "max_size": img_size} if img_size else {}
        family = name.split("_", 1)[0]
        if family not in RESIZABLE:
            size = {}
        options = FASTER_RCNN_OPTIONS if family == "fasterrcnn" else {}
        net = build_with_weights(
            getattr(detection, name),
            backbone,
            weights=None,
            weights_backbone=backbone,
            num_classes=num_classes + 1,
            **size,
            **options,
        )
        if family == "fasterrcnn":  # the same pooling; its training backward multi-threaded
            net.roi_heads.box_roi_pool = MatmulRoIAlign.replacing(net.roi_heads.box_roi_pool)
        return net

    build.__doc__ = f"torchvision's {name} for ``num_classes`` object classes (+ background)."
    return build


def latency_ms(name: str, img_size: int = 320, device: str = "auto", repeats: int = 5) -> float:
    """Milliseconds one ``img_size`` image takes through ``name`` (eval mode, 20 classes):
    the median of ``repeats`` images after a warm-up call.

    Example:
        >>> latency_ms("ssdlite320_mobilenet_v3_large", repeats=1) > 0
        True
    """
    target = torch_device(device)
    net = create_model("detect", name, num_classes=20, img_size=img_size).eval().to(target)
    return forward_ms(net, [torch.rand(3, img_size, img_size, device=target)], target, repeats)


for _name, _enum, _summary in MODELS:
    register("detect", _name, _summary, 32)(_builder(_name, _enum))

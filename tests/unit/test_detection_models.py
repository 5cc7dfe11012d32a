"""Every registered detector builds for any class count, trains a step and predicts."""

from __future__ import annotations

import pytest
import torch

from deepimage.models import create_model, list_models

NAMES = [m.name for m in list_models("detect")]
TARGETS = [
    {"boxes": torch.tensor([[10.0, 20.0, 100.0, 120.0]]), "labels": torch.tensor([1])},
    {"boxes": torch.tensor([[50.0, 40.0, 200.0, 180.0]]), "labels": torch.tensor([3])},
]


def test_registry_uses_torchvision_builder_names() -> None:
    assert {
        "fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
        "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn",
        "fcos_resnet50_fpn", "ssd300_vgg16", "ssdlite320_mobilenet_v3_large",
    } <= set(NAMES)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_detector_trains_a_step_and_predicts_in_image_pixels(name: str) -> None:
    torch.manual_seed(0)
    net = create_model("detect", name, num_classes=3, img_size=256)
    images = [torch.rand(3, 240, 320), torch.rand(3, 200, 260)]
    losses = net(images, TARGETS)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    net.eval()
    with torch.no_grad():
        out = net(images)
    for result, image in zip(out, images, strict=True):
        assert set(result) == {"boxes", "labels", "scores"}
        if len(result["boxes"]):
            assert result["boxes"][:, 2].max() <= image.shape[2] + 1e-3
            assert result["labels"].min() >= 1 and result["labels"].max() <= 3

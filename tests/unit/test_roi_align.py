"""The matrix-product RoIAlign gives torchvision's numbers, forward and backward, on the
boxes a detector meets (tiny, image-sized, on the borders), and Faster R-CNN's pooler
keeps torchvision's level assignment."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torchvision.ops import MultiScaleRoIAlign, roi_align

from deepimage.models import create_model
from deepimage.models.roi_align import MatmulRoIAlign, matmul_roi_align


def _boxes(count: int, side: float, generator: torch.Generator) -> torch.Tensor:
    corner = torch.rand(count, 2, generator=generator) * side
    size = torch.rand(count, 2, generator=generator) * side / 2
    boxes = torch.cat([corner, (corner + size).clamp(max=side)], dim=1)
    edge_cases = torch.tensor(
        [[0, 0, side, side], [0, 0, 0.3, 0.2], [side - 1, side - 1, side, side], [5, 0, 5.4, side]]
    )
    return torch.cat([boxes, edge_cases.float()])


def test_forward_and_gradient_match_torchvision() -> None:
    generator = torch.Generator().manual_seed(0)
    for height, width, scale in ((20, 20, 1 / 16), (10, 12, 1 / 32), (40, 40, 1 / 8)):
        features = torch.randn(3, 8, height, width, generator=generator, requires_grad=True)
        per_image = [_boxes(30, 320, generator) for _ in range(3)]
        boxes = torch.cat(per_image)
        index = torch.arange(3).repeat_interleave(len(per_image[0]))
        rois = torch.cat([index[:, None].float(), boxes], dim=1)
        expected = roi_align(features, rois, (7, 7), scale, 2)
        ours = matmul_roi_align(features, boxes, index, (7, 7), scale, 2)
        assert torch.allclose(ours, expected, atol=1e-5)
        weights = torch.randn(expected.shape, generator=generator)
        (want,) = torch.autograd.grad((expected * weights).sum(), features)
        (got,) = torch.autograd.grad((ours * weights).sum(), features)
        assert torch.allclose(got, want, atol=1e-4)


def test_an_image_without_boxes_is_skipped() -> None:
    features = torch.randn(2, 4, 10, 10)
    boxes = torch.tensor([[0.0, 0.0, 50.0, 40.0]])
    out = matmul_roi_align(features, boxes, torch.tensor([1]), (7, 7), 1 / 8, 2)
    rois = torch.tensor([[1.0, 0.0, 0.0, 50.0, 40.0]])
    assert torch.allclose(out, roi_align(features, rois, (7, 7), 1 / 8, 2), atol=1e-5)


def test_the_multi_level_pooler_matches_torchvision_in_training() -> None:
    generator = torch.Generator().manual_seed(1)
    reference = MultiScaleRoIAlign(["0", "1"], 7, 2)
    ours = MatmulRoIAlign.replacing(reference)
    features = OrderedDict(
        [("0", torch.randn(2, 8, 40, 40, generator=generator)),
         ("1", torch.randn(2, 8, 20, 20, generator=generator))]
    )  # fmt: skip
    boxes = [_boxes(40, 320, generator), _boxes(25, 320, generator)]
    shapes = [(320, 320), (320, 320)]
    with torch.enable_grad():
        got = ours(features, boxes, shapes)
    with torch.no_grad():
        want = reference(features, boxes, shapes)
    assert torch.allclose(got, want, atol=1e-5)


def test_faster_rcnn_uses_it_and_keeps_torchvision_weights_names() -> None:
    net = create_model("detect", "fasterrcnn_mobilenet_v3_large_320_fpn", num_classes=1)
    assert isinstance(net.roi_heads.box_roi_pool, MatmulRoIAlign)
    names = set(net.state_dict())
    assert "roi_heads.box_head.fc6.weight" in names
    assert not any("box_roi_pool" in name for name in names)

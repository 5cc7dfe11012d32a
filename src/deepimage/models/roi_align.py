"""RoIAlign as two matrix products, for training Faster R-CNN on a CPU.

torchvision's CPU ``roi_align`` backward is a single-threaded scatter over every sample of
every region: at 320 px it was 40% of a Faster R-CNN MobileNetV3 training step here.
RoIAlign without ``aligned`` is separable: a region's pooled bin is the mean of
``sampling_ratio``\\ :sup:`2` bilinear samples, and bilinear weights factor into a row
weight times a column weight. So each region's output is ``Ay @ F @ Ax.T`` with small
interpolation matrices ``Ay`` (bins x H) and ``Ax`` (bins x W), and a whole image's regions
are one GEMM and one batched GEMM, multi-threaded forward and backward (and bf16 under
autocast). It gives torchvision's numbers (within float rounding; see the tests); evaluation,
tracing and export keep torchvision's kernel, which is fast without a backward.

Example:
    >>> import torch
    >>> from torchvision.ops import roi_align
    >>> features = torch.randn(2, 4, 10, 10)
    >>> boxes = torch.tensor([[0.0, 0.0, 40.0, 30.0], [8.0, 4.0, 60.0, 70.0]])
    >>> ours = matmul_roi_align(features, boxes, torch.tensor([0, 1]), (7, 7), 1 / 8, 2)
    >>> rois = torch.cat([torch.tensor([[0.0], [1.0]]), boxes], dim=1)
    >>> torch.allclose(ours, roi_align(features, rois, (7, 7), 1 / 8, 2), atol=1e-5)
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.poolers import _filter_input, _setup_scales


def interpolation_weights(
    starts: torch.Tensor, lengths: torch.Tensor, bins: int, samples: int, size: int
) -> torch.Tensor:
    """R x bins x size: each bin's mean of ``samples`` bilinear weights along one axis of a
    feature map ``size`` long, with roi_align's border rules (clamped inside, 0 beyond -1
    and ``size``)."""
    steps = torch.arange(bins * samples, device=starts.device, dtype=torch.float32)
    x = starts[:, None] + lengths[:, None] * (steps + 0.5) / (bins * samples)
    inside = (x >= -1) & (x <= size)
    x = x.clamp(min=0)
    low = x.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = torch.where(low >= size - 1, torch.zeros_like(x), x - low)
    weights = F.one_hot(low, size) * (1 - frac)[..., None] + F.one_hot(high, size) * frac[..., None]
    weights = weights * inside[..., None]
    return weights.view(len(x), bins, samples, size).mean(2)


def matmul_roi_align(
    features: torch.Tensor,
    boxes: torch.Tensor,
    image_index: torch.Tensor,
    output_size: tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int,
) -> torch.Tensor:
    """``torchvision.ops.roi_align(..., aligned=False)`` for R boxes (x1 y1 x2 y2, image
    pixels) sorted by ``image_index``, as matrix products: R x C x output_size."""
    bins_y, bins_x = output_size
    _, channels, height, width = features.shape
    scaled = boxes.float() * spatial_scale
    sides = (scaled[:, 2:] - scaled[:, :2]).clamp_min(1.0)
    ax = interpolation_weights(scaled[:, 0], sides[:, 0], bins_x, sampling_ratio, width)
    ay = interpolation_weights(scaled[:, 1], sides[:, 1], bins_y, sampling_ratio, height)
    ax, ay = ax.to(features.dtype), ay.to(features.dtype)
    pooled, start = [], 0
    for image, count in enumerate(torch.bincount(image_index, minlength=len(features)).tolist()):
        if not count:
            continue
        rows = slice(start, start + count)
        start += count
        # F (C*H x W) @ Ax.T: every region's columns at once, then each region's rows
        columns = features[image].reshape(channels * height, width) @ ax[rows].flatten(0, 1).T
        columns = columns.view(channels, height, count, bins_x).permute(2, 1, 0, 3)
        out = torch.bmm(ay[rows], columns.reshape(count, height, channels * bins_x))
        pooled.append(out.view(count, bins_y, channels, bins_x).transpose(1, 2))
    if not pooled:
        return features.new_zeros((0, channels, bins_y, bins_x))
    return torch.cat(pooled)


class MatmulRoIAlign(MultiScaleRoIAlign):
    """torchvision's ``MultiScaleRoIAlign`` (same levels, same numbers) whose training
    forward runs :func:`matmul_roi_align`; anything else runs torchvision's kernel."""

    @classmethod
    def replacing(cls, pooler: MultiScaleRoIAlign) -> MatmulRoIAlign:
        """The same pooler (names, output size, sampling ratio, canonical scale, level)."""
        return cls(
            pooler.featmap_names,
            pooler.output_size,
            pooler.sampling_ratio,
            canonical_scale=pooler.canonical_scale,
            canonical_level=pooler.canonical_level,
        )

    def forward(
        self,
        x: dict[str, torch.Tensor],
        boxes: list[torch.Tensor],
        image_shapes: list[tuple[int, int]],
    ) -> torch.Tensor:
        exporting = torch.jit.is_scripting() or torchvision._is_tracing()
        if exporting or not torch.is_grad_enabled() or self.sampling_ratio <= 0:
            return super().forward(x, boxes, image_shapes)
        features = _filter_input(x, self.featmap_names)
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(
                features, image_shapes, self.canonical_scale, self.canonical_level
            )
        counts = torch.tensor([len(b) for b in boxes], device=features[0].device)
        image_index = torch.repeat_interleave(
            torch.arange(len(boxes), device=counts.device), counts
        )
        every_box = torch.cat(boxes)
        levels = self.map_levels(boxes) if len(features) > 1 else torch.zeros_like(image_index)
        result = features[0].new_zeros((len(every_box), features[0].shape[1], *self.output_size))
        for level, (feature, scale) in enumerate(zip(features, self.scales, strict=True)):
            chosen = torch.where(levels == level)[0]
            if len(chosen):
                pooled = matmul_roi_align(
                    feature, every_box[chosen], image_index[chosen], self.output_size, scale,
                    self.sampling_ratio,
                )  # fmt: skip
                result[chosen] = pooled.to(result.dtype)
        return result

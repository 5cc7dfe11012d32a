"""One way from an image to its class mask, for validation, ``evaluate`` and ``predict``
alike: resize (when the model was trained resized), whole-image or tiled inference, flip
test-time augmentation, and the class of every original pixel, in bounded memory.

Images whose sides fit in ``tile`` run whole. Larger ones run in ``tile`` x ``tile``
windows overlapping by a quarter, their class probabilities blended with weights that
fall towards each window's edge, a row of windows at a time: only one band of
probabilities (classes x ``tile`` x width) is held, so a 4000 x 3000 photo needs the same
memory per row as a 4000 x 512 strip. Probabilities of a resized image are brought back to
the original pixels (bilinear, as ``F.interpolate(align_corners=False)``) a few hundred
rows at a time.

Example:
    >>> import torch
    >>> net = lambda x: torch.cat([x[:, :1], 1 - x[:, :1]], 1) * 10  # class 0 where bright
    >>> image = torch.zeros(1, 40, 90); image[:, :, 60:] = 1
    >>> mask = class_mask(net, image, 2, tile=32)
    >>> mask.shape, mask[0, :60].unique().tolist(), mask[0, 60:].unique().tolist()
    (torch.Size([40, 90]), [1], [0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

Net = Callable[[torch.Tensor], torch.Tensor]  # N x C x H x W pixels -> N x K x H x W logits
UPSAMPLE_ROWS = 256


def tile_starts(length: int, tile: int) -> list[int]:
    """Window offsets covering ``length`` with windows of ``tile`` overlapping by a quarter.

    Example:
        >>> tile_starts(100, 40), tile_starts(30, 40)
        ([0, 30, 60], [0])
    """
    if length <= tile:
        return [0]
    stride = max(1, tile - tile // 4)
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def _window_weights(rows: int, columns: int, device: torch.device) -> torch.Tensor:
    """Weights rising from the edges to the middle of a window (never zero)."""

    def ramp(n: int) -> torch.Tensor:
        position = torch.arange(n, device=device, dtype=torch.float32)
        return torch.minimum(position + 1, n - position).clamp(max=max(1, n // 8)) / max(1, n // 8)

    return ramp(rows)[:, None] * ramp(columns)[None, :]


def probabilities(net: Net, x: torch.Tensor, tta: bool = False) -> torch.Tensor:
    """Softmax of ``net`` on an N x C x H x W batch, averaged with its mirror's when ``tta``."""
    out = net(x).float().softmax(1)
    if tta:
        out = (out + net(x.flip(-1)).float().softmax(1).flip(-1)) / 2
    return out


def probability_bands(
    net: Net,
    image: torch.Tensor,
    classes: int,
    tile: int,
    batch_size: int = 8,
    tta: bool = False,
) -> Iterator[tuple[int, torch.Tensor]]:
    """``(first row, K x rows x W probabilities)`` bands covering the C x H x W ``image``
    top to bottom; a row of overlapping windows is run (``batch_size`` windows at a
    time) and the rows no later window reaches are given out."""
    _, height, width = image.shape
    rows, columns = min(tile, height), min(tile, width)
    tops, lefts = tile_starts(height, tile), tile_starts(width, tile)
    weights = _window_weights(rows, columns, image.device)
    total = torch.zeros(classes, rows, width, device=image.device)
    weight = torch.zeros(rows, width, device=image.device)
    for index, top in enumerate(tops):
        windows = [image[:, top : top + rows, left : left + columns] for left in lefts]
        for start in range(0, len(windows), batch_size):
            batch = torch.stack(windows[start : start + batch_size])
            for left, out in zip(lefts[start:], probabilities(net, batch, tta), strict=False):
                total[:, :, left : left + columns] += out * weights
                weight[:, left : left + columns] += weights
        done = (tops[index + 1] if index + 1 < len(tops) else height) - top
        yield top, total[:, :done] / weight[:done]
        total = torch.cat([total[:, done:], total.new_zeros(classes, done, width)], 1)
        weight = torch.cat([weight[done:], weight.new_zeros(done, width)], 0)


def upsampled_argmax(probs: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The class of each pixel of ``probs`` (K x h x w) resized bilinearly to
    ``height`` x ``width``, computed :data:`UPSAMPLE_ROWS` rows at a time.

    Example:
        >>> probs = torch.rand(3, 7, 9)
        >>> whole = F.interpolate(probs[None], size=(50, 40), mode="bilinear").argmax(1)[0]
        >>> bool((upsampled_argmax(probs, 50, 40) == whole).all())
        True
    """
    out = torch.empty(height, width, dtype=torch.uint8, device=probs.device)
    xs = (torch.arange(width, device=probs.device, dtype=torch.float32) + 0.5) / width * 2 - 1
    for top in range(0, height, UPSAMPLE_ROWS):
        bottom = min(height, top + UPSAMPLE_ROWS)
        ys = torch.arange(top, bottom, device=probs.device, dtype=torch.float32)
        ys = (ys + 0.5) / height * 2 - 1
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], -1)[None]
        band = F.grid_sample(
            probs[None], grid, mode="bilinear", padding_mode="border", align_corners=False
        )
        out[top:bottom] = band[0].max(0).indices
    return out


@torch.no_grad()
def class_mask(
    net: Net,
    image: torch.Tensor,
    classes: int,
    tile: int,
    size: tuple[int, int] | None = None,
    batch_size: int = 8,
    tta: bool = False,
) -> torch.Tensor:
    """The H x W uint8 class of every pixel of a C x H x W ``image`` (what ``net`` takes:
    uint8 pixels that ``net`` normalises window by window, say), at ``size = (height,
    width)`` when the image was resized from it."""
    _, height, width = image.shape
    bands = probability_bands(net, image, classes, tile, batch_size, tta)
    if size is None or size == (height, width):
        out = torch.empty(height, width, dtype=torch.uint8, device=image.device)
        for top, band in bands:
            out[top : top + band.shape[1]] = band.max(0).indices  # argmax(0) is 20x slower
        return out
    probs = torch.cat([band for _, band in bands], 1)
    return upsampled_argmax(probs, *size)

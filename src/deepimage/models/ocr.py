"""Text-line recognisers: CRNN (Shi et al. 2015), a CNN that turns a line image into one
feature vector per 4-pixel column, a bidirectional LSTM over those columns, and a dense
layer giving, for every column, the log-probabilities of the blank (index 0) and of each
character, which CTC training and decoding read.

Every builder takes ``num_classes`` (characters + 1 for the blank), ``in_channels``,
``img_size`` (the line height) and ``pretrained``.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("ocr", "crnn", num_classes=37, in_channels=1, img_size=32)
    >>> log_probs, lengths = net(torch.zeros(2, 1, 32, 100), torch.tensor([100, 60]))
    >>> log_probs.shape, lengths.tolist()
    (torch.Size([25, 2, 37]), [25, 15])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepimage.errors import DeepImageError
from deepimage.models.registry import register

COLUMN_STRIDE = 4  # input pixels per output column


def _conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


def fast_features(in_channels: int) -> nn.Sequential:
    """Two stride-2 convolutions, then two at a quarter of the width with the height
    pooled: 6x less CPU time per line than Shi et al.'s stack at a 32 px height."""
    return nn.Sequential(
        *_conv(in_channels, 32, 2), *_conv(32, 64, 2),
        *_conv(64, 128), nn.MaxPool2d((2, 1)),
        *_conv(128, 128), nn.MaxPool2d((2, 1)),
    )  # fmt: skip


def shi_features(in_channels: int) -> nn.Sequential:
    """Shi et al.'s convolutions (64 to 512 channels), pooled to a quarter of the width."""
    return nn.Sequential(
        *_conv(in_channels, 64), nn.MaxPool2d(2),
        *_conv(64, 128), nn.MaxPool2d(2),
        *_conv(128, 256), *_conv(256, 256), nn.MaxPool2d((2, 1)),
        *_conv(256, 512), *_conv(512, 512), nn.MaxPool2d((2, 1)),
    )  # fmt: skip


class CRNN(nn.Module):
    """CNN (width / 4, height averaged away) -> BiLSTM over columns -> per-column classes."""

    def __init__(self, num_classes: int, cnn: nn.Sequential, hidden: int, layers: int) -> None:
        super().__init__()
        self.cnn = cnn
        features = [m for m in cnn if isinstance(m, nn.Conv2d)][-1].out_channels
        self.dropout = nn.Dropout(0.2)
        self.rnn = nn.LSTM(
            features,
            hidden,
            num_layers=layers,
            bidirectional=True,
            dropout=0.2 if layers > 1 else 0,
        )
        self.head = nn.Linear(2 * hidden, num_classes)

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """Columns of output for lines ``widths`` pixels wide."""
        return (widths // COLUMN_STRIDE).clamp_min(1)

    def forward(
        self, x: torch.Tensor, widths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """N x C x H x W lines (padded on the right to the widest; ``widths`` their own) ->
        (T x N x classes log-probabilities, each line's T)."""
        if x.shape[-1] < COLUMN_STRIDE:
            raise DeepImageError(f"a text line must be at least {COLUMN_STRIDE} pixels wide")
        if widths is None:
            widths = torch.full((len(x),), x.shape[-1], dtype=torch.long)
        features = self.cnn(x).mean(2).permute(2, 0, 1)  # T x N x C
        lengths = self.output_lengths(widths.cpu()).clamp_max(features.shape[0])
        packed = pack_padded_sequence(self.dropout(features), lengths, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.rnn(packed)[0], total_length=features.shape[0])
        return self.head(out).float().log_softmax(2), lengths


def _builder(
    features: Callable[[int], nn.Sequential], hidden: int, layers: int
) -> Callable[..., nn.Module]:
    def build(
        num_classes: int, in_channels: int = 1, img_size: int = 32, pretrained: bool = False
    ) -> nn.Module:
        if pretrained:
            raise DeepImageError("no pretrained text-line recognisers; train one (ocr train).")
        if img_size < 16:
            raise DeepImageError("text lines need --img-height 16 or more for the CRNN")
        return CRNN(num_classes, features(in_channels), hidden, layers)

    build.__doc__ = f"CRNN: {features.__name__} and a {layers}-layer BiLSTM of {hidden} units."
    return build


register("ocr", "crnn", "4 convs (32-128 channels) + BiLSTM 128 + CTC: fast on a CPU", 16)(
    _builder(fast_features, 128, 1)
)
register("ocr", "crnn-large", "Shi et al.'s 6 convs (64-512) + BiLSTM 256 + CTC", 16)(
    _builder(shi_features, 256, 2)
)

"""Recurrent classifiers that read an image row by row: each row (all its channels) is one
time step, and the hidden state carries what the rows above it held,
h_t = tanh(W_hh h_(t-1) + W_xh x_t + b_h) for the plain RNN, gated for the LSTM and GRU.
The class comes from the last step (from the last step of each direction when
bidirectional) through a dense layer.

``lstm`` is the mission's stacked network: LSTM 64 returning its sequence, LSTM 64, dense.

Example:
    >>> import torch
    >>> from deepimage.models import create_model
    >>> net = create_model("classify", "lstm", num_classes=10, in_channels=1, img_size=28)
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> net.rnn.num_layers, net.rnn.hidden_size
    (2, 64)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from deepimage.errors import DeepImageError
from deepimage.models.registry import register

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RowRecurrent(nn.Module):
    """A stacked RNN/LSTM/GRU over the rows of N x C x H x W images, then a dense layer."""

    def __init__(
        self,
        cell: str,
        num_classes: int,
        in_channels: int,
        img_size: int,
        hidden: int = 64,
        layers: int = 2,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.row_features = in_channels * img_size
        self.rnn = CELLS[cell](
            self.row_features, hidden, num_layers=layers, batch_first=True,
            bidirectional=bidirectional,
        )  # fmt: skip
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if c * w != self.row_features:
            raise DeepImageError(
                f"this recurrent model reads rows of {self.row_features} values (channels x "
                f"width) but got {c} x {w}; resize the images to the model's size."
            )
        out, _ = self.rnn(x.permute(0, 2, 1, 3).reshape(n, h, c * w))
        last = out[:, -1]
        if self.rnn.bidirectional:  # the backward direction ends at the first row
            hidden = self.rnn.hidden_size
            last = torch.cat([out[:, -1, :hidden], out[:, 0, hidden:]], dim=1)
        return self.head(last)


def _builder(cell: str, hidden: int, bidirectional: bool) -> Callable[..., nn.Module]:
    def build(
        num_classes: int, in_channels: int = 1, img_size: int = 28, pretrained: bool = False
    ) -> nn.Module:
        if pretrained:
            raise DeepImageError(
                "recurrent classifiers have no published pretrained weights; train from "
                "scratch or pass --weights FILE."
            )
        return RowRecurrent(cell, num_classes, in_channels, img_size, hidden, 2, bidirectional)

    direction = "bidirectional " if bidirectional else ""
    build.__doc__ = f"A 2-layer {direction}{cell.upper()} of {hidden} units over image rows."
    return build


for _name, _cell, _hidden, _bidirectional, _summary in [
    ("lstm", "lstm", 64, False, "stacked LSTM 64 (sequences), LSTM 64, dense, over rows"),
    ("gru", "gru", 64, False, "2-layer GRU of 64 units over the image rows"),
    ("rnn", "rnn", 64, False, "2-layer Elman RNN (tanh) of 64 units over the image rows"),
    ("bilstm", "lstm", 128, True, "2-layer bidirectional LSTM of 128 units over the rows"),
    ("bigru", "gru", 128, True, "2-layer bidirectional GRU of 128 units over the rows"),
]:
    register("classify", _name, _summary, 4)(_builder(_cell, _hidden, _bidirectional))

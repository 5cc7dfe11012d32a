"""Layers that slide a window over N x C x H x W inputs: Conv2D (by im2col), MaxPool2D and
AvgPool2D. Output side: ⌊(H + 2·padding - kernel) / stride⌋ + 1.

Every backward pass ends the same way: each window's gradient is added back onto the input
positions it was read from (:func:`add_windows`, "col2im"); windows that overlap add up.

Example:
    >>> import numpy as np
    >>> conv = Conv2D(1, 4, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    >>> y = conv.forward(np.ones((2, 1, 7, 7)))
    >>> y.shape, conv.backward(np.ones_like(y)).shape
    ((2, 4, 4, 4), (2, 1, 7, 7))
    >>> MaxPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from deepimage.scratch.init import initial_weights
from deepimage.scratch.layers import Layer


def windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """A view of every ``kernel`` x ``kernel`` window, ``stride`` apart:
    N x C x OH x OW x kernel x kernel (no copy)."""
    if x.shape[2] < kernel or x.shape[3] < kernel:
        raise ValueError(
            f"input of {x.shape[2]}x{x.shape[3]} is smaller than the {kernel}x{kernel} window"
        )
    return sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]


def add_windows(grads: np.ndarray, shape: tuple[int, ...], stride: int) -> np.ndarray:
    """col2im: an array of ``shape`` where each input position holds the sum of the
    gradients of the window entries that read it (``grads``: N x C x OH x OW x k x k)."""
    out = np.zeros(shape, grads.dtype)
    rows, cols, kernel = grads.shape[2], grads.shape[3], grads.shape[4]
    for i in range(kernel):
        for j in range(kernel):
            out[:, :, i : i + stride * rows : stride, j : j + stride * cols : stride] += grads[
                :, :, :, :, i, j
            ]
    return out


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as every framework computes it):
    y[n, o, i, j] = b[o] + Σ_c,u,v W[o, c, u, v] · x[n, c, s·i + u, s·j + v] on the input
    zero-padded by ``padding``. W is out x in x k x k (PyTorch's layout).

    im2col turns it into one matrix product: the windows become rows of X (N·OH·OW x C·k·k)
    and Y = X Wᵀ + b. Backward: dL/dW = (dL/dY)ᵀ X, dL/db = Σ dL/dY, and dL/dX = (dL/dY) W,
    whose rows are added back onto the input positions (:func:`add_windows`), then the
    padding is cut off.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        init: str = "he",
        rng: np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        shape = (out_channels, in_channels, kernel, kernel)
        fan_in, fan_out = in_channels * kernel**2, out_channels * kernel**2
        self.params["weight"] = initial_weights(init, shape, fan_in, fan_out, rng, dtype)
        self.params["bias"] = np.zeros(out_channels, dtype)
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        p = self.padding
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        self.padded_shape = padded.shape
        view = windows(padded, self.kernel, self.stride)
        n, _, rows, cols = view.shape[:4]
        self.columns = view.transpose(0, 2, 3, 1, 4, 5).reshape(n * rows * cols, -1)
        weight = self.params["weight"].reshape(len(self.params["weight"]), -1)
        y = self.columns @ weight.T + self.params["bias"]
        return y.reshape(n, rows, cols, -1).transpose(0, 3, 1, 2)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        n, out, rows, cols = grad.shape
        weight = self.params["weight"]
        g = grad.transpose(0, 2, 3, 1).reshape(-1, out)
        self.grads["weight"] = (g.T @ self.columns).reshape(weight.shape)
        self.grads["bias"] = g.sum(axis=0)
        k = self.kernel
        window_grads = (g @ weight.reshape(out, -1)).reshape(n, rows, cols, -1, k, k)
        dx = add_windows(window_grads.transpose(0, 3, 1, 2, 4, 5), self.padded_shape, self.stride)
        p = self.padding
        return dx[:, :, p : dx.shape[2] - p, p : dx.shape[3] - p] if p else dx


class MaxPool2D(Layer):
    """y = the largest value of each window. Backward: each window's gradient goes to the
    position of its maximum (the first one on a tie, as PyTorch), zero elsewhere."""

    def __init__(self, kernel: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride or kernel

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        view = windows(x, self.kernel, self.stride)
        flat = view.reshape(*view.shape[:4], -1)
        self.argmax = flat.argmax(axis=-1)[..., None]
        return np.take_along_axis(flat, self.argmax, axis=-1)[..., 0]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        k = self.kernel
        window_grads = np.zeros((*grad.shape, k * k), grad.dtype)
        np.put_along_axis(window_grads, self.argmax, grad[..., None], axis=-1)
        return add_windows(window_grads.reshape(*grad.shape, k, k), self.shape, self.stride)


class AvgPool2D(Layer):
    """y = the mean of each window. Backward: each window's gradient is shared equally,
    dL/dx = dL/dy / k², by every position of the window."""

    def __init__(self, kernel: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride or kernel

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return windows(x, self.kernel, self.stride).mean(axis=(-2, -1))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        k = self.kernel
        shared = np.broadcast_to((grad / k**2)[..., None, None], (*grad.shape, k, k))
        return add_windows(shared, self.shape, self.stride)

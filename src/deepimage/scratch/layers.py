"""The layer protocol and the layers without a sliding window: Dense, Flatten, Rows,
Dropout and BatchNorm.

A layer's ``forward(x)`` returns its output and keeps what the backward pass needs;
``backward(grad)`` takes dL/dy (the loss's gradient with respect to the output) and
returns dL/dx, storing dL/dθ for each parameter θ in ``grads`` under the name it has in
``params``. Parameters carry PyTorch's names and layouts, so weights move between the two
unchanged.

Example:
    >>> import numpy as np
    >>> dense = Dense(3, 2, rng=np.random.default_rng(0))
    >>> y = dense.forward(np.ones((4, 3)))
    >>> dx = dense.backward(np.ones_like(y))
    >>> y.shape, dx.shape, dense.grads["weight"].shape
    ((4, 2), (4, 3), (2, 3))
"""

from __future__ import annotations

import numpy as np

from deepimage.scratch.init import initial_weights


class Layer:
    """Base class: ``params`` and their ``grads`` by name, ``buffers`` (state that is not
    trained, such as BatchNorm's running statistics) and the ``training`` switch."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def astype(self, dtype: type) -> Layer:
        """Cast parameters and buffers (float64 for gradient checks), in place."""
        for store in (self.params, self.buffers):
            for key, value in store.items():
                store[key] = value.astype(dtype)
        return self

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


class Dense(Layer):
    """Fully connected: y = x Wᵀ + b, W of shape (out, in).

    Backward: dL/dW = (dL/dy)ᵀ x, dL/db = Σ_batch dL/dy, dL/dx = (dL/dy) W.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        init: str = "he",
        rng: np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        shape = (out_features, in_features)
        self.params["weight"] = initial_weights(init, shape, in_features, out_features, rng, dtype)
        self.params["bias"] = np.zeros(out_features, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads["weight"] = grad.T @ self.x
        self.grads["bias"] = grad.sum(axis=0)
        return grad @ self.params["weight"]


class Flatten(Layer):
    """N x C x H x W -> N x (C·H·W) in row-major order (PyTorch's order); backward
    reshapes the gradient back."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(self.shape)


class Rows(Layer):
    """N x C x H x W images -> N x H x (C·W) sequences: each image row is one time step,
    as the recurrent classifiers read images."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        n, c, h, w = x.shape
        return x.transpose(0, 2, 1, 3).reshape(n, h, c * w)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        n, c, h, w = self.shape
        return grad.reshape(n, h, c, w).transpose(0, 2, 1, 3)


class Dropout(Layer):
    """Inverted dropout: in training y = x·m / (1 - p) with m ~ Bernoulli(1 - p) drawn per
    call; at inference y = x. Backward: dL/dx = dL/dy · m / (1 - p)."""

    def __init__(self, p: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability {p} is not in [0, 1)")
        self.p = p
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self.mask = None
            return x
        self.mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1 - self.p)
        return x * self.mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad if self.mask is None else grad * self.mask


class BatchNorm(Layer):
    """Batch normalisation over N (N x F) or N, H, W (N x C x H x W):
    x̂ = (x - μ_B) / √(σ²_B + ε), y = γ x̂ + β. Training uses the batch's μ_B and (biased)
    σ²_B and updates running averages (unbiased variance, momentum 0.1, as PyTorch);
    inference uses the running averages.

    Backward (m values per feature): dL/dγ = Σ dL/dy · x̂, dL/dβ = Σ dL/dy, and with
    g = γ · dL/dy: dL/dx = (m g - Σ g - x̂ Σ g x̂) / (m √(σ²_B + ε)).
    """

    def __init__(
        self, features: int, momentum: float = 0.1, eps: float = 1e-5, dtype: type = np.float32
    ) -> None:
        super().__init__()
        self.params["weight"] = np.ones(features, dtype)
        self.params["bias"] = np.zeros(features, dtype)
        self.buffers["running_mean"] = np.zeros(features, dtype)
        self.buffers["running_var"] = np.ones(features, dtype)
        self.momentum, self.eps = momentum, eps

    def _shape(self, x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        return axes, (1, -1) if x.ndim == 2 else (1, -1, 1, 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes, shape = self._shape(x)
        if self.training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            m = x.size // len(mean)
            rate = self.momentum
            self.buffers["running_mean"] = (1 - rate) * self.buffers["running_mean"] + rate * mean
            unbiased = var * m / max(m - 1, 1)
            self.buffers["running_var"] = (1 - rate) * self.buffers["running_var"] + rate * unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = (1 / np.sqrt(var + self.eps)).reshape(shape)
        self.x_hat = (x - mean.reshape(shape)) * self.inv_std
        return self.params["weight"].reshape(shape) * self.x_hat + self.params["bias"].reshape(
            shape
        )

    def backward(self, grad: np.ndarray) -> np.ndarray:
        axes, shape = self._shape(grad)
        self.grads["weight"] = (grad * self.x_hat).sum(axis=axes)
        self.grads["bias"] = grad.sum(axis=axes)
        g = grad * self.params["weight"].reshape(shape)
        if not self.training:  # the statistics are constants
            return g * self.inv_std
        m = grad.size // grad.shape[1]
        sum_g = g.sum(axis=axes, keepdims=True)
        sum_gx = (g * self.x_hat).sum(axis=axes, keepdims=True)
        return (m * g - sum_g - self.x_hat * sum_gx) * self.inv_std / m

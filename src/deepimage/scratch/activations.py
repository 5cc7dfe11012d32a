"""Activations, each with the derivative its backward pass multiplies by.

Example:
    >>> import numpy as np
    >>> relu = ReLU()
    >>> relu.forward(np.array([-1.0, 2.0])), relu.backward(np.array([5.0, 5.0]))
    (array([0., 2.]), array([0., 5.]))
    >>> Softmax().forward(np.zeros((1, 4)))
    array([[0.25, 0.25, 0.25, 0.25]])
"""

from __future__ import annotations

import numpy as np

from deepimage.scratch.layers import Layer


class ReLU(Layer):
    """y = max(0, x); dy/dx = 1 where x > 0, else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.mask


class LeakyReLU(Layer):
    """y = x where x > 0, else a·x; dy/dx = 1 or a (a = 0.01 as PyTorch)."""

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = slope

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.factor = np.where(x > 0, 1.0, self.slope).astype(x.dtype)
        return x * self.factor

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.factor


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e⁻ˣ), computed as (1 + tanh(x/2)) / 2, which never overflows.

    Example:
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return 0.5 * (1 + np.tanh(0.5 * x))


class Sigmoid(Layer):
    """y = σ(x); dy/dx = y (1 - y)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = sigmoid(x)
        return self.y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.y * (1 - self.y)


class Tanh(Layer):
    """y = tanh(x); dy/dx = 1 - y²."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * (1 - self.y**2)


def softmax(x: np.ndarray) -> np.ndarray:
    """softmax(x)_i = e^(x_i - max x) / Σ_j e^(x_j - max x) over the last axis (shifted by
    the maximum so that nothing overflows)."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Softmax(Layer):
    """y = softmax(x) over the last axis. Its Jacobian is dy_i/dx_j = y_i (δ_ij - y_j), so
    dL/dx = y ⊙ (dL/dy - Σ_i dL/dy_i · y_i)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = softmax(x)
        return self.y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return self.y * (grad - (grad * self.y).sum(axis=-1, keepdims=True))

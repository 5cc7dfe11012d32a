"""Optimizers (SGD, SGD with momentum, Adam) and learning-rate schedules.

An optimizer holds a model's layers; ``step()`` updates every parameter in place from the
gradient its layer's ``backward`` stored; ``lr`` may be changed between steps (that is
what a schedule does).

Example:
    >>> import numpy as np
    >>> from deepimage.scratch.layers import Dense
    >>> layer = Dense(1, 1)
    >>> layer.params["weight"][:] = 1.0
    >>> layer.grads = {"weight": np.array([[0.5]]), "bias": np.array([0.0])}
    >>> SGD([layer], lr=0.1).step()
    >>> round(float(layer.params["weight"][0, 0]), 6)
    0.95
    >>> [round(lr_factor("cosine", step, 10, warmup=2), 3) for step in (0, 1, 2, 6, 10)]
    [0.333, 0.667, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from deepimage.scratch.layers import Layer


class SGD:
    """Plain gradient descent: θ ← θ - lr · (dL/dθ + λθ), λ the weight decay."""

    def __init__(self, layers: Sequence[Layer], lr: float, weight_decay: float = 0.0) -> None:
        self.slots = [(layer, key) for layer in layers for key in layer.params]
        self.lr, self.weight_decay = lr, weight_decay
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.slots]

    def step(self) -> None:
        for index, (layer, key) in enumerate(self.slots):
            value = layer.params[key]
            grad = (
                layer.grads[key] + self.weight_decay * value
                if self.weight_decay
                else layer.grads[key]
            )
            value -= self.update(self.state[index], grad).astype(value.dtype, copy=False)

    def update(self, state: dict[str, np.ndarray], grad: np.ndarray) -> np.ndarray:
        return self.lr * grad


class Momentum(SGD):
    """SGD with momentum μ (PyTorch's form): v ← μ v + g, θ ← θ - lr · v."""

    def __init__(
        self, layers: Sequence[Layer], lr: float, momentum: float = 0.9, weight_decay: float = 0.0
    ) -> None:
        super().__init__(layers, lr, weight_decay)
        self.momentum = momentum

    def update(self, state: dict[str, np.ndarray], grad: np.ndarray) -> np.ndarray:
        state["v"] = self.momentum * state["v"] + grad if "v" in state else grad.copy()
        return self.lr * state["v"]


class Adam(SGD):
    """Adam (Kingma and Ba 2015): m ← β₁m + (1-β₁)g, v ← β₂v + (1-β₂)g², and with the bias
    corrections m̂ = m / (1-β₁ᵗ), v̂ = v / (1-β₂ᵗ): θ ← θ - lr · m̂ / (√v̂ + ε)."""

    def __init__(
        self,
        layers: Sequence[Layer],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(layers, lr, weight_decay)
        self.betas, self.eps = betas, eps

    def update(self, state: dict[str, np.ndarray], grad: np.ndarray) -> np.ndarray:
        b1, b2 = self.betas
        if not state:
            state.update(m=np.zeros_like(grad), v=np.zeros_like(grad), t=np.zeros(()))
        state["t"] += 1
        state["m"] = b1 * state["m"] + (1 - b1) * grad
        state["v"] = b2 * state["v"] + (1 - b2) * grad**2
        m_hat = state["m"] / (1 - b1 ** state["t"])
        v_hat = state["v"] / (1 - b2 ** state["t"])
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def _cosine(progress: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * progress))


def _step(progress: float) -> float:
    return 0.1 ** sum(progress >= point for point in (0.5, 0.75))


SCHEDULES = {"cosine": _cosine, "step": _step, "constant": lambda progress: 1.0}
"""Learning-rate factor by the fraction of the steps done: a cosine from 1 to 0, a step
decay (x 0.1 at 50% and again at 75%), or constant."""


def lr_factor(schedule: str, step: int, total: int, warmup: int = 0) -> float:
    """The factor on the peak learning rate at ``step`` of ``total``: a linear warm-up over
    ``warmup`` steps, then the ``schedule`` (:data:`SCHEDULES`)."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return SCHEDULES[schedule](progress)

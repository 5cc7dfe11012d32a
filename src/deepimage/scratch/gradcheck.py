"""Gradient checking: every backward pass against centred differences in float64.

For a scalar f (a loss, or Σ y ⊙ R for a layer's output y and a fixed random R), the
numerical derivative of an entry θ is (f(θ + h) - f(θ - h)) / 2h, exact up to O(h²). The
relative error between the analytic gradient a and the numerical one n, over the entries
checked, is ‖a - n‖ / (‖a‖ + ‖n‖): below 1e-7 the backward pass is right; above 1e-4 it is
wrong (the usual notes' thresholds).

Example:
    >>> result = check("tanh")
    >>> result["passed"], result["max_error"] < 1e-7
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepimage.scratch.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from deepimage.scratch.conv import AvgPool2D, Conv2D, MaxPool2D
from deepimage.scratch.layers import BatchNorm, Dense, Dropout, Flatten, Layer, Rows
from deepimage.scratch.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy
from deepimage.scratch.models import Sequential, build_model
from deepimage.scratch.recurrent import RNN

THRESHOLD = 1e-7
STEP = 1e-5
CHECKED = 40  # entries sampled per input and per parameter


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a - n‖ / (‖a‖ + ‖n‖), 0 when both are zero.

    Example:
        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) < 1e-9
        True
    """
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0


def _sample(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    count = min(array.size, CHECKED)
    return rng.choice(array.size, size=count, replace=False)


def _numeric(f: Callable[[], float], array: np.ndarray, flat_indices: np.ndarray) -> np.ndarray:
    """Centred differences of ``f`` in the entries ``flat_indices`` of ``array`` (perturbed
    in place and restored)."""
    flat = array.reshape(-1)  # a view: the perturbation reaches what f reads
    out = np.empty(len(flat_indices))
    for i, index in enumerate(flat_indices):
        saved = flat[index]
        flat[index] = saved + STEP
        up = f()
        flat[index] = saved - STEP
        down = f()
        flat[index] = saved
        out[i] = (up - down) / (2 * STEP)
    return out


def _reseed(layers: list[Layer]) -> None:
    """Dropout draws the same mask on every call of a check, so f is one function."""
    for layer in layers:
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(layer.seed)


def check_network(
    net: Sequential,
    x: np.ndarray,
    loss: Callable[[np.ndarray], float],
    grad: Callable[[], np.ndarray],
) -> dict[str, float]:
    """Relative errors of the input gradient and of each parameter's, for f = loss(net(x))."""
    rng = np.random.default_rng(1)

    def f() -> float:
        _reseed(net.layers)
        return loss(net.forward(x))

    f()
    dx = net.backward(grad())
    analytic = {
        f"{i}.{k}": g.copy() for i, layer in enumerate(net.layers) for k, g in layer.grads.items()
    }
    picks = _sample(x, rng)
    errors = {"input": relative_error(dx.reshape(-1)[picks], _numeric(f, x, picks))}
    for index, layer in enumerate(net.layers):
        for key, value in layer.params.items():
            picks = _sample(value, rng)
            name = f"{index}.{key}" if len(net.layers) > 1 else key
            numeric = _numeric(f, value, picks)
            errors[name] = relative_error(analytic[f"{index}.{key}"].reshape(-1)[picks], numeric)
    return errors


def _layer(
    make: Callable[[np.random.Generator], Layer], shape: tuple[int, ...]
) -> Callable[[], dict[str, float]]:
    """A check of one layer on a random float64 input of ``shape``: f = Σ y ⊙ R."""

    def run() -> dict[str, float]:
        rng = np.random.default_rng(0)
        layer = make(rng).astype(np.float64)
        x = rng.normal(size=shape)
        weights = rng.normal(size=layer.forward(x).shape)
        return check_network(
            Sequential([layer]), x, lambda y: float((y * weights).sum()), lambda: weights
        )

    return run


def _loss(
    kind: type, target: Callable[[np.random.Generator], np.ndarray]
) -> Callable[[], dict[str, float]]:
    """A check of a loss on random float64 predictions (4 x 5) against ``target(rng)``."""

    def run() -> dict[str, float]:
        rng = np.random.default_rng(0)
        loss, x, t = kind(), rng.normal(size=(4, 5)), target(rng)
        return check_network(Sequential([]), x, lambda y: loss.forward(y, t), loss.backward)

    return run


def _model(name: str, channels: int, size: int) -> Callable[[], dict[str, float]]:
    """A check of a whole model, float64, under softmax cross-entropy."""

    def run() -> dict[str, float]:
        rng = np.random.default_rng(0)
        net = build_model(name, 4, channels, size, dtype=np.float64)
        x, labels, loss = (
            rng.normal(size=(3, channels, size, size)),
            rng.integers(0, 4, 3),
            SoftmaxCrossEntropy(),
        )
        return check_network(net, x, lambda y: loss.forward(y, labels), loss.backward)

    return run


CHECKS: dict[str, Callable[[], dict[str, float]]] = {
    "dense": _layer(lambda rng: Dense(6, 4, rng=rng), (3, 6)),
    "conv2d": _layer(lambda rng: Conv2D(2, 3, 3, rng=rng), (2, 2, 6, 6)),
    "conv2d-stride2-pad1": _layer(lambda rng: Conv2D(2, 3, 3, 2, 1, rng=rng), (2, 2, 7, 7)),
    "maxpool2d": _layer(lambda rng: MaxPool2D(2), (2, 2, 6, 7)),
    "maxpool2d-overlapping": _layer(lambda rng: MaxPool2D(3, 2), (2, 2, 7, 7)),
    "avgpool2d": _layer(lambda rng: AvgPool2D(2), (2, 2, 6, 6)),
    "flatten": _layer(lambda rng: Flatten(), (2, 2, 3, 3)),
    "rows": _layer(lambda rng: Rows(), (2, 2, 3, 4)),
    "dropout": _layer(lambda rng: Dropout(0.5, seed=3), (4, 10)),
    "batchnorm": _layer(lambda rng: BatchNorm(3), (4, 3, 3, 3)),
    "batchnorm-dense": _layer(lambda rng: BatchNorm(5), (6, 5)),
    "relu": _layer(lambda rng: ReLU(), (4, 10)),
    "leaky-relu": _layer(lambda rng: LeakyReLU(), (4, 10)),
    "sigmoid": _layer(lambda rng: Sigmoid(), (4, 10)),
    "tanh": _layer(lambda rng: Tanh(), (4, 10)),
    "softmax": _layer(lambda rng: Softmax(), (4, 6)),
    "rnn": _layer(lambda rng: RNN(4, 5, rng=rng), (3, 6, 4)),
    "rnn-sequences": _layer(lambda rng: RNN(4, 5, return_sequences=True, rng=rng), (3, 6, 4)),
    "softmax-cross-entropy": _loss(SoftmaxCrossEntropy, lambda rng: rng.integers(0, 5, 4)),
    "binary-cross-entropy": _loss(BinaryCrossEntropy, lambda rng: rng.random((4, 5))),
    "mse": _loss(MeanSquaredError, lambda rng: rng.normal(size=(4, 5))),
    "small-cnn": _model("small-cnn", 1, 12),
    "mlp": _model("mlp", 1, 6),
    "rnn-model": _model("rnn", 1, 6),
}
"""Every layer, loss and model, by the name ``scratch gradcheck --layer`` takes."""


def check(name: str) -> dict[str, Any]:
    """The gradient check ``name`` (:data:`CHECKS`): ``{layer, errors, max_error, passed}``,
    ``errors`` by input and parameter name."""
    errors = CHECKS[name]()
    worst = max(errors.values())
    return {"layer": name, "errors": errors, "max_error": worst, "passed": worst < THRESHOLD}

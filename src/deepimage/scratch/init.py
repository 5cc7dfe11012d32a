"""Weight initialisers: He (for ReLU layers) and Xavier/Glorot (for tanh and sigmoid).

He et al. 2015: w ~ N(0, 2 / fan_in), so that ReLU layers keep the variance of their
activations. Glorot and Bengio 2010: w ~ U(-a, a) with a = √(6 / (fan_in + fan_out)).

Example:
    >>> import numpy as np
    >>> w = he_normal((256, 400), 400, 256, np.random.default_rng(0))
    >>> round(float(w.std() ** 2 * 400), 1)
    2.0
"""

from __future__ import annotations

import numpy as np


def he_normal(
    shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator
) -> np.ndarray:
    """N(0, 2 / fan_in) samples of ``shape``."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


def xavier_uniform(
    shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator
) -> np.ndarray:
    """U(-a, a) samples of ``shape``, a = √(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


INITIALISERS = {"he": he_normal, "xavier": xavier_uniform}


def initial_weights(
    name: str,
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator | None,
    dtype: type,
) -> np.ndarray:
    """Weights of ``shape`` from the initialiser ``name`` ("he" or "xavier")."""
    if name not in INITIALISERS:
        raise ValueError(f"unknown initialiser {name!r}; choose from {', '.join(INITIALISERS)}")
    rng = rng if rng is not None else np.random.default_rng(0)
    return INITIALISERS[name](shape, fan_in, fan_out, rng).astype(dtype)

"""An Elman recurrent layer with backpropagation through time.

Example:
    >>> import numpy as np
    >>> rnn = RNN(5, 8, rng=np.random.default_rng(0))
    >>> h = rnn.forward(np.ones((2, 7, 5)))  # 2 sequences of 7 steps
    >>> h.shape, rnn.backward(np.ones_like(h)).shape
    ((2, 8), (2, 7, 5))
"""

from __future__ import annotations

import numpy as np

from deepimage.scratch.init import initial_weights
from deepimage.scratch.layers import Layer


class RNN(Layer):
    """Elman RNN over N x T x D sequences: h_t = tanh(W_hh h_(t-1) + W_xh x_t + b_h) with
    h_0 = 0; the output is the last state h_T (N x H), or every state (N x T x H) with
    ``return_sequences``.

    Backpropagation through time walks the steps backwards carrying dL/dh_t (from the
    output at t plus what flows back from step t + 1):
    a_t = dL/dh_t ⊙ (1 - h_t²) (tanh's derivative), then dL/dW_xh += a_tᵀ x_t,
    dL/dW_hh += a_tᵀ h_(t-1), dL/db_h += Σ a_t, dL/dx_t = a_t W_xh and
    dL/dh_(t-1) = a_t W_hh.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        return_sequences: bool = False,
        init: str = "xavier",
        rng: np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        h, d = hidden_size, input_size
        self.params["W_xh"] = initial_weights(init, (h, d), d, h, rng, dtype)
        self.params["W_hh"] = initial_weights(init, (h, h), h, h, rng, dtype)
        self.params["b_h"] = np.zeros(h, dtype)
        self.return_sequences = return_sequences

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, steps, _ = x.shape
        w_xh, w_hh, b = self.params["W_xh"], self.params["W_hh"], self.params["b_h"]
        self.x = x
        self.h = np.zeros((n, steps + 1, len(b)), x.dtype)  # h[:, 0] is h_0
        inputs = x @ w_xh.T + b  # every step's W_xh x_t + b_h at once
        for t in range(steps):
            self.h[:, t + 1] = np.tanh(inputs[:, t] + self.h[:, t] @ w_hh.T)
        return self.h[:, 1:] if self.return_sequences else self.h[:, -1]

    def backward(self, grad: np.ndarray) -> np.ndarray:
        steps = self.x.shape[1]
        w_xh, w_hh = self.params["W_xh"], self.params["W_hh"]
        if not self.return_sequences:  # only the last state was used
            full = np.zeros_like(self.h[:, 1:])
            full[:, -1] = grad
            grad = full
        pre = np.zeros_like(self.h[:, 1:])  # a_t for every step
        carried = np.zeros_like(self.h[:, 0])
        for t in reversed(range(steps)):
            h_t = self.h[:, t + 1]
            pre[:, t] = (grad[:, t] + carried) * (1 - h_t**2)
            carried = pre[:, t] @ w_hh
        flat = pre.reshape(-1, pre.shape[2])
        self.grads["W_xh"] = flat.T @ self.x.reshape(len(flat), -1)
        self.grads["W_hh"] = flat.T @ self.h[:, :-1].reshape(len(flat), -1)
        self.grads["b_h"] = flat.sum(axis=0)
        return pre @ w_xh

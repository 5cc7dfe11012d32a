"""Losses: ``forward(prediction, target)`` returns the mean loss of the batch and keeps what
``backward()`` needs; ``backward()`` returns dL/d(prediction).

Example:
    >>> import numpy as np
    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((2, 4)), np.array([0, 3])), 4)  # log 4
    1.3863
    >>> loss.backward()
    array([[-0.375,  0.125,  0.125,  0.125],
           [ 0.125,  0.125,  0.125, -0.375]])
"""

from __future__ import annotations

import numpy as np

from deepimage.scratch.activations import sigmoid


class SoftmaxCrossEntropy:
    """L = -(1/N) Σ_n log softmax(z_n)[y_n] for logits z (N x K) and class indices y.
    Softmax and the log together have the simple gradient dL/dz = (softmax(z) - onehot(y)) / N
    and never take the log of a rounded-off zero (log-sum-exp)."""

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs, self.labels = np.exp(log_probs), labels
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    def backward(self) -> np.ndarray:
        grad = self.probs.copy()
        grad[np.arange(len(self.labels)), self.labels] -= 1
        return grad / len(self.labels)


class BinaryCrossEntropy:
    """L = -mean(t log σ(z) + (1 - t) log(1 - σ(z))) for logits z and targets t in [0, 1],
    computed as mean(max(z, 0) - z t + log(1 + e^-|z|)), which never overflows.
    dL/dz = (σ(z) - t) / (number of values)."""

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        self.logits, self.targets = logits, targets
        losses = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return float(losses.mean())

    def backward(self) -> np.ndarray:
        return (sigmoid(self.logits) - self.targets) / self.logits.size


class MeanSquaredError:
    """L = mean((y - t)²); dL/dy = 2 (y - t) / (number of values)."""

    def forward(self, prediction: np.ndarray, targets: np.ndarray) -> float:
        self.diff = prediction - targets
        return float((self.diff**2).mean())

    def backward(self) -> np.ndarray:
        return 2 * self.diff / self.diff.size

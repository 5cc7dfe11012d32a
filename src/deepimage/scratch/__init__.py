"""Deep learning from scratch in NumPy: layers with hand-written backward passes, losses,
initialisers, optimizers and schedules, three small networks, a training loop, ``.npz``
model files and gradient checking. Nothing here imports torch (only
:func:`~deepimage.scratch.export.export_torch` does, when called), so every step can be
read and stepped through; ``tests/unit/test_scratch.py`` shows that the small CNN's outputs
and gradients equal PyTorch's.

Example: one step of gradient descent on the small CNN, by hand.
    >>> import numpy as np
    >>> from deepimage.scratch import SGD, SoftmaxCrossEntropy, build_model
    >>> net = build_model("small-cnn", num_classes=10, in_channels=1, img_size=28)
    >>> x, y = np.random.default_rng(0).normal(size=(8, 1, 28, 28)).astype(np.float32), np.arange(8)
    >>> loss = SoftmaxCrossEntropy()
    >>> before = loss.forward(net.forward(x), y)
    >>> _ = net.backward(loss.backward())   # dL/dx; each layer keeps dL/dθ in .grads
    >>> SGD(net.layers, lr=0.001).step()
    >>> loss.forward(net.forward(x), y) < before
    True
"""

from deepimage.scratch.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from deepimage.scratch.conv import AvgPool2D, Conv2D, MaxPool2D
from deepimage.scratch.gradcheck import check, relative_error
from deepimage.scratch.init import he_normal, xavier_uniform
from deepimage.scratch.layers import BatchNorm, Dense, Dropout, Flatten, Layer, Rows
from deepimage.scratch.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy
from deepimage.scratch.models import MODELS, Sequential, build_model, load_model, save_model
from deepimage.scratch.optim import SCHEDULES, SGD, Adam, Momentum, lr_factor
from deepimage.scratch.recurrent import RNN
from deepimage.scratch.train import evaluate, fit

__all__ = [
    "MODELS",
    "RNN",
    "SCHEDULES",
    "SGD",
    "Adam",
    "AvgPool2D",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "MeanSquaredError",
    "Momentum",
    "ReLU",
    "Rows",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "build_model",
    "check",
    "evaluate",
    "fit",
    "he_normal",
    "load_model",
    "lr_factor",
    "relative_error",
    "save_model",
    "xavier_uniform",
]

"""Networks built from the NumPy layers: the small CNN (layer for layer the classification
registry's ``small-cnn``, with the same parameter names), an MLP and an Elman RNN over
image rows; saved and loaded as ``.npz`` files without pickles.

Example:
    >>> import numpy as np
    >>> net = build_model("small-cnn", num_classes=10, in_channels=1, img_size=28)
    >>> net.forward(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    >>> list(net.state_dict())[:4]
    ['0.weight', '0.bias', '3.weight', '3.bias']
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError, ModelFileError
from deepimage.io.files import atomic_write
from deepimage.scratch.activations import ReLU
from deepimage.scratch.conv import Conv2D, MaxPool2D
from deepimage.scratch.layers import Dense, Dropout, Flatten, Layer, Rows
from deepimage.scratch.recurrent import RNN

FORMAT = "deepimage-scratch/1"
META_KEY = "__meta__"


class Sequential:
    """Layers applied in order; backward runs them in reverse (the chain rule:
    dL/dx = dL/dy · dy/dx, layer by layer). ``state_dict`` names each array
    ``<index>.<name>``, as PyTorch's ``nn.Sequential`` does."""

    def __init__(self, layers: list[Layer], name: str = "", config: dict[str, Any] | None = None):
        self.layers, self.name, self.config = layers, name, dict(config or {})

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def train(self, mode: bool = True) -> Sequential:
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self) -> Sequential:
        return self.train(False)

    def astype(self, dtype: type) -> Sequential:
        for layer in self.layers:
            layer.astype(dtype)
        return self

    @property
    def dtype(self) -> np.dtype:
        return next(v.dtype for layer in self.layers for v in layer.params.values())

    def parameter_count(self) -> int:
        return sum(v.size for layer in self.layers for v in layer.params.values())

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers by ``<layer index>.<name>``."""
        return {
            f"{index}.{key}": value
            for index, layer in enumerate(self.layers)
            for store in (layer.params, layer.buffers)
            for key, value in store.items()
        }

    def load_state_dict(self, state: dict[str, np.ndarray], source: str = "weights") -> None:
        """Copy ``state`` in (cast to this model's dtype); every name must be there, in its
        shape."""
        own = self.state_dict()
        if set(state) != set(own):
            missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
            raise ModelFileError(
                f"{source}: its arrays are not those of a {self.name} model "
                f"(missing {missing[:3]}, unexpected {extra[:3]})."
            )
        for index, layer in enumerate(self.layers):
            for store in (layer.params, layer.buffers):
                for key in store:
                    value = np.asarray(state[f"{index}.{key}"])
                    if value.shape != store[key].shape:
                        raise ModelFileError(
                            f"{source}: {index}.{key} has shape {value.shape}, the model "
                            f"needs {store[key].shape}."
                        )
                    store[key] = value.astype(store[key].dtype)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    summary: str
    min_size: int
    build: Callable[..., list[Layer]]


def _small_cnn(num_classes: int, in_channels: int, img_size: int, rng: Any) -> list[Layer]:
    side = ((img_size - 2) // 2 - 2) // 2
    return [
        Conv2D(in_channels, 32, 3, rng=rng),
        MaxPool2D(2),
        ReLU(),
        Conv2D(32, 64, 3, rng=rng),
        MaxPool2D(2),
        ReLU(),
        Flatten(),
        Dense(64 * side * side, 64, rng=rng),
        ReLU(),
        Dense(64, num_classes, rng=rng),
    ]


def _mlp(num_classes: int, in_channels: int, img_size: int, rng: Any) -> list[Layer]:
    return [
        Flatten(),
        Dense(in_channels * img_size**2, 256, rng=rng),
        ReLU(),
        Dropout(0.2, seed=int(rng.integers(2**31))),
        Dense(256, 128, rng=rng),
        ReLU(),
        Dense(128, num_classes, rng=rng),
    ]


def _rnn(num_classes: int, in_channels: int, img_size: int, rng: Any) -> list[Layer]:
    return [
        Rows(),
        RNN(in_channels * img_size, 128, rng=rng),
        Dense(128, num_classes, init="xavier", rng=rng),
    ]


MODELS = {
    info.name: info
    for info in (
        ModelInfo(
            "small-cnn",
            "conv 32 3x3, max-pool, ReLU, conv 64 3x3, max-pool, ReLU, dense 64, dense N "
            "(classify's small-cnn, layer for layer)",
            10,
            _small_cnn,
        ),
        ModelInfo("mlp", "dense 256, ReLU, dropout 0.2, dense 128, ReLU, dense N", 1, _mlp),
        ModelInfo("rnn", "Elman RNN (128, tanh) over the image rows, dense N", 1, _rnn),
    )
}


def build_model(
    name: str,
    num_classes: int,
    in_channels: int = 1,
    img_size: int = 28,
    seed: int = 0,
    dtype: type = np.float32,
) -> Sequential:
    """A freshly initialised model ``name`` (:data:`MODELS`) for ``img_size`` square inputs."""
    if name not in MODELS:
        raise DeepImageError(f"unknown scratch model {name!r}; choose from {', '.join(MODELS)}.")
    info = MODELS[name]
    if img_size < info.min_size:
        raise DeepImageError(
            f"{name} needs images of at least {info.min_size} pixels a side, not {img_size}."
        )
    layers = info.build(num_classes, in_channels, img_size, np.random.default_rng(seed))
    config = {"num_classes": num_classes, "in_channels": in_channels, "img_size": img_size}
    return Sequential(layers, name, config).astype(dtype)


def save_model(model: Sequential, path: str | os.PathLike[str], **meta: Any) -> None:
    """Write ``model`` and ``meta`` (plain JSON data: classes, normalisation, ...) to an
    ``.npz`` file, atomically; the metadata is one JSON string, so loading needs no pickle."""
    card = {"format": FORMAT, "model": model.name, "config": model.config, **meta}
    arrays = {**model.state_dict(), META_KEY: np.array(json.dumps(card))}
    atomic_write(path, lambda handle: np.savez(handle, **arrays))


def load_model(path: str | os.PathLike[str]) -> tuple[Sequential, dict[str, Any]]:
    """The model saved at ``path`` (in float32) and its metadata; a file that is not such
    a model is a clear error naming it."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / "model.npz"
    if not path.is_file():
        raise ModelFileError(
            f"{path}: no such model file. Pass a scratch run folder or its model.npz."
        )
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an .npz archive of arrays")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
        card = json.loads(str(arrays.pop(META_KEY)))
        if card.get("format") != FORMAT:
            raise ValueError("no deepimage-scratch format tag")
        model = build_model(card["model"], **card["config"])
    except (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        TypeError,
        zipfile.BadZipFile,
        DeepImageError,
    ) as error:
        raise ModelFileError(
            f"{path}: not a scratch model file ({str(error)[:200]}); pass the model.npz a "
            "`deepimage scratch train` run wrote."
        ) from None
    model.load_state_dict(arrays, str(path))
    return model, card

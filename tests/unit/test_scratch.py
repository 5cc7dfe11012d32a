"""The NumPy networks against finite differences and against PyTorch: every backward pass
passes the gradient check (and a wrong one fails it), the small CNN, the Elman RNN,
BatchNorm and the optimizers give PyTorch's numbers for the same weights, and model files
round-trip without pickles."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from tests.conftest import cli_env, data_dir

from deepimage.errors import ModelFileError
from deepimage.models import create_model
from deepimage.scratch import (
    RNN,
    Adam,
    BatchNorm,
    Momentum,
    ReLU,
    SoftmaxCrossEntropy,
    build_model,
    check,
    load_model,
    save_model,
)
from deepimage.scratch.gradcheck import CHECKS, THRESHOLD


def test_importing_the_package_loads_no_torch() -> None:
    code = "import sys, deepimage.scratch, deepimage.scratch.run; print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("name", list(CHECKS))
def test_every_backward_pass_matches_centred_differences(name: str) -> None:
    result = check(name)
    assert result["passed"], result
    assert result["max_error"] < THRESHOLD
    assert "input" in result["errors"]


def test_the_check_catches_a_wrong_backward_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ReLU, "backward", lambda self, grad: grad)  # forgets the mask
    assert check("relu")["max_error"] > 1e-4
    right = BatchNorm.backward

    def treats_the_batch_statistics_as_constants(self, grad):
        right(self, grad)  # fills the weight and bias gradients, which are right
        return grad * self.params["weight"].reshape(1, -1, 1, 1) * self.inv_std

    monkeypatch.setattr(BatchNorm, "backward", treats_the_batch_statistics_as_constants)
    assert check("batchnorm")["max_error"] > 1e-4


def _fashion_batch(count: int = 32) -> tuple[np.ndarray, np.ndarray]:
    from deepimage.data.idx import read_idx

    folder = data_dir("fashion-mnist")
    images = read_idx(next(folder.glob("t10k-images-idx3-ubyte*")))[:count]
    labels = read_idx(next(folder.glob("t10k-labels-idx1-ubyte*")))[:count]
    x = (images[:, None].astype(np.float64) / 255 - 0.286) / 0.353
    return x, labels.astype(np.int64)


def _torch_twin(net) -> torch.nn.Module:
    twin = create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=28)
    twin = twin.double()
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in net.state_dict().items()})
    return twin


def test_small_cnn_outputs_and_gradients_equal_pytorchs_on_real_images() -> None:
    x, labels = _fashion_batch()
    net = build_model("small-cnn", 10, 1, 28, seed=3, dtype=np.float64)
    twin = _torch_twin(net)
    loss = SoftmaxCrossEntropy()
    logits = net.forward(x)
    value = loss.forward(logits, labels)
    net.backward(loss.backward())
    torch_logits = twin(torch.from_numpy(x))
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.from_numpy(labels))
    torch_loss.backward()
    assert np.abs(logits - torch_logits.detach().numpy()).max() < 1e-6
    assert abs(value - torch_loss.item()) < 1e-6
    ours = {f"{i}.{k}": g for i, layer in enumerate(net.layers) for k, g in layer.grads.items()}
    assert set(ours) == {name for name, _ in twin.named_parameters()}
    for name, parameter in twin.named_parameters():
        assert np.abs(ours[name] - parameter.grad.numpy()).max() < 1e-6, name


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda net: Adam(net.layers, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3)),
        (
            lambda net: Momentum(net.layers, lr=0.05, weight_decay=1e-3),
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
        ),
    ],
    ids=["adam", "momentum"],
)
def test_training_steps_follow_pytorchs_optimizers(ours, theirs) -> None:
    x, labels = _fashion_batch(16)
    net = build_model("small-cnn", 10, 1, 28, dtype=np.float64)
    twin = _torch_twin(net)
    optimizer, torch_optimizer, loss = ours(net), theirs(twin.parameters()), SoftmaxCrossEntropy()
    for _ in range(3):
        loss.forward(net.forward(x), labels)
        net.backward(loss.backward())
        optimizer.step()
        torch_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(
            twin(torch.from_numpy(x)), torch.from_numpy(labels)
        ).backward()
        torch_optimizer.step()
    for name, parameter in twin.named_parameters():
        assert np.abs(net.state_dict()[name] - parameter.detach().numpy()).max() < 1e-6, name


def test_elman_rnn_and_its_backpropagation_through_time_equal_pytorchs() -> None:
    rng = np.random.default_rng(0)
    rnn = RNN(5, 7, return_sequences=True, rng=rng).astype(np.float64)
    twin = torch.nn.RNN(5, 7, batch_first=True).double()
    with torch.no_grad():
        twin.weight_ih_l0.copy_(torch.from_numpy(rnn.params["W_xh"]))
        twin.weight_hh_l0.copy_(torch.from_numpy(rnn.params["W_hh"]))
        twin.bias_ih_l0.copy_(torch.from_numpy(rnn.params["b_h"]))
        twin.bias_hh_l0.zero_()
    x, upstream = rng.normal(size=(3, 6, 5)), rng.normal(size=(3, 6, 7))
    ours = rnn.forward(x)
    dx = rnn.backward(upstream)
    tx = torch.from_numpy(x).requires_grad_()
    theirs, _ = twin(tx)
    (theirs * torch.from_numpy(upstream)).sum().backward()
    assert np.abs(ours - theirs.detach().numpy()).max() < 1e-9
    assert np.abs(dx - tx.grad.numpy()).max() < 1e-9
    assert np.abs(rnn.grads["W_hh"] - twin.weight_hh_l0.grad.numpy()).max() < 1e-9
    assert np.abs(rnn.grads["b_h"] - twin.bias_ih_l0.grad.numpy()).max() < 1e-9


def test_batchnorm_trains_and_infers_as_pytorchs() -> None:
    rng = np.random.default_rng(0)
    layer, twin = BatchNorm(3).astype(np.float64), torch.nn.BatchNorm2d(3).double()
    for _ in range(2):
        x = rng.normal(2.0, 3.0, size=(4, 3, 5, 5))
        assert np.abs(layer.forward(x) - twin(torch.from_numpy(x)).detach().numpy()).max() < 1e-9
    assert np.allclose(layer.buffers["running_var"], twin.running_var.numpy())
    layer.training = False
    twin.eval()
    assert np.abs(layer.forward(x) - twin(torch.from_numpy(x)).detach().numpy()).max() < 1e-9


def test_model_files_round_trip_without_pickles(tmp_path) -> None:
    net = build_model("rnn", 4, 1, 12, seed=5)
    path = tmp_path / "model.npz"
    save_model(net, path, classes=list("abcd"), mean=[0.5], std=[0.2])
    loaded, card = load_model(path)
    assert card["classes"] == list("abcd") and loaded.name == "rnn"
    x = np.random.default_rng(0).normal(size=(2, 1, 12, 12)).astype(np.float32)
    assert np.array_equal(loaded.forward(x), net.forward(x))
    with np.load(path, allow_pickle=False) as archive:  # readable with pickles refused
        assert "1.W_hh" in archive.files


@pytest.mark.parametrize("content", [b"", b"not a zip", None])
def test_a_bad_model_file_is_a_clear_error(tmp_path, content: bytes | None) -> None:
    path = tmp_path / "model.npz"
    if content is None:  # arrays of another model under the same format tag
        save_model(build_model("mlp", 3, 1, 8), path)
        data = dict(np.load(path))
        data["1.weight"] = np.zeros((2, 2), np.float32)
        np.savez(path, **data)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=str(path)):
        load_model(path)


def test_exported_small_cnn_gives_the_same_logits_in_torch(tmp_path) -> None:
    from deepimage.engine.checkpoints import load_checkpoint
    from deepimage.scratch.export import export_torch
    from deepimage.tasks.classification import ClassificationTask

    net = build_model("small-cnn", 3, 1, 12, seed=1)
    meta = {"classes": ["a", "b", "c"], "mean": [0.4], "std": [0.3]}
    path = export_torch(net, meta, tmp_path / "model.ckpt", {"data": "digits", "seed": 0})
    task = ClassificationTask.from_checkpoint(load_checkpoint(path), str(path))
    images = np.random.default_rng(0).integers(0, 256, (5, 1, 12, 12), dtype=np.uint8)
    ours = net.eval().forward((images / 255 - 0.4).astype(np.float32) / 0.3)
    with torch.no_grad():
        theirs = task(torch.from_numpy(images)).float().numpy()
    assert np.abs(ours - theirs).max() < 1e-4

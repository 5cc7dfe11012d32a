"""The classification model registry builds every model for small and larger inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepimage.errors import DeepImageError
from deepimage.models import create_model, list_models

NAMES = [m.name for m in list_models("classify")]


def test_registry_lists_the_required_models() -> None:
    required = {"small-cnn", "lenet5", "resnet18", "resnet34", "resnet50"}
    required |= {"mobilenet-v3-small", "mobilenet-v3-large", "efficientnet-b0", "resnet-mini"}
    assert required <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 40)])
def test_every_model_fits_channels_and_size(name: str, channels: int, size: int) -> None:
    net = create_model("classify", name, num_classes=7, in_channels=channels, img_size=size).eval()
    with torch.no_grad():
        assert net(torch.rand(2, channels, size, size)).shape == (2, 7)


def test_small_cnn_is_the_mission_network() -> None:
    net = create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=28)
    kinds = [type(layer) for layer in net]
    assert kinds == [
        nn.Conv2d,
        nn.MaxPool2d,
        nn.ReLU,
        nn.Conv2d,
        nn.MaxPool2d,
        nn.ReLU,
        nn.Flatten,
        nn.Linear,
        nn.ReLU,
        nn.Linear,
    ]  # fmt: skip (each ReLU after its pool: the same function, see the next test)
    assert (net[0].out_channels, net[0].kernel_size) == (32, (3, 3))
    assert (net[3].out_channels, net[3].kernel_size) == (64, (3, 3))
    assert (net[7].in_features, net[7].out_features) == (64 * 5 * 5, 64)


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(DeepImageError, match="small-cnn"):
        create_model("classify", "no-such-net", num_classes=2)


def test_pretrained_is_refused_for_models_without_published_weights() -> None:
    with pytest.raises(DeepImageError, match="--weights"):
        create_model("classify", "small-cnn", num_classes=2, pretrained=True)


def test_pretrained_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib.error import URLError

    import torchvision.models._api as api

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("Name or service not known")

    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(DeepImageError, match=r"resnet18-.*\.pth.*--weights FILE"):
        create_model("classify", "resnet18", num_classes=2, pretrained=True)


def test_small_cnn_pools_before_relu_with_the_conv_relu_pool_numbers() -> None:
    torch.manual_seed(0)
    ours = create_model("classify", "small-cnn", num_classes=10, in_channels=1, img_size=28)
    textbook = torch.nn.Sequential(*[ours[i] for i in (0, 2, 1, 3, 5, 4, 6, 7, 8, 9)])
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(ours(x), textbook(x))
    (grad_ours,) = torch.autograd.grad(ours(x).sum(), ours[0].weight)
    (grad_textbook,) = torch.autograd.grad(textbook(x).sum(), ours[0].weight)
    assert torch.allclose(grad_ours, grad_textbook)
    assert [name for name, _ in ours.named_parameters()][:2] == ["0.weight", "0.bias"]


def test_lstm_is_the_mission_stack_over_rows() -> None:
    net = create_model("classify", "lstm", num_classes=10, in_channels=1, img_size=28)
    assert isinstance(net.rnn, nn.LSTM)
    assert (net.rnn.input_size, net.rnn.hidden_size, net.rnn.num_layers) == (28, 64, 2)
    assert (net.head.in_features, net.head.out_features) == (64, 10)


def test_a_recurrent_classifier_reads_rows_in_order() -> None:
    torch.manual_seed(0)
    net = create_model("classify", "gru", num_classes=3, in_channels=1, img_size=8).eval()
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        assert not torch.allclose(net(x), net(x.flip(2)))  # rows are a sequence, not a set
        assert torch.allclose(net(x), net(x.clone()))


def test_bidirectional_classifier_uses_the_first_row_through_its_backward_pass() -> None:
    torch.manual_seed(0)
    net = create_model("classify", "bigru", num_classes=3, in_channels=1, img_size=8).eval()
    x = torch.rand(1, 1, 8, 8, requires_grad=True)
    net(x)[0, 0].backward()
    assert x.grad[0, 0, 0].abs().sum() > 0 and x.grad[0, 0, -1].abs().sum() > 0


def test_recurrent_classifier_names_a_wrong_row_size() -> None:
    net = create_model("classify", "lstm", num_classes=3, in_channels=1, img_size=28)
    with pytest.raises(DeepImageError, match="resize"):
        net(torch.zeros(1, 1, 28, 32))

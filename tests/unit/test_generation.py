"""The generation task's parts: models of every size and kind, the noise a dae learns,
the losses, sampling and walks, tiled denoising, the classifier-feature distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepimage.data.classification import load_classification_data
from deepimage.engine.settings import make_settings
from deepimage.errors import DeepImageError
from deepimage.models import create_model, list_models
from deepimage.tasks.classification import ClassificationTask
from deepimage.tasks.generation import GenerationTask, psnr
from deepimage.tasks.generation_metrics import ClassifierFeatures, class_entropy, distances
from deepimage.tasks.generation_noise import (
    add_noise,
    gaussian_noise,
    jpeg_noise,
    salt_pepper_noise,
)
from deepimage.tasks.generation_spec import GenerateTrain
from deepimage.tasks.generation_use import denoise_image, interpolate, sample
from deepimage.viz.draw import tile_images

MODELS = [info.name for info in list_models("generate")]


def task(
    model: str, channels: int = 1, size: int = 28, classes: int = 1, **extra
) -> GenerationTask:
    torch.manual_seed(0)
    return GenerationTask(
        model=model, classes=[f"c{i}" for i in range(classes)], in_channels=channels,
        img_size=size, latent_dim=0 if model == "dae" else 8, width=8,
        conditional=classes > 1, **extra,
    ).eval()  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(("channels", "size"), [(1, 8), (1, 28), (3, 33), (3, 64)])
def test_every_model_maps_images_of_any_small_size_back_to_that_size(
    model: str, channels: int, size: int
) -> None:
    net = task(model, channels, size)
    x = torch.rand(2, channels, size, size)
    with torch.no_grad():
        if net.can_encode or model == "dae":
            assert net.reconstruct(x).shape == x.shape
        if net.can_sample:
            assert net.decode(torch.randn(2, 8)).shape == x.shape
            out = net.decode(torch.randn(2, 8))
            assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("model", ["ae", "vae", "dcgan", "wgan-gp"])
def test_conditional_models_take_a_class_and_need_one(model: str) -> None:
    net = task(model, classes=3)
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        assert net.decode(torch.randn(2, 8), labels).shape == (2, 1, 28, 28)
        with pytest.raises(ValueError, match="needs class labels"):
            net.decode(torch.randn(2, 8))
        if model in ("dcgan", "wgan-gp"):
            scores = net.net.discriminator(torch.rand(2, 1, 28, 28), labels)
            assert scores.shape == (2,)


def test_the_dense_autoencoder_is_the_missions_784_64_32() -> None:
    net = create_model("generate", "ae")
    sizes = [
        (m.in_features, m.out_features) for m in net.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert sizes == [(784, 64), (64, 32), (32, 64), (64, 784)]


def test_hyperparameters_that_cannot_build_a_model_are_refused() -> None:
    good = dict(model="vae", classes=["a", "b"], in_channels=1, img_size=28, latent_dim=8, width=8)
    GenerationTask.check_hyperparameters(good)
    for change, message in [
        ({"in_channels": 5}, "in_channels"),
        ({"img_size": 1000}, "img_size"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"model": "gpt"}, "unknown generate model"),
        ({"classes": ["a"], "conditional": True}, "two classes"),
        ({"noise": ["gaussian", "blur"]}, "blur"),
    ]:
        with pytest.raises((ValueError, DeepImageError), match=message):
            GenerationTask.check_hyperparameters({**good, **change})


def test_noise_kinds_have_the_strength_asked_for() -> None:
    grey = torch.full((64, 1, 32, 32), 0.5)
    generator = torch.Generator().manual_seed(0)
    noisy = gaussian_noise(grey, 0.1, generator)
    assert float((noisy - grey).std()) == pytest.approx(0.1, rel=0.05)
    flipped = salt_pepper_noise(grey, 0.2, generator)
    share = float((flipped != grey).float().mean())
    assert share == pytest.approx(0.2, abs=0.01)
    assert set(torch.unique(flipped).tolist()) == {0.0, 0.5, 1.0}
    ramp = torch.linspace(0, 1, 32).repeat(2, 3, 32, 1)
    jpeg = jpeg_noise(ramp, [5, 95])
    assert jpeg.shape == ramp.shape
    assert float((jpeg[0] - ramp[0]).abs().mean()) > float((jpeg[1] - ramp[1]).abs().mean())
    mixed = add_noise(grey, ("gaussian", "salt-pepper"), 0.2, generator)
    assert (mixed != grey).any(dim=(1, 2, 3)).all()


def test_an_unknown_noise_kind_is_a_clear_error() -> None:
    with pytest.raises(DeepImageError, match="unknown value 'blur'"):
        make_settings(GenerateTrain, {"data": "x", "noise": "gaussian,blur"})
    assert make_settings(GenerateTrain, {"data": "x", "noise": "jpeg"}).noise == ["jpeg"]


@pytest.mark.parametrize(
    ("model", "options"),
    [("ae", {}), ("dae", {}), ("vae", {}), ("vae", {"likelihood": "bernoulli"})],
)
def test_a_few_steps_on_one_batch_lower_the_loss(model: str, options: dict) -> None:
    net = task(model, kl_warmup_steps=0, **options).train()
    patterns = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)  # four shapes to learn
    patterns[0, :, 4:24, 4:12] = patterns[1, :, 4:12, 4:24] = 255
    patterns[2, :, 10:18, :] = patterns[3, :, :, 10:18] = 255
    images = patterns.repeat(4, 1, 1, 1)
    batch = (images, torch.zeros(16, dtype=torch.int64))
    optimizer = torch.optim.Adam(net.net.parameters(), 1e-2)
    losses = []
    for _ in range(60):
        loss = net.compute_loss(batch, 0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 0.4 * abs(losses[0])  # the gaussian NLL can be negative


def test_samples_depend_on_the_seed_alone() -> None:
    net = task("dcgan")
    first = sample(net, 5, seed=3, class_name=None, batch_size=2)
    again = sample(net, 5, seed=3, class_name=None, batch_size=5)
    other = sample(net, 5, seed=4, class_name=None, batch_size=5)
    assert first.shape == (5, 28, 28) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_classes_are_checked_when_sampling() -> None:
    with pytest.raises(DeepImageError, match="not conditional"):
        sample(task("vae"), 2, 0, "c0", 2)
    with pytest.raises(DeepImageError, match="not a class of this model; it has c0, c1"):
        sample(task("vae", classes=2), 2, 0, "dog", 2)
    with pytest.raises(DeepImageError, match="no prior"):
        sample(task("conv-ae"), 2, 0, None, 2)
    assert sample(task("vae", classes=2), 3, 0, "c1", 2).shape == (3, 28, 28)


def test_a_walk_between_seeds_starts_and_ends_at_their_samples() -> None:
    net = task("wgan-gp")
    walk = interpolate(net, 3, "7", steps=5, class_name=None)
    assert len(walk) == 5
    start, end = sample(net, 1, 3, None, 1)[0], sample(net, 1, 7, None, 1)[0]
    assert np.abs(walk[0].astype(int) - start).max() <= 1
    assert np.abs(walk[-1].astype(int) - end).max() <= 1


def test_a_walk_between_images_is_framed_by_them() -> None:
    net = task("vae")
    a, b = np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)
    walk = interpolate(net, a, b, steps=4, class_name=None)
    assert len(walk) == 6
    np.testing.assert_array_equal(walk[0], a)
    np.testing.assert_array_equal(walk[-1], b)
    with pytest.raises(DeepImageError, match="no encoder"):
        interpolate(task("dcgan"), a, b, steps=4, class_name=None)


def test_tiled_denoising_equals_denoising_the_whole_image() -> None:
    net = task("dae", channels=3)
    image = np.random.default_rng(0).integers(0, 256, (150, 97, 3), dtype=np.uint8)
    whole = denoise_image(net, image, tile=512)
    tiled = denoise_image(net, image, tile=64)
    assert whole.shape == image.shape
    assert np.abs(whole.astype(int) - tiled).max() <= 1
    with pytest.raises(DeepImageError, match="needs a dae"):
        denoise_image(task("vae"), image, tile=64)


def test_classifier_features_give_torchmetrics_distances() -> None:
    torch.manual_seed(0)
    classifier = ClassificationTask(
        model="small-cnn", classes=list("abcd"), in_channels=1, img_size=28, mean=[0.5],
        std=[0.25],
    ).eval()  # fmt: skip
    features = ClassifierFeatures(classifier)
    real = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    colour = real.expand(-1, 3, -1, -1)[:, :, :20, :20]  # other size and channels still fit
    assert features(colour).shape == (64, features.num_features)
    same = distances(features, lambda: iter([real]), lambda: iter([real]), 64, torch.device("cpu"))
    other = torch.zeros_like(real)
    apart = distances(
        features, lambda: iter([real]), lambda: iter([other]), 64, torch.device("cpu")
    )
    assert abs(same["fid"]) < 1e-6 < 0.1 < apart["fid"] and apart["kid"] > same["kid"]


def test_class_entropy_and_psnr() -> None:
    assert class_entropy(torch.tensor([0, 1, 0, 1]), 2) == 1.0
    assert class_entropy(torch.tensor([0, 0, 0, 1]), 2) == pytest.approx(0.811, abs=1e-3)
    assert psnr(torch.tensor([1e-2])).item() == pytest.approx(20.0)


def test_a_flat_folder_is_one_class_for_generative_models(tmp_path: Path) -> None:
    from deepimage.io.writing import write_image

    for index in range(10):
        write_image(tmp_path / f"img{index}.png", np.full((12, 12, 3), index * 20, np.uint8))
    data = load_classification_data(tmp_path, unlabelled=True)
    assert data.classes == ["image"] and sum(len(s) for s in data.splits.values()) == 10
    with pytest.raises(DeepImageError, match="no readable images"):
        load_classification_data(tmp_path)


def test_tile_images_enlarges_small_cells() -> None:
    grid = tile_images([np.zeros((8, 8, 3), np.uint8)] * 3, columns=2, min_cell=32)
    assert grid.shape == (2 * 32 + 2, 2 * 32 + 2, 3)
    assert (grid[:32, 32:34] == 255).all()


def test_the_inception_fid_reads_a_weights_file_and_refuses_others(tmp_path: Path) -> None:
    from unittest import mock

    from torchmetrics.image.fid import NoTrainInceptionV3

    from deepimage.tasks.generation_metrics import inception_fid

    random_weights = tmp_path / "random_inception.pth"
    torch.save({}, random_weights)
    with mock.patch.object(NoTrainInceptionV3, "load_state_dict"):  # random weights, saved
        net = NoTrainInceptionV3("inception-v3-compat", ["2048"], str(random_weights))
    torch.save(net.state_dict(), random_weights)
    torch.manual_seed(0)
    real = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8)
    fake = torch.randint(0, 256, (6, 3, 16, 16), dtype=torch.uint8)
    figure = inception_fid(
        random_weights, lambda: iter([real]), lambda: iter([fake]), torch.device("cpu")
    )
    assert np.isfinite(figure)
    broken = tmp_path / "broken.pth"
    torch.save({"conv.weight": torch.zeros(1)}, broken)
    with pytest.raises(DeepImageError, match=r"broken\.pth: not the Inception weights"):
        inception_fid(broken, lambda: iter([real]), lambda: iter([fake]), torch.device("cpu"))
    with pytest.raises(DeepImageError, match=r"missing\.pth: no such file"):
        inception_fid(
            tmp_path / "missing.pth", lambda: iter([]), lambda: iter([]), torch.device("cpu")
        )


def test_an_averaged_generator_gets_batch_norm_statistics_of_its_own() -> None:
    from deepimage.tasks.generation import standing_statistics

    net = task("dcgan", classes=3)
    norm = net.net.generator.decoder.stem[2]
    norm.running_mean.fill_(5.0)
    standing_statistics(net.net.generator, seed=0, classes=3, batches=4, size=32)
    assert int(norm.num_batches_tracked) == 4 and not net.net.generator.training
    assert float(norm.running_mean.abs().max()) < 1.0 and norm.momentum == 0.1


def test_a_vae_samples_from_a_mixture_fitted_to_its_training_codes() -> None:
    from deepimage.data.batches import TensorBatches
    from deepimage.tasks.generation_grids import draw_codes

    net = task("vae")
    standard = draw_codes(net, 500, seed=0)
    assert float(standard.std()) == pytest.approx(1.0, abs=0.1)  # unfitted: N(0, I)
    images = torch.randint(0, 256, (300, 1, 28, 28), dtype=torch.uint8)
    net.fit_prior(TensorBatches(images, torch.zeros(300, dtype=torch.int64)))
    assert int((net.prior.weights > 0).sum()) == 30  # one component per ten codes
    with torch.no_grad():
        codes = net.encode(images.float() / 255)
    fitted = draw_codes(net, 2000, seed=0)
    assert torch.allclose(fitted.mean(0), codes.mean(0), atol=0.1)
    torch.testing.assert_close(draw_codes(net, 5, seed=3), draw_codes(net, 5, seed=3))

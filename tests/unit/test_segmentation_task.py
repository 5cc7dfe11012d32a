"""The segmentation task's parts: models, tiled inference, losses, metrics, training crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassF1Score,
    MulticlassJaccardIndex,
)

from deepimage.data.segmentation import IGNORED
from deepimage.data.segmentation_batches import random_crop
from deepimage.models import create_model, list_models
from deepimage.tasks.segmentation import SegmentationTask
from deepimage.tasks.segmentation_inference import class_mask, probability_bands, tile_starts
from deepimage.tasks.segmentation_losses import focal_loss, segmentation_loss
from deepimage.tasks.segmentation_metrics import confusion_metric, segmentation_metrics

LIGHT = ["small-unet", "lraspp_mobilenet_v3_large", "unet-resnet18", "unet-mobilenet", "fpn"]


@pytest.mark.parametrize("name", LIGHT)
@pytest.mark.parametrize("channels", [1, 3])
def test_models_give_logits_at_any_input_size(name: str, channels: int) -> None:
    net = create_model("segment", name, num_classes=4, in_channels=channels).eval()
    with torch.no_grad():
        out = net(torch.rand(1, channels, 45, 70))
    assert out.shape == (1, 4, 45, 70)


def test_every_registered_model_is_listed_with_its_family() -> None:
    names = [info.name for info in list_models("segment")]
    for expected in (
        "small-unet",
        "fcn_resnet50",
        "deeplabv3_resnet50",
        "deeplabv3_mobilenet_v3_large",
        "lraspp_mobilenet_v3_large",
        "unet",
        "unetplusplus",
        "deeplabv3plus",
    ):
        assert expected in names


def _pixelwise(x: torch.Tensor) -> torch.Tensor:
    """A 'network' whose logits depend on each pixel alone: tiles cannot change it."""
    return torch.cat([x[:, :1], -x[:, :1], 2 * x[:, :1] - 0.3], 1)


def test_tiled_inference_equals_whole_image_inference_for_a_pixelwise_net() -> None:
    image = torch.randn(1, 301, 517)
    whole = class_mask(_pixelwise, image, 3, tile=4096)
    tiled = class_mask(_pixelwise, image, 3, tile=96, batch_size=3)
    assert tiled.shape == (301, 517)
    assert torch.equal(whole, tiled)


def test_bands_cover_every_row_once_and_blend_overlaps_to_an_average() -> None:
    image = torch.randn(1, 200, 130)
    bands = list(probability_bands(_pixelwise, image, 3, tile=64))
    tops = [top for top, _ in bands]
    assert tops == sorted(tops) and tops[0] == 0
    assert sum(band.shape[1] for _, band in bands) == 200
    probs = torch.cat([band for _, band in bands], 1)
    assert torch.allclose(probs, _pixelwise(image[None]).softmax(1)[0], atol=1e-5)
    assert tile_starts(200, 64)[-1] == 136


def test_a_resized_image_is_brought_back_to_its_original_size() -> None:
    image = torch.randn(1, 30, 40)
    mask = class_mask(_pixelwise, image, 3, tile=512, size=(300, 400))
    expected = F.interpolate(_pixelwise(image[None]).softmax(1), size=(300, 400), mode="bilinear")
    assert mask.shape == (300, 400)
    assert torch.equal(mask.long(), expected.argmax(1)[0])


def test_flip_averaging_is_symmetric() -> None:
    net = create_model("segment", "small-unet", num_classes=2, in_channels=1).eval()
    image = torch.rand(1, 64, 64)
    plain = class_mask(net, image, 2, tile=64, tta=True)
    mirrored = class_mask(net, image.flip(-1), 2, tile=64, tta=True)
    assert torch.equal(plain, mirrored.flip(-1))


def test_metrics_are_torchmetrics_iou_dice_and_accuracy() -> None:
    generator = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 4, (5000,), generator=generator)
    predicted = torch.where(torch.rand(5000, generator=generator) < 0.6, truth, 0)
    truth[:300] = IGNORED
    confusion = confusion_metric(4)
    confusion.update(predicted, truth)
    metrics, per_class = segmentation_metrics(confusion.compute(), list("abcd"))
    iou = MulticlassJaccardIndex(4, average=None, ignore_index=IGNORED)(predicted, truth)
    dice = MulticlassF1Score(4, average=None, ignore_index=IGNORED)(predicted, truth)
    miou = MulticlassJaccardIndex(4, average="macro", ignore_index=IGNORED)(predicted, truth)
    accuracy = MulticlassAccuracy(4, average="micro", ignore_index=IGNORED)(predicted, truth)
    assert [row["iou"] for row in per_class] == pytest.approx(iou.tolist(), abs=1e-6)
    assert [row["dice"] for row in per_class] == pytest.approx(dice.tolist(), abs=1e-6)
    assert metrics["miou"] == pytest.approx(float(miou), abs=1e-6)
    assert metrics["pixel_accuracy"] == pytest.approx(float(accuracy), abs=1e-6)
    assert metrics["pixels"] == 4700


def test_a_class_in_neither_truth_nor_prediction_has_no_iou_and_is_not_averaged() -> None:
    metrics, per_class = segmentation_metrics(
        torch.tensor([[5, 0, 0], [0, 5, 0], [0, 0, 0]]), ["a", "b", "c"]
    )
    assert per_class[2]["iou"] is None and metrics["miou"] == 1.0


def test_ignored_pixels_change_no_loss_and_get_no_gradient() -> None:
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    target = torch.randint(0, 3, (2, 16, 16))
    target[:, :4] = IGNORED
    for name in ("ce", "dice", "focal", "ce-dice"):
        logits.grad = None
        segmentation_loss(name, logits, target).backward()
        assert logits.grad[:, :, :4].abs().max() == 0, name
        assert torch.isfinite(logits.grad).all()


def test_focal_loss_without_focusing_is_cross_entropy_and_weights_apply() -> None:
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 8, 8))
    probability = F.softmax(logits, 1).gather(1, target[:, None])[:, 0]
    expected = -((1 - probability) ** 2 * probability.log()).mean()
    assert float(focal_loss(logits, target)) == pytest.approx(float(expected), rel=1e-5)
    weights = torch.tensor([0.0, 1.0, 1.0])
    zeroed = torch.where(target == 0, 0.0, -((1 - probability) ** 2 * probability.log()))
    assert float(focal_loss(logits, target, weights)) == pytest.approx(
        float(zeroed.mean()), rel=1e-5
    )


def test_random_crops_pad_small_images_with_ignored_pixels() -> None:
    rng = np.random.default_rng(0)
    image, mask = np.full((10, 50), 7, np.uint8), np.ones((10, 50), np.uint8)
    crop_image, crop_mask = random_crop(image, mask, 32, rng)
    assert crop_image.shape == crop_mask.shape == (32, 32)
    assert (crop_mask == IGNORED).sum() == 22 * 32
    assert ((crop_image == 7) == (crop_mask == 1)).all()


def test_the_module_segments_any_image_size_and_checks_its_metadata() -> None:
    task = SegmentationTask(
        "small-unet",
        ["a", "b", "c"],
        in_channels=3,
        mean=[0.5] * 3,
        std=[0.25] * 3,
        img_size=64,
        tile=48,
    ).eval()
    mask = task.segment(np.zeros((150, 97, 3), np.uint8))
    assert mask.shape == (150, 97) and int(mask.max()) < 3
    with pytest.raises(ValueError, match="'colours' must be one RGB triple"):
        SegmentationTask.check_hyperparameters(
            dict(
                model="small-unet",
                classes=["a"],
                in_channels=1,
                mean=[0.5],
                std=[0.2],
                colours=[[0, 0, 300]],
            )
        )


def test_weights_load_from_a_checkpoint_or_the_bare_network_state_dict(tmp_path) -> None:
    def task() -> SegmentationTask:
        return SegmentationTask(
            "lraspp_mobilenet_v3_large", ["a", "b"], in_channels=3, mean=[0.5] * 3, std=[0.25] * 3
        )

    source = task()
    bare = tmp_path / "torchvision.pt"
    torch.save(source.net.net.state_dict(), bare)  # what torchvision's own model saves
    target = task()
    target.load_initial_weights(bare)
    for mine, theirs in zip(target.net.parameters(), source.net.parameters(), strict=True):
        assert torch.equal(mine, theirs)

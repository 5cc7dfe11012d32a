"""Geometric transforms keep image, mask, boxes and keypoints aligned (property tests).

Coordinates are pixel edges: the box of a mask is ``(min col, min row, max col + 1,
max row + 1)``. A transformed mask is rasterised at pixel centres (nearest neighbour): a
pixel is set when its centre maps back into the box. Under every geometric transform, a
box drawn as a filled mask and transformed gives a mask whose box is within 1 px of the
transformed box, cut by the border or not (:func:`test_box_matches_its_mask`):

- warps that keep right angles (flips, translate, scale, crops, resize, letterbox,
  rotation with scale and shift) map the box's corners, and its box is within 1 px of the
  pixel centres the mapped rectangle covers;
- shear and perspective (and stretching a rotated image) make acute corners, and a sharp
  corner can hold no pixel centre for more than a pixel, so there the box is the box of
  the covered pixel centres themselves: the box of the mask, exactly up to OpenCV's
  1/1024 px fixed-point rounding of affine nearest-neighbour sampling
  (:func:`test_mask_is_the_transformed_polygon` checks both against the exact polygon).

A box under 2 px may fall between pixel centres and leave an empty mask; a box under
1 px, or that covers no pixel centre, is dropped with its label. The only slack beyond
1 px is float32 rounding of box coordinates (1e-4 px).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepimage.transforms.compose import Compose
from deepimage.transforms.geometric import (
    Affine,
    Geometric,
    HorizontalFlip,
    Letterbox,
    Perspective,
    RandomResizedCrop,
    Resize,
    Rotate,
    Translate,
    VerticalFlip,
)
from deepimage.transforms.mosaic import Mosaic
from deepimage.transforms.sample import Sample
from deepimage.transforms.warp import transform_points

FLOAT32_SLACK = 1e-4
RIGHT_ANGLED = {
    "hflip": HorizontalFlip(p=1.0),
    "vflip": VerticalFlip(p=1.0),
    "translate": Translate(0.4),
    "scale-crop": RandomResizedCrop((24, 40), scale=(0.1, 1.0)),
    "resize": Resize((20, 50)),
    "letterbox": Letterbox(48),
    "zoom-shift": Affine(translate=0.3, scale=(0.5, 2.0)),
    "rotate": Rotate(180),
    "similarity": Affine(degrees=180, translate=0.3, scale=(0.5, 2.0)),
    "fused": Compose([HorizontalFlip(), Rotate(30), Translate(0.2), Affine(scale=(0.5, 2.0))]),
}
SKEWING = {  # boxes rasterised: the box of the pixel centres they cover
    "shear": Affine(degrees=45, scale=(0.7, 1.4), shear=25),
    "perspective": Perspective(0.4),
    "rotate-stretch": Compose([Rotate(180), Resize((20, 50))]),
}
EVERY = {**RIGHT_ANGLED, **SKEWING}
FAST = settings(max_examples=50, deadline=None)


@st.composite
def boxed_samples(draw: st.DrawFn) -> tuple[Sample, np.ndarray]:
    """A grey image with one integer box (sides >= 2 px) and that box drawn as a mask."""
    height, width = draw(st.integers(8, 64)), draw(st.integers(8, 64))
    x0, y0 = draw(st.integers(0, width - 2)), draw(st.integers(0, height - 2))
    x1, y1 = draw(st.integers(x0 + 2, width)), draw(st.integers(y0 + 2, height))
    return boxed_sample(height, width, (x0, y0, x1, y1))


def boxed_sample(
    height: int, width: int, xyxy: tuple[int, int, int, int]
) -> tuple[Sample, np.ndarray]:
    x0, y0, x1, y1 = xyxy
    mask = np.zeros((height, width), np.uint8)
    mask[y0:y1, x0:x1] = 1
    box = np.array([x0, y0, x1, y1], np.float32)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [(x0 + x1) / 2, (y0 + y1) / 2]])
    sample = Sample(mask * 200, boxes=[box], labels=[5], mask=mask, keypoints=corners)
    return sample, box


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return None
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float64)


def run(transform: Geometric | Compose, sample: Sample, seed: int) -> Sample:
    return transform(sample, np.random.default_rng(seed))


@pytest.mark.parametrize("name", EVERY)
@FAST
@given(case=boxed_samples(), seed=st.integers(0, 2**32 - 1))
def test_box_matches_its_mask(name: str, case: tuple[Sample, np.ndarray], seed: int) -> None:
    """The transformed box is within 1 px of the box of the transformed mask."""
    out = run(EVERY[name], case[0], seed)
    found = mask_box(out.mask)
    if len(out.boxes) == 0:  # dropped: under 1 px, so the mask is at most a line
        assert found is None or min(found[2:] - found[:2]) <= 1
        return
    assert out.labels.tolist() == [5]
    box = out.boxes[0]
    if found is None:  # a box under 2 px can fall between pixel centres
        assert min(box[2:] - box[:2]) < 2
        return
    assert np.abs(found - box).max() <= 1 + FLOAT32_SLACK


@pytest.mark.parametrize("name", [n for n in EVERY if n not in ("fused", "rotate-stretch")])
@FAST
@given(case=boxed_samples(), seed=st.integers(0, 2**32 - 1))
def test_mask_is_the_transformed_polygon(
    name: str, case: tuple[Sample, np.ndarray], seed: int
) -> None:
    """Every pixel is in the mask iff its centre maps back into the box (0.01 px ambiguity).

    The box holds every pixel centre of the polygon; a rasterised box is exactly their box.
    """
    sample, box = case
    warp = EVERY[name].plan(sample.size, np.random.default_rng(seed))
    out = warp.apply(sample)
    width, height = warp.size
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    centres = np.stack([cols.ravel(), rows.ravel()], axis=1)
    back = transform_points(centres, np.linalg.inv(warp.matrix)).astype(np.float64)
    inside = ((back >= box[:2]) & (back < box[2:])).all(axis=1)
    margin = np.minimum(np.abs(back - box[:2]), np.abs(back - box[2:])).min(axis=1)
    differs = inside != out.mask.ravel().astype(bool)
    assert (margin[differs] < 0.01).all()
    clear = inside & (margin >= 0.01)
    if len(out.boxes):  # the box holds every pixel centre of the mask
        x0, y0, x1, y1 = out.boxes[0]
        c = centres[clear]
        assert ((c >= (x0, y0)) & (c <= (x1, y1))).all()
    else:
        assert clear.sum() <= max(width, height)
    if name in SKEWING:  # the box of the covered pixel centres, or dropped if none
        mapped = np.column_stack([centres, np.ones(len(centres))]) @ np.linalg.inv(warp.matrix).T
        back = mapped[:, :2] / mapped[:, 2:]  # in float64, as the box is rasterised
        c = centres[((back >= box[:2]) & (back < box[2:])).all(axis=1)]
        assert len(out.boxes) == (len(c) > 0)
        if len(c):
            covered = np.concatenate([c.min(axis=0) - 0.5, c.max(axis=0) + 0.5])
            np.testing.assert_allclose(out.boxes[0], covered, atol=FLOAT32_SLACK)


@pytest.mark.parametrize("name", EVERY)
@FAST
@given(case=boxed_samples(), seed=st.integers(0, 2**32 - 1))
def test_keypoints_follow_the_box(name: str, case: tuple[Sample, np.ndarray], seed: int) -> None:
    """The box corners, as keypoints, span the box whenever the box is not cut.

    A rasterised box (shear, perspective) ends on the pixels its corners fall in.
    """
    out = run(EVERY[name], case[0], seed)
    corners = out.keypoints[:4]
    width, height = out.size
    uncut = (corners >= 0.5).all() and (corners <= (width - 0.5, height - 0.5)).all()
    if uncut and len(out.boxes):
        spanned = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
        if name in SKEWING:
            assert (out.boxes[0][:2] >= spanned[:2] - 0.5 - 1e-3).all()
            assert (out.boxes[0][2:] <= spanned[2:] + 0.5 + 1e-3).all()
        else:
            np.testing.assert_allclose(out.boxes[0], spanned, atol=1e-3)


@pytest.mark.parametrize("name", EVERY)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_image_and_mask_stay_aligned(name: str, seed: int, data: st.DataObject) -> None:
    """A mask equal to the thresholded image stays equal, away from edges and borders."""
    blocks = data.draw(st.lists(st.booleans(), min_size=48, max_size=48))
    pattern = np.kron(np.array(blocks, np.uint8).reshape(6, 8), np.ones((6, 6), np.uint8))
    sample = Sample(pattern * 255, mask=pattern + 1)  # mask 0 marks canvas off the image
    out = run(EVERY[name], sample, seed)
    steady = cv2.erode(out.mask, np.ones((3, 3))) == cv2.dilate(out.mask, np.ones((3, 3)))
    steady[[0, -1]] = steady[:, [0, -1]] = False  # the canvas border has no outer neighbour
    np.testing.assert_array_equal((out.image > 127)[steady], (out.mask == 2)[steady])


@pytest.mark.parametrize("name", EVERY)
def test_same_seed_same_result(name: str) -> None:
    sample, _ = boxed_sample(30, 40, (3, 5, 25, 20))
    first, second = run(EVERY[name], sample, 7), run(EVERY[name], sample, 7)
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.mask, second.mask)
    np.testing.assert_array_equal(first.boxes, second.boxes)


def test_flips_and_quarter_turns_are_pixel_exact() -> None:
    image = np.random.default_rng(0).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    sample = Sample(image, keypoints=[[0.5, 0.5]])
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(HorizontalFlip(p=1.0)(sample, rng).image, image[:, ::-1])
    np.testing.assert_array_equal(VerticalFlip(p=1.0)(sample, rng).image, image[::-1])
    turned = Rotate((90, 90))(sample, rng)
    np.testing.assert_array_equal(turned.image, np.rot90(image))
    np.testing.assert_allclose(turned.keypoints, [[0.5, 11.5]], atol=1e-5)


def test_inputs_are_not_changed() -> None:
    sample, box = boxed_sample(30, 40, (3, 5, 25, 20))
    image, mask = sample.image.copy(), sample.mask.copy()
    run(Compose(list(EVERY.values())), sample, 3)
    np.testing.assert_array_equal(sample.image, image)
    np.testing.assert_array_equal(sample.mask, mask)
    np.testing.assert_array_equal(sample.boxes[0], box)


def test_mosaic_keeps_boxes_on_their_masks() -> None:
    rng = np.random.default_rng(1)
    tiles = []
    for label in range(4):
        mask = np.zeros((30 + 10 * label, 50, 1), np.uint8)[..., 0]
        mask[5:25, 8 + label : 40] = label + 1
        box = [[8 + label, 5, 40, 25]]
        tiles.append(Sample(np.dstack([mask * 60] * 3), boxes=box, labels=[label], mask=mask))
    out = Mosaic(size=(64, 80))(tiles, rng)
    assert out.image.shape == (64, 80, 3) and out.mask.shape == (64, 80)
    for box, label in zip(out.boxes, out.labels, strict=True):
        assert np.abs(mask_box(out.mask == label + 1) - box).max() <= 1 + FLOAT32_SLACK

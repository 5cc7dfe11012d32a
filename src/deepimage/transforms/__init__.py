"""Augmentation: one registry of presets (``deepimage augment list``): batch presets for
classification, box/mask-aware pipelines for the other tasks.

Every pipeline transform takes and returns a :class:`Sample` (uint8 RGB image, boxes
``xyxy``, labels, mask, keypoints) with an explicit ``np.random.Generator``.

Example:
    >>> import numpy as np
    >>> from deepimage.transforms import Sample, build_pipeline
    >>> s = Sample(np.zeros((32, 48, 3), np.uint8), boxes=[[4, 4, 20, 30]], labels=[1])
    >>> build_pipeline("detect")(s, np.random.default_rng(0)).image.shape
    (32, 48, 3)
"""

from deepimage.transforms.base import Transform
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
from deepimage.transforms.photometric import ColorJitter, GaussianBlur, GaussianNoise, RandomErasing
from deepimage.transforms.pipeline import build_pipeline, load_pipeline, preset_name
from deepimage.transforms.registry import (
    AUGMENTATIONS,
    STEPS,
    Augmentation,
    augmentation,
    augmentation_default,
    augmentation_names,
)
from deepimage.transforms.sample import Sample
from deepimage.transforms.warp import Warp

__all__ = [
    "AUGMENTATIONS",
    "STEPS",
    "Affine",
    "Augmentation",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "GaussianNoise",
    "Geometric",
    "HorizontalFlip",
    "Letterbox",
    "Mosaic",
    "Perspective",
    "RandomErasing",
    "RandomResizedCrop",
    "Resize",
    "Rotate",
    "Sample",
    "Transform",
    "Translate",
    "VerticalFlip",
    "Warp",
    "augmentation",
    "augmentation_default",
    "augmentation_names",
    "build_pipeline",
    "load_pipeline",
    "preset_name",
]

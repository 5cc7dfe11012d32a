"""Pipelines as plain data: a list of ``{name: ..., **params}`` steps, and presets per task.

The same spec serves every training task; a YAML file holds either the list or
``{steps: [...]}``. Mosaic takes four samples, so data sets apply it before the pipeline.

Example:
    >>> pipeline = build_pipeline([{"name": "horizontal_flip"}, {"name": "rotate", "degrees": 10}])
    >>> [type(step).__name__ for step in pipeline.steps]
    ['HorizontalFlip', 'Rotate']
    >>> len(build_pipeline("detect").steps) > 0
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deepimage.errors import DeepImageError
from deepimage.transforms.base import Transform
from deepimage.transforms.compose import Compose
from deepimage.transforms.geometric import (
    Affine,
    HorizontalFlip,
    Letterbox,
    Perspective,
    RandomResizedCrop,
    Resize,
    Rotate,
    Translate,
    VerticalFlip,
)
from deepimage.transforms.photometric import ColorJitter, GaussianBlur, GaussianNoise, RandomErasing

TRANSFORMS: dict[str, type[Transform]] = {
    "horizontal_flip": HorizontalFlip,
    "vertical_flip": VerticalFlip,
    "rotate": Rotate,
    "translate": Translate,
    "affine": Affine,
    "perspective": Perspective,
    "random_resized_crop": RandomResizedCrop,
    "resize": Resize,
    "letterbox": Letterbox,
    "color_jitter": ColorJitter,
    "gaussian_blur": GaussianBlur,
    "gaussian_noise": GaussianNoise,
    "random_erasing": RandomErasing,
    "cutout": RandomErasing,
}
"""Step names accepted in a spec."""

Spec = Sequence[Mapping[str, Any]]

PRESETS: dict[str, Spec] = {
    "classify-light": [
        {"name": "horizontal_flip"},
        {"name": "affine", "translate": 0.1, "scale": [0.9, 1.1]},
    ],
    "classify-strong": [
        {"name": "horizontal_flip"},
        {"name": "affine", "degrees": 15, "translate": 0.1, "scale": [0.8, 1.2], "shear": 5},
        {
            "name": "color_jitter",
            "brightness": 0.3,
            "contrast": 0.3,
            "saturation": 0.3,
            "hue": 0.02,
        },
        {"name": "gaussian_blur", "sigma": [0.1, 1.5], "p": 0.2},
        {"name": "random_erasing", "p": 0.5},
    ],
    "detect": [
        {"name": "horizontal_flip"},
        {"name": "affine", "degrees": 5, "translate": 0.1, "scale": [0.6, 1.4]},
        {
            "name": "color_jitter",
            "brightness": 0.3,
            "contrast": 0.3,
            "saturation": 0.5,
            "hue": 0.015,
        },
        {"name": "gaussian_blur", "sigma": [0.1, 1.5], "p": 0.1},
    ],
    "segment": [
        {"name": "horizontal_flip"},
        {"name": "vertical_flip"},
        {"name": "affine", "degrees": 30, "translate": 0.05, "scale": [0.8, 1.25]},
        {"name": "color_jitter", "brightness": 0.2, "contrast": 0.2},
        {"name": "gaussian_noise", "std": [2, 10], "p": 0.2},
    ],
}
"""Pipelines per task; none resizes, so a training task appends ``resize`` or ``letterbox``."""


def build_pipeline(spec: str | Spec) -> Compose:
    """A :class:`Compose` from a preset name or a list of ``{name: ..., **params}`` steps.

    Raises:
        DeepImageError: an unknown preset or step name, or bad parameters, naming the step.

    Example:
        >>> build_pipeline([{"name": "rotate", "degree": 5}])
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: step 1 (rotate): unexpected parameter 'degree'; accepted: degrees, fill, mask_fill, p
    """
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise DeepImageError(f"unknown preset {spec!r}: choose one of {', '.join(PRESETS)}")
        spec = PRESETS[spec]
    return Compose([_step(index, step) for index, step in enumerate(spec, start=1)])


def load_pipeline(path: str | os.PathLike[str]) -> Compose:
    """The pipeline of a YAML file holding a step list or ``{steps: [...]}``.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "aug.yaml"
        >>> _ = path.write_text("steps:\\n  - name: vertical_flip\\n    p: 1.0\\n")
        >>> load_pipeline(path).steps[0].p
        1.0
    """
    try:
        spec = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DeepImageError(f"{path}: cannot read the pipeline file: {error}") from error
    if isinstance(spec, Mapping):
        spec = spec.get("steps")
    if not isinstance(spec, list):
        raise DeepImageError(f"{path}: expected a list of steps or {{steps: [...]}}")
    try:
        return build_pipeline(spec)
    except DeepImageError as error:
        raise DeepImageError(f"{path}: {error}") from error


def _step(index: int, step: Any) -> Transform:
    if not isinstance(step, Mapping) or "name" not in step:
        raise DeepImageError(f"step {index}: expected a mapping with a 'name', not {step!r}")
    params = dict(step)
    name = params.pop("name")
    if name not in TRANSFORMS:
        raise DeepImageError(
            f"step {index}: unknown transform {name!r}; choose one of {', '.join(TRANSFORMS)}"
        )
    cls = TRANSFORMS[name]
    accepted = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise DeepImageError(
            f"step {index} ({name}): unexpected parameter {unknown[0]!r}; accepted: {', '.join(accepted)}"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as error:
        raise DeepImageError(f"step {index} ({name}): {error}") from error

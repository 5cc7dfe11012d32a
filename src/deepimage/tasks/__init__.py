"""Tasks: each one a registered spec (light, in ``<task>_spec.py``) and its hooks, its
LightningModule and its metrics (heavy). Importing this package registers the tasks."""

from deepimage.tasks import (  # noqa: F401  (registers)
    classification_spec,
    detection_spec,
    generation_spec,
    ocr_spec,
    segmentation_spec,
    video_spec,
)

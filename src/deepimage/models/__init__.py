"""Model builders behind one registry: ``create_model(task, name, **kw)``, ``list_models(task)``."""

from deepimage.models import classification as _classification  # noqa: F401  (registers models)
from deepimage.models import detection as _detection  # noqa: F401
from deepimage.models import detection_tiny as _detection_tiny  # noqa: F401
from deepimage.models import generation as _generation  # noqa: F401
from deepimage.models import ocr as _ocr  # noqa: F401
from deepimage.models import recurrent as _recurrent  # noqa: F401
from deepimage.models import segmentation as _segmentation  # noqa: F401
from deepimage.models import video as _video  # noqa: F401
from deepimage.models.registry import (
    MAX_PARAMETERS,
    ModelInfo,
    create_model,
    list_models,
    model_info,
    parameter_count,
)

__all__ = [
    "MAX_PARAMETERS",
    "ModelInfo",
    "create_model",
    "list_models",
    "model_info",
    "parameter_count",
]

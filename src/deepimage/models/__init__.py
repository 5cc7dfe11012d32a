"""Model builders behind one registry: ``create_model(task, name, **kw)``, ``list_models(task)``."""

from deepimage.models import classification as _classification  # noqa: F401  (registers models)
from deepimage.models.registry import ModelInfo, create_model, list_models

__all__ = ["ModelInfo", "create_model", "list_models"]

"""The Python API: one class per task with fit / evaluate / predict / load."""

from deepimage.api.classifier import Classifier

__all__ = ["Classifier"]

"""The Python API: one class per task with fit / evaluate / predict / load.

Imported lazily, so that commands which need no torch (``deepimage process``) start fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Classifier", "Detector", "FaceRecognizer"]


def __getattr__(name: str) -> Any:
    if name == "Classifier":
        from deepimage.api.classifier import Classifier

        return Classifier
    if name == "Detector":
        from deepimage.api.detector import Detector

        return Detector
    if name == "FaceRecognizer":
        from deepimage.api.faces import FaceRecognizer

        return FaceRecognizer
    raise AttributeError(name)

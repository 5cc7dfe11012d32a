"""The Python API: ``Model`` (any registered task) and one named class per task
(``Classifier``, ``Detector``, ``Segmenter``, ``Generator``, ``TextRecognizer``), with
fit / evaluate / predict / load / resume.

Imported lazily, so that commands which need no torch (``deepimage process``) start fast.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Classifier",
    "Detector",
    "FaceRecognizer",
    "Generator",
    "Model",
    "Segmenter",
    "TextRecognizer",
]


def __getattr__(name: str) -> Any:
    if name == "Classifier":
        from deepimage.api.classifier import Classifier

        return Classifier
    if name == "Detector":
        from deepimage.api.detector import Detector

        return Detector
    if name == "Generator":
        from deepimage.api.generator import Generator

        return Generator
    if name == "Segmenter":
        from deepimage.api.segmenter import Segmenter

        return Segmenter
    if name == "TextRecognizer":
        from deepimage.api.ocr import TextRecognizer

        return TextRecognizer
    if name == "Model":
        from deepimage.api.model import Model

        return Model
    if name == "FaceRecognizer":
        from deepimage.api.faces import FaceRecognizer

        return FaceRecognizer
    raise AttributeError(name)

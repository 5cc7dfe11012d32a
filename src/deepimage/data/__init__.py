"""Data sets and formats: IDX files, classification data (built-in names, image folders,
CSV files), detection data (:mod:`deepimage.data.detection`), segmentation data
(:mod:`deepimage.data.segmentation`), the lookup of data set names
(:mod:`deepimage.data.names`) and data inspection. Nothing here imports torch.

Example:
    >>> from deepimage.data import BUILTIN_DATASETS
    >>> BUILTIN_DATASETS
    ('digits', 'fashion-mnist', 'mnist')
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "BUILTIN_DATASETS": "classification",
    "ClassificationData": "classification",
    "Split": "classification",
    "load_classification_data": "classification",
    "stratified_split": "classification",
    "read_idx": "idx",
    "write_idx": "idx",
    "inspect_data": "inspect",
    "data_search_dirs": "names",
    "find_data": "names",
}
"""Where each name lives: loaded on first use, so importing one data module (as the
command line does) does not load them all."""


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'deepimage.data' has no attribute {name!r}")
    return getattr(import_module(f"deepimage.data.{_HOMES[name]}"), name)


__all__ = [
    "BUILTIN_DATASETS",
    "ClassificationData",
    "Split",
    "data_search_dirs",
    "find_data",
    "inspect_data",
    "load_classification_data",
    "read_idx",
    "stratified_split",
    "write_idx",
]

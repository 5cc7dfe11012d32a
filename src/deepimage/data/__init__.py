"""Data sets and formats: IDX files, classification data (built-in names, image folders,
CSV files), detection data (:mod:`deepimage.data.detection`), segmentation data
(:mod:`deepimage.data.segmentation`), the lookup of data set names
(:mod:`deepimage.data.names`) and data inspection. Nothing here imports torch.

Example:
    >>> from deepimage.data import BUILTIN_DATASETS
    >>> BUILTIN_DATASETS
    ('digits', 'fashion-mnist', 'mnist')
"""

from deepimage.data.classification import (
    BUILTIN_DATASETS,
    ClassificationData,
    Split,
    load_classification_data,
    stratified_split,
)
from deepimage.data.idx import read_idx, write_idx
from deepimage.data.inspect import inspect_data
from deepimage.data.names import data_search_dirs, find_data

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

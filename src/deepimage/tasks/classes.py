"""Matching the class names of data to a model's: by name, never by position.

Example:
    >>> class_index(["cat", "dog"], ["dog", "cat"])
    [1, 0]
    >>> class_index(["0", "1"], ["shirt", "shoe"], source="digits")
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: digits: its classes (0, 1) are not the model's (shirt, shoe): 0 is unknown to the model. Evaluate on data of the model's classes, or pass --class-map 'data=model,...' (or a YAML file) to map them.
    >>> class_index(["0", "1"], ["shirt", "shoe"], "0=shirt,1=shoe")
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deepimage.engine.settings import read_yaml
from deepimage.errors import DeepImageError


def parse_class_map(text: str) -> dict[str, str]:
    """``--class-map``: a YAML or JSON file of ``data: model`` names, or ``a=b,c=d`` pairs."""
    path = Path(text)
    if path.is_file():
        mapping = read_yaml(path, "class map")
        names = (str, int, float)  # YAML reads a class called 1 as a number
        if not isinstance(mapping, dict) or not all(
            isinstance(key, names) and isinstance(value, names) for key, value in mapping.items()
        ):
            raise DeepImageError(f"{path}: a class map is a mapping of data name: model name.")
        return {str(key): str(value) for key, value in mapping.items()}
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise DeepImageError(
            f"--class-map {text!r}: give 'data=model' pairs separated by commas, or a YAML file."
        )
    return {data.strip(): model.strip() for data, model in pairs}


def class_index(
    data_classes: Sequence[str],
    model_classes: Sequence[str],
    class_map: str | None = None,
    source: str = "the data",
) -> list[int]:
    """For each class of the data, the index of the model's class it is (mapped through
    ``class_map`` first); a class the model does not know is a clear error."""
    mapping = parse_class_map(class_map) if class_map else {}
    model = {name: index for index, name in enumerate(model_classes)}
    named = [mapping.get(name, name) for name in data_classes]
    unknown = [
        original for original, name in zip(data_classes, named, strict=True) if name not in model
    ]
    if unknown:
        raise DeepImageError(
            f"{source}: its classes ({', '.join(data_classes)}) are not the model's "
            f"({', '.join(model_classes)}): {unknown[0]} is unknown to the model. Evaluate on "
            "data of the model's classes, or pass --class-map 'data=model,...' (or a YAML "
            "file) to map them."
        )
    return [model[name] for name in named]


def class_folder(name: str) -> str:
    """The folder name a class's outputs go in (predict's sorted copies, crops): path
    separators become ``-``; a name that would be hidden or mean a folder itself (``.``,
    ``..``) starts with ``_``.

    Example:
        >>> class_folder("T-shirt/top"), class_folder(".."), class_folder("cat")
        ('T-shirt-top', '_..', 'cat')
    """
    folder = name.replace("/", "-").replace("\\", "-")
    return f"_{folder}" if not folder or folder.startswith(".") else folder

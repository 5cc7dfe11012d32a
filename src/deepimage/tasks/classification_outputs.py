"""``classify predict -o``: each image copied, byte for byte, into a folder named after its
predicted label (``out/<label>/<file name>``), and ``out/predictions.csv`` of every row.

Copies are named as :func:`~deepimage.io.outputs.output_paths` names them (same names
numbered across all the inputs, so the names are known before any image is predicted);
a file already there is refused, before the first image is predicted, unless
``overwrite``.

Example:
    >>> import tempfile, pathlib
    >>> from deepimage.tasks.classification_spec import ClassifyPredict
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "a.png").write_bytes(b"\\x89PNG")
    >>> rows = [{"path": str(root / "a.png"), "label": "cat", "score": 0.9, "top": []}]
    >>> write_outputs(None, rows, ClassifyPredict(out=str(root / "out"))) == str(root / "out")
    True
    >>> (root / "out" / "cat" / "a.png").read_bytes(), (root / "out" / CSV_NAME).is_file()
    (b'\\x89PNG', True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder, copy_file, write_csv
from deepimage.io.outputs import output_paths
from deepimage.io.paths import shown_path
from deepimage.tasks.classes import class_folder
from deepimage.tasks.classification_spec import ClassifyPredict

CSV_NAME = "predictions.csv"
"""The table of predictions in the ``-o`` folder."""


def write_outputs(module: Any, rows: list[dict[str, Any]], settings: ClassifyPredict) -> str | None:
    """With ``settings.out``, copy each row's file into ``out/<its label folder>`` (each
    row gains ``copy_file``) and write :data:`CSV_NAME` (rows of arrays, which have no
    file, are left out); the folder, or None."""
    if not settings.out:
        return None
    files = [row for row in rows if row["path"] is not None]
    folders = {class_folder(row["label"]) for row in files}
    plans = _copy_plans([Path(row["path"]) for row in files], settings, sorted(folders))
    for row in files:
        target = plans[class_folder(row["label"])][Path(row["path"])]
        copy_file(row["path"], target)
        row["copy_file"] = shown_path(target)
    write_csv(Path(settings.out) / CSV_NAME, *prediction_table(files))
    return settings.out


def check_outputs(files: list[Path], settings: ClassifyPredict) -> None:
    """Refuse what :func:`write_outputs` would refuse, before any image is predicted: a
    folder that cannot be written, a copy's name already in a folder of the ``-o`` folder
    (whatever label the image gets), or :data:`CSV_NAME` already there, unless
    ``settings.overwrite``."""
    if not settings.out:
        return
    out = check_writable_folder(settings.out)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    _copy_plans(files, settings, folders)
    table = out / CSV_NAME
    if table.exists() and not settings.overwrite:
        raise DeepImageError(
            f"{table} already exists; pass --overwrite to replace existing outputs, "
            "or choose another -o/--out folder"
        )


def prediction_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the CSV: path, label, score, then the 2nd to k-th best labels and
    scores (``top2_label, top2_score, ...``) when rows list more than one.

    Example:
        >>> top = [{"label": "cat", "score": 0.7}, {"label": "dog", "score": 0.2}]
        >>> prediction_table([{"path": "/a.png", "label": "cat", "score": 0.7, "top": top}])
        (['path', 'label', 'score', 'top2_label', 'top2_score'], [['/a.png', 'cat', 0.7, 'dog', 0.2]])
    """
    k = max((len(row["top"]) for row in rows), default=1)
    header = ["path", "label", "score"]
    header += [f"top{n}_{key}" for n in range(2, k + 1) for key in ("label", "score")]
    table = [
        [row["path"], row["label"], row["score"]]
        + [entry[key] for entry in row["top"][1:] for key in ("label", "score")]
        for row in rows
    ]
    return header, table


def _copy_plans(
    files: list[Path], settings: ClassifyPredict, folders: list[str]
) -> dict[str, dict[Path, Path]]:
    """``{folder: {input file: its copy in out/folder}}``; the names are the same in every
    folder, since they are numbered across all of ``files``."""
    pairs = [(path.parent, path) for path in files]
    existing = "overwrite" if settings.overwrite else "refuse"
    out = Path(str(settings.out))
    return {folder: output_paths(pairs, out / folder, existing=existing) for folder in folders}

"""The images of a face command and their scan: files found, labelled folders read, each
image analysed (:func:`~deepimage.faces.analyse.analyse_image`), with ``workers`` > 1 in
worker processes that load the models once each; results come back in input order.

Folders are searched recursively for files with an image extension and for files of
any other name whose content starts like an image (the Yale faces are GIFs named
``subject01.happy``). Labelled folders have one subfolder per person
(``label_from="folder"``) or name each file after its person up to the first dot
(``"name-prefix"``, as ``subject01.happy``); ``"auto"`` picks subfolders when there are any.
:class:`~deepimage.api.faces.FaceRecognizer` runs its verbs on these.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any, Literal

from deepimage.api.parallel import ordered_map, progress_bar
from deepimage.errors import DeepImageError
from deepimage.faces import analyse
from deepimage.faces.analyse import FaceOptions, analyse_image
from deepimage.faces.models import cnn_has_run
from deepimage.io.paths import find_images, shown_path

LabelFrom = Literal["auto", "folder", "name-prefix"]
LABEL_FROM: tuple[LabelFrom, ...] = ("auto", "folder", "name-prefix")
NO_FACE = "no face found (pass --assume-face if the image is a cropped face)"

# --- finding the images -------------------------------------------------------------


def expand_inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, Path]]:
    """(root, file) of every image of ``inputs``, each file once."""
    inputs = list(inputs)
    seen: set[Path] = set()
    found = []
    for item in inputs:
        root, files = find_images(item, by_content=True)
        for file in files:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append((root, file))
    if not found:
        raise DeepImageError(f"no image files found in {', '.join(map(str, inputs))}")
    return found


def labelled_images(
    folder: str | os.PathLike[str], label_from: LabelFrom = "auto"
) -> tuple[list[tuple[str, Path]], list[dict[str, str]]]:
    """((person, image) pairs sorted by person, unlabelled files) of a labelled folder.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "ann").mkdir()
        >>> for name in ("ann/1.jpg", "ann/2.jpg", "stray.jpg"):
        ...     _ = (root / name).write_bytes(b"")
        >>> pairs, unlabelled = labelled_images(root)
        >>> [(name, path.name) for name, path in pairs], unlabelled[0]["reason"]
        ([('ann', '1.jpg'), ('ann', '2.jpg')], 'not in a person subfolder')
    """
    root = Path(folder)
    if not root.is_dir():
        raise DeepImageError(
            f"{root}: not a folder; give a folder with one subfolder per person, or "
            "--name NAME with the images of one person"
        )
    if label_from not in LABEL_FROM:
        raise DeepImageError(f"label_from must be one of {', '.join(LABEL_FROM)}")
    _, files = find_images(root, by_content=True)
    if label_from == "auto":
        label_from = "folder" if any(p.is_dir() for p in root.iterdir()) else "name-prefix"
    pairs, unlabelled = [], []
    for file in files:
        parts = file.relative_to(root).parts
        if label_from == "name-prefix":
            pairs.append((file.name.split(".", 1)[0], file))
        elif len(parts) > 1:
            pairs.append((parts[0], file))
        else:
            unlabelled.append({"path": shown_path(file), "reason": "not in a person subfolder"})
    return sorted(pairs, key=lambda pair: pair[0]), unlabelled


# --- many images --------------------------------------------------------------------


def scan(
    files: Sequence[Path], options: FaceOptions, workers: int = 1, quiet: bool = True
) -> Iterator[dict[str, Any]]:
    """:func:`analyse_image` of every file, in input order, with a progress bar unless
    ``quiet``; ``workers`` > 1 runs that many processes (one thread each), except in a
    process that has run dlib's CNN when the workers may run it too (the CNN's thread pool
    hangs in forked processes; see :func:`~deepimage.faces.models.cnn_has_run`): it then
    does the work itself."""
    if workers < 1:
        raise DeepImageError(f"workers must be at least 1, got {workers}")
    options = options.check()
    if cnn_has_run() and (options.method == "cnn" or options.fallback):
        workers = 1
    work = partial(analyse_image, options=options)
    rows = (
        (work(file) for file in files)
        if workers == 1 or len(files) == 1
        else ordered_map(
            work,
            iter(files),
            min(workers, len(files)),
            initializer=analyse.load_models,  # before the first image
            initargs=(options,),
        )
    )
    with closing(rows), progress_bar(quiet) as progress:
        task = progress.add_task("faces", total=len(files))
        for row in rows:
            progress.advance(task)
            yield row


# --- scan rows ----------------------------------------------------------------------


def single_face(row: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(the one face of an image row, "") or (None, why it cannot be used to enroll)."""
    if "error" in row:
        return None, row["reason"]
    found = len(row["faces"])
    if found == 1:
        return row["faces"][0], ""
    if found == 0:
        return None, NO_FACE
    return None, f"{found} faces found; use images that show one person's face only"


def skipped_entry(row: dict[str, Any]) -> dict[str, str]:
    """The ``{path, reason}`` entry of an image row that could not be read."""
    return {"path": row["path"], "reason": row["reason"]}

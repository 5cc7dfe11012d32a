"""Export files of a face gallery: where one may be written, writing it, reading it back.

An export is one JSON document, ``{"format": "deepimage-face-gallery", "version": 1,
"identities": [{name, created, embeddings: [{model, vector, source, created}]}]}``,
written atomically (a full disk leaves no file). :meth:`Gallery.export
<deepimage.faces.gallery.Gallery.export>` and :meth:`Gallery.import_file
<deepimage.faces.gallery.Gallery.import_file>` run on these functions; reading keeps what
can be used and lists the rest as ``{path, reason}``.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "faces.json"
    >>> rows = [("ann", "2024", 1, "toy", b"\\0" * 8, None, "2024"), ("bob", "2024", *[None] * 5)]
    >>> write_export(path, rows, lambda row_id, name, model, blob: True)
    (2, 1)
    >>> people, skipped = read_export(path)
    >>> [(p["name"], len(p["embeddings"])) for p in people], skipped
    ([('ann', 1), ('bob', 0)], [])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.faces.gallery_format import SCHEMA_VERSION, VECTOR_DTYPE, as_vectors, check_name
from deepimage.io.files import write_json
from deepimage.io.paths import shown_path

EXPORT_FORMAT = "deepimage-face-gallery"
_OWN_FILES = ("", "-wal", "-shm", "-journal")  # the gallery file and SQLite's files beside it

Usable = Callable[[int, str, str, Any], bool]
"""Whether a stored embedding (row id, name, model, vector blob) may be exported."""


def export_target(target: Path, gallery: Path, overwrite: bool) -> Path:
    """``target`` if an export of the gallery file ``gallery`` may be written there: not
    the gallery's own files, not a folder, and new unless ``overwrite``."""
    own = {Path(f"{gallery}{suffix}").resolve() for suffix in _OWN_FILES}
    if target.resolve() in own or (target.exists() and os.path.samefile(target, gallery)):
        raise DeepImageError(
            f"{target}: that is the face gallery itself; export to another file (e.g. faces.json)"
        )
    if target.is_dir():
        raise DeepImageError(f"{target}: a folder; give the export a file name")
    if os.path.lexists(target) and not overwrite:
        raise DeepImageError(
            f"{target}: the file exists; pass --force to replace it, or choose another file"
        )
    return target


def write_export(target: Path, rows: Sequence[tuple[Any, ...]], usable: Usable) -> tuple[int, int]:
    """Write the export of ``rows`` to ``target``; returns (identities, embeddings) written.

    ``rows`` are ``(name, created, embedding id, model, vector blob, source, created)``,
    sorted by name, with the embedding's five fields None for a person without any;
    embeddings that are not ``usable`` are left out.
    """
    people: dict[str, dict[str, Any]] = {}
    for name, created, row_id, model, blob, source, when in rows:
        person = people.setdefault(name, {"name": name, "created": created, "embeddings": []})
        if row_id is not None and usable(row_id, name, model, blob):
            vector = np.frombuffer(blob, VECTOR_DTYPE).tolist()
            person["embeddings"].append(
                {"model": model, "vector": vector, "source": source, "created": when}
            )
    document = {
        "format": EXPORT_FORMAT,
        "version": SCHEMA_VERSION,
        "identities": list(people.values()),
    }
    write_json(target, document)  # a full disk: WriteError, and no file left
    return len(people), sum(len(person["embeddings"]) for person in people.values())


def read_export(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(the usable identities of an export file, ``{path, reason}`` of what was left out).

    Each identity is ``{name, created, embeddings: [{model, vector, source, created,
    where}]}`` with ``vector`` a finite float64 array. A file that is not an export at
    all raises; identities and embeddings that cannot be used are left out.
    """
    if path.exists() and not path.is_file():
        raise DeepImageError(f"{path}: not a file; give the JSON file deepimage face export wrote")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeepImageError(f"{path}: cannot read the file ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DeepImageError(f"{path}: not a gallery export (not JSON: {error})") from None
    except RecursionError:
        raise DeepImageError(
            f"{path}: not a gallery export (JSON nested too deeply); give the file "
            "deepimage face export wrote"
        ) from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise DeepImageError(
            f'{path}: not a gallery export (no "format": "{EXPORT_FORMAT}"); '
            "make one with deepimage face export"
        )
    if not isinstance(data.get("version"), int) or data["version"] > SCHEMA_VERSION:
        raise DeepImageError(f"{path}: export version {data.get('version')!r} is not supported")
    people = data.get("identities")
    if not isinstance(people, list):
        raise DeepImageError(f'{path}: "identities" must be a list')
    usable, skipped = [], []
    for number, person in enumerate(people, 1):
        try:
            usable.append(_person(number, person, skipped, shown_path(path)))
        except DeepImageError as error:
            skipped.append({"path": shown_path(path), "reason": f"identity {number}: {error}"})
    return usable, skipped


def _text_or_none(value: Any) -> bool:
    return isinstance(value, (str, type(None)))


def _person(number: int, person: Any, skipped: list[dict[str, str]], shown: str) -> dict[str, Any]:
    """One identity of an export with its usable embeddings; the others are added to
    ``skipped``. Raises when the identity itself cannot be used."""
    if not isinstance(person, dict) or not isinstance(person.get("embeddings"), list):
        raise DeepImageError('expected {"name": ..., "embeddings": [...]}; left out')
    name = check_name(person.get("name"))
    created = person.get("created") if isinstance(person.get("created"), str) else None
    embeddings = []
    for index, item in enumerate(person["embeddings"], 1):
        where = f"identity {number} ({name!r}), embedding {index}"
        if not (
            isinstance(item, dict)
            and isinstance(item.get("model"), str)
            and isinstance(item.get("vector"), list)
            and _text_or_none(item.get("source"))
            and _text_or_none(item.get("created"))
        ):
            reason = 'needs a "model" text and a "vector" list ("source", "created": text or null)'
            skipped.append({"path": shown, "reason": f"{where}: {reason}"})
            continue
        try:
            vector = as_vectors([item["vector"]], where)[0]
        except DeepImageError as error:
            skipped.append({"path": shown, "reason": str(error)})
            continue
        embeddings.append({
            "model": item["model"], "vector": vector, "source": item.get("source"),
            "created": item.get("created"), "where": where,
        })  # fmt: skip
    return {"name": name, "created": created, "embeddings": embeddings}


def import_plan(
    people: list[dict[str, Any]],
    sizes: dict[str, int],
    skipped: list[dict[str, str]],
    shown: str,
) -> list[tuple[str, str | None, dict[str, tuple[np.ndarray, list[Any], list[Any]]]]]:
    """(name, created, {model: (vectors, sources, created)}) of each identity of
    :func:`read_export` to import into a gallery whose models' vectors are ``sizes`` bytes
    long; an embedding of another length than its model's (the gallery's, else the most
    common in the file) is added to ``skipped`` instead."""
    lengths = _usual_lengths(people)
    lengths.update({model: size // VECTOR_DTYPE.itemsize for model, size in sizes.items()})
    plan = []
    for person in people:
        by_model: dict[str, list[dict[str, Any]]] = {}
        for item in person["embeddings"]:
            wanted = lengths[item["model"]]
            if len(item["vector"]) == wanted:
                by_model.setdefault(item["model"], []).append(item)
            else:
                reason = f"{len(item['vector'])} values where {item['model']} has {wanted}"
                skipped.append({"path": shown, "reason": f"{item['where']}: {reason}"})
        models = {
            model: (
                np.stack([item["vector"] for item in items]),
                [item["source"] for item in items],
                [item["created"] for item in items],
            )
            for model, items in by_model.items()
        }
        plan.append((person["name"], person["created"], models))
    return plan


def _usual_lengths(people: list[dict[str, Any]]) -> dict[str, int]:
    """The most common vector length of each model among the embeddings of ``people``."""
    counts: dict[tuple[str, int], int] = {}
    for person in people:
        for item in person["embeddings"]:
            key = (item["model"], len(item["vector"]))
            counts[key] = counts.get(key, 0) + 1
    return {model: length for (model, length), _ in sorted(counts.items(), key=lambda c: c[1])}

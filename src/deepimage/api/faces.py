"""``FaceRecognizer``: the face pipeline over files, folders and globs; the engine of ``deepimage face``.

Each image is read (:func:`deepimage.io.read_image`), its faces found, and on request
their landmarks and embeddings computed (:mod:`deepimage.faces`). ``workers`` > 1 does
that in worker processes that load the models once each; results come back in input
order. Enrollment commits one identity at a time, so an interrupted run keeps everyone
enrolled before it.

Folders are searched recursively for files with an image extension and for files of
any other name whose content starts like an image (the Yale faces are GIFs named
``subject01.happy``). Labelled folders have one subfolder per person
(``label_from="folder"``) or name each file after its person up to the first dot
(``"name-prefix"``, as ``subject01.happy``); ``"auto"`` picks subfolders when there are any.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.images import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "grey.png", np.full((64, 64), 128, np.uint8))
    >>> FaceRecognizer(root / "faces.db").detect([root])
    {'results': [{'path': '.../grey.png', 'faces': []}], 'skipped': [], 'out_dir': None}
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from deepimage.api.parallel import ordered_map, progress_bar
from deepimage.errors import DeepImageError
from deepimage.faces import analyse
from deepimage.faces.analyse import FaceOptions, analyse_image
from deepimage.faces.anonymize import anonymize as hide_faces
from deepimage.faces.calibrate import calibrate as calibrate_embeddings
from deepimage.faces.detect import Method
from deepimage.faces.gallery import Gallery, check_name, default_gallery_path
from deepimage.faces.index import IndexKind
from deepimage.faces.match import Metric, resolve_threshold, verify
from deepimage.faces.models import EMBEDDING_MODEL
from deepimage.io.files import fresh_dir, write_json
from deepimage.io.images import JPEG_QUALITY, LOSSY_SUFFIXES, read_image, write_image
from deepimage.io.outputs import output_paths
from deepimage.io.paths import find_images, shown_path
from deepimage.viz.draw import draw_boxes
from deepimage.viz.plots import plot_roc

LabelFrom = Literal["auto", "folder", "name-prefix"]
LABEL_FROM: tuple[LabelFrom, ...] = ("auto", "folder", "name-prefix")

# --- finding the images -------------------------------------------------------------


def _expand(inputs: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, Path]]:
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
    ``quiet``; ``workers`` > 1 runs that many processes (one thread each)."""
    if workers < 1:
        raise DeepImageError(f"workers must be at least 1, got {workers}")
    options = options.check()
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


def _save(target: Path, image: np.ndarray) -> None:
    quality = JPEG_QUALITY if target.suffix.lower() in LOSSY_SUFFIXES else None
    write_image(target, image, quality=quality)


def _draw(path: str, faces: Sequence[dict[str, Any]], labels: Sequence[str]) -> np.ndarray:
    """The image at ``path`` with its face boxes (and landmarks) drawn and labelled."""
    image = read_image(path)
    boxes = np.array([face["box"] for face in faces], np.float64).reshape(-1, 4)
    drawn = draw_boxes(image, boxes, list(labels))
    radius = max(1, round(max(image.shape[:2]) / 400))
    for face in faces:
        for x, y in face.get("landmarks", []):
            cv2.circle(drawn, (x, y), radius, (255, 0, 0), -1)
    return drawn


def _single_face(row: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(the one face of an image row, "") or (None, why it cannot be used to enroll)."""
    if "error" in row:
        return None, row["reason"]
    found = len(row["faces"])
    if found == 1:
        return row["faces"][0], ""
    if found == 0:
        return None, "no face found (try --upsample 2 or --method cnn)"
    return None, f"{found} faces found; use images that show one person's face only"


def _skipped(row: dict[str, Any]) -> dict[str, str]:
    """The ``{path, reason}`` entry of an image row that could not be read."""
    return {"path": row["path"], "reason": row["reason"]}


def _shown(folder: str | os.PathLike[str] | None) -> str | None:
    """An optional output folder as JSON names it (:func:`shown_path`), or None."""
    return None if folder is None else shown_path(folder)


def _area(face: dict[str, Any]) -> float:
    x1, y1, x2, y2 = face["box"]
    return (x2 - x1) * (y2 - y1)


class FaceRecognizer:
    """Detect, embed, enroll, identify, verify and calibrate on image files.

    ``gallery`` is the SQLite file of known people (default
    :func:`~deepimage.faces.gallery.default_gallery_path`). ``method``/``upsample``
    choose the face detector, ``jitters`` the embedding's resampling, ``metric``,
    ``threshold`` (the metric's default when None), ``knn`` and ``index`` how faces are
    matched, ``workers`` how many processes read and analyse images (forked on Linux;
    elsewhere a script needs the ``if __name__ == "__main__":`` guard), and ``quiet``
    hides the progress bar.
    """

    def __init__(
        self,
        gallery: str | os.PathLike[str] | None = None,
        *,
        method: Method = "hog",
        upsample: int = 1,
        jitters: int = 1,
        metric: Metric = "euclidean",
        threshold: float | None = None,
        knn: int = 1,
        index: IndexKind = "auto",
        workers: int = 1,
        quiet: bool = True,
    ) -> None:
        self.gallery_path = Path(gallery) if gallery is not None else default_gallery_path()
        self.options = FaceOptions(method, upsample, jitters=jitters).check()
        self.metric: Metric = metric
        self.threshold = resolve_threshold(metric, threshold)
        self.knn, self.index, self.workers, self.quiet = knn, index, workers, quiet

    def _rows(self, files: Sequence[Path], skip_bad: bool, **options: Any) -> Iterator[dict]:
        """Scan rows; a file that cannot be read stops the run unless ``skip_bad``."""
        rows = scan(files, replace(self.options, **options), self.workers, self.quiet)
        with closing(rows):
            for row in rows:
                if "error" in row and not skip_bad:
                    raise DeepImageError(row["error"])
                yield row

    def _each(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        out: str | os.PathLike[str] | None,
        skip_bad: bool,
        **options: Any,
    ) -> Iterator[tuple[dict[str, Any], Path | None]]:
        """(scan row, output file under ``out`` or None) of every image of ``inputs``."""
        pairs = _expand(inputs)
        targets = output_paths(pairs, out, writable=True) if out is not None else {}
        files = [file for _, file in pairs]
        rows = self._rows(files, skip_bad, **options)
        with closing(rows):
            for file, row in zip(files, rows, strict=True):
                yield row, targets.get(file)

    def detect(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        *,
        landmarks: Literal[5, 68] | None = None,
        embed: bool = False,
        out: str | os.PathLike[str] | None = None,
        skip_bad: bool = False,
    ) -> dict[str, Any]:
        """``{results: [{path, faces: [{box, score, landmarks?, embedding?}]}], skipped,
        out_dir}``: one result per image, boxes pixel-edge ``xyxy``, paths absolute.

        ``out`` (``out_dir``, else None) receives a copy of each image with its faces drawn.
        With ``skip_bad`` an unreadable file is listed under ``skipped`` as ``{path,
        reason}`` instead of stopping the run.
        """
        results, skipped = [], []
        for row, target in self._each(inputs, out, skip_bad, landmarks=landmarks, embed=embed):
            if "error" in row:
                skipped.append(_skipped(row))
                continue
            results.append(row)
            if target is not None:
                labels = [f"{face['score']:.2f}" for face in row["faces"]]
                _save(target, _draw(row["path"], row["faces"], labels))
        return {"results": results, "skipped": skipped, "out_dir": _shown(out)}

    def identify(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        *,
        out: str | os.PathLike[str] | None = None,
        skip_bad: bool = False,
    ) -> dict[str, Any]:
        """``{results: [{path, box, name, distance}], skipped, out_dir}``: one result per
        face found, ``unknown`` for faces that match nobody in the gallery.

        ``out`` (``out_dir``, else None) receives copies with names and distances drawn.
        With ``skip_bad`` an unreadable file is listed under ``skipped`` as ``{path,
        reason}`` instead of stopping the run.
        """
        results: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        with Gallery(self.gallery_path, create=False) as gallery:
            gallery.index(EMBEDDING_MODEL, self.metric, self.index)  # fail before the work
            for row, target in self._each(inputs, out, skip_bad, embed=True):
                if "error" in row:
                    skipped.append(_skipped(row))
                    continue
                matches = gallery.identify(
                    np.array([face["embedding"] for face in row["faces"]]),
                    metric=self.metric,
                    threshold=self.threshold,
                    knn=self.knn,
                    index=self.index,
                )
                results += [
                    {"path": row["path"], "box": face["box"], "name": name, "distance": distance}
                    for face, (name, distance) in zip(row["faces"], matches, strict=True)
                ]
                if target is not None:
                    labels = [f"{name} {distance:.2f}" for name, distance in matches]
                    _save(target, _draw(row["path"], row["faces"], labels))
        return {"results": results, "skipped": skipped, "out_dir": _shown(out)}

    def enroll(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        name: str | None = None,
        label_from: LabelFrom = "auto",
    ) -> dict[str, Any]:
        """Add people to the gallery, one transaction per person.

        With ``name``, every image of ``inputs`` shows that person; without it,
        ``inputs`` is one labelled folder (see :func:`labelled_images`). Each image must
        show exactly one face; the others, and unreadable files, are listed under
        ``skipped`` as ``{path, reason}``. Raises when nothing at all could be enrolled.
        Returns ``{gallery, model, images, enrolled: [{name, images, added}], skipped}``.
        """
        if name is not None:
            labelled, unlabelled = [(check_name(name), file) for _, file in _expand(inputs)], []
        elif len(inputs) == 1:
            labelled, unlabelled = labelled_images(inputs[0], label_from)
        else:
            raise DeepImageError(
                "give --name NAME with images of one person, or one folder with a subfolder "
                "per person"
            )
        if not labelled:
            raise DeepImageError(f"{inputs[0]}: no image files of people found")
        for person in {person for person, _ in labelled}:
            check_name(person)  # before any work: a folder named "unknown" stops the run
        enrolled, skipped = [], list(unlabelled)
        rows = self._rows([file for _, file in labelled], skip_bad=True, embed=True)
        with Gallery(self.gallery_path) as gallery, closing(rows):
            pairs = zip((person for person, _ in labelled), rows, strict=True)
            for person, group in groupby(pairs, key=lambda pair: pair[0]):
                vectors, sources = [], []
                for _, row in group:
                    face, reason = _single_face(row)
                    if face is None:
                        skipped.append({"path": row["path"], "reason": reason})
                    else:
                        vectors.append(face["embedding"])
                        sources.append(str(Path(row["path"]).resolve()))
                if vectors:
                    added = gallery.add(person, np.array(vectors), sources)
                    enrolled.append({"name": person, "images": len(vectors), "added": added})
        if not enrolled:
            reasons = "; ".join(f"{item['path']}: {item['reason']}" for item in skipped[:5])
            raise DeepImageError(f"nobody enrolled: no usable image ({reasons})")
        return {
            "gallery": shown_path(self.gallery_path),
            "model": EMBEDDING_MODEL,
            "images": len(labelled) + len(unlabelled),
            "enrolled": enrolled,
            "skipped": skipped,
        }

    def verify(self, a: str | os.PathLike[str], b: str | os.PathLike[str]) -> dict[str, Any]:
        """Whether the (largest) faces of two images are the same person: ``{a, b, box_a,
        box_b, same, distance, metric, threshold}``."""
        faces = []
        for path in (Path(a), Path(b)):
            row = analyse_image(path, replace(self.options, embed=True))
            if "error" in row:
                raise DeepImageError(f"{path}: {row['reason']}; give a readable image file")
            if not row["faces"]:
                raise DeepImageError(f"{path}: no face found (try --upsample 2 or --method cnn)")
            faces.append(max(row["faces"], key=_area))
        same, value = verify(
            np.array(faces[0]["embedding"]), np.array(faces[1]["embedding"]), self.metric,
            self.threshold,
        )  # fmt: skip
        return {
            "a": shown_path(a),
            "b": shown_path(b),
            "box_a": faces[0]["box"],
            "box_b": faces[1]["box"],
            "same": same,
            "distance": value,
            "metric": self.metric,
            "threshold": self.threshold,
        }

    def calibrate(
        self,
        data: str | os.PathLike[str],
        label_from: LabelFrom = "auto",
        out: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """Pick the threshold that maximises verification accuracy over every pair of
        images of a labelled folder; write ``roc.png`` and ``report.json`` in ``out``
        (``out_dir``: default a new ``runs/faces/calibrate`` folder) and return the report;
        images without exactly one face are listed under ``skipped``.
        """
        labelled, skipped = labelled_images(data, label_from)
        vectors, labels = [], []
        rows = self._rows([file for _, file in labelled], skip_bad=True, embed=True)
        for (person, _), row in zip(labelled, rows, strict=True):
            face, reason = _single_face(row)
            if face is None:
                skipped.append({"path": row["path"], "reason": reason})
            else:
                vectors.append(face["embedding"])
                labels.append(person)
        if not vectors:
            raise DeepImageError(f"{data}: no image with one face to calibrate on")
        result = calibrate_embeddings(np.array(vectors), labels, self.metric)
        folder = Path(out) if out is not None else fresh_dir(Path("runs") / "faces" / "calibrate")
        report = {
            "data": shown_path(data),
            "images": len(labelled),
            "embeddings": len(vectors),
            "people": len(set(labels)),
            **result.summary(),
            "roc": shown_path(folder / "roc.png"),
            "skipped": skipped,
            "out_dir": shown_path(folder),
        }
        plot_roc(
            result.false_positive_rate,
            result.true_positive_rate,
            folder / "roc.png",
            f"face verification, {self.metric} (accuracy {result.accuracy:.3f} "
            f"at {result.threshold:.3f})",
            result.operating_point,
        )
        write_json(folder / "report.json", report)
        return report

    def anonymize(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        out: str | os.PathLike[str],
        method: Literal["blur", "pixelate"] = "blur",
        skip_bad: bool = False,
    ) -> dict[str, Any]:
        """Write a copy of every image with its faces blurred or pixelated into ``out``:
        ``{results: [{path, output, faces}], skipped, out_dir, method}``, ``faces`` the
        number hidden."""
        written, skipped = [], []
        for row, target in self._each(inputs, out, skip_bad):
            if "error" in row:
                skipped.append(_skipped(row))
                continue
            boxes = [face["box"] for face in row["faces"]]
            _save(target, hide_faces(read_image(row["path"]), boxes, method))
            written.append({"path": row["path"], "output": shown_path(target), "faces": len(boxes)})
        return {
            "results": written,
            "skipped": skipped,
            "out_dir": shown_path(out),
            "method": method,
        }

"""``FaceRecognizer``: the face pipeline over files, folders and globs; the engine of ``deepimage face``.

Each image is read (:func:`deepimage.io.read_image`), its faces found, and on request
their landmarks and embeddings computed (:mod:`deepimage.faces`), in worker processes
with ``workers`` > 1: :mod:`deepimage.api.face_scan` finds the images (in labelled
folders too) and scans them. Enrollment commits one identity at a time, so an
interrupted run keeps everyone enrolled before it.

Outputs (``-o`` copies, calibration reports) never replace an input, nor a file already
there unless ``overwrite``; both are refused before the first image is read.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from deepimage.io.writing import write_image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(root / "grey.png", np.full((64, 64), 128, np.uint8))
    >>> FaceRecognizer(root / "faces.db").detect([root])
    {'results': [{'path': '.../grey.png', 'faces': []}], 'skipped': [], 'out_dir': None}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, nullcontext
from dataclasses import replace
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

import numpy as np

from deepimage.api.face_outputs import (
    calibration_report,
    check_report_folder,
    draw_faces,
    save_image,
)
from deepimage.api.face_scan import (
    NO_FACE,
    LabelFrom,
    expand_inputs,
    labelled_images,
    scan,
    single_face,
    skipped_entry,
)
from deepimage.api.parallel import progress_bar
from deepimage.errors import DeepImageError
from deepimage.faces.analyse import FaceOptions, analyse_array, analyse_image
from deepimage.faces.anonymize import anonymize as hide_faces
from deepimage.faces.detect import Method
from deepimage.faces.gallery import Gallery, default_gallery_path
from deepimage.faces.gallery_format import check_name
from deepimage.faces.index import IndexKind
from deepimage.faces.match import Metric, distance, resolve_threshold, verify
from deepimage.faces.models import EMBEDDING_MODEL
from deepimage.io.files import check_writable_folder
from deepimage.io.images import read_image
from deepimage.io.outputs import Existing, output_paths
from deepimage.io.paths import shown_path
from deepimage.io.video_stream import (
    Source,
    VideoOut,
    is_video,
    source_name,
    video_frames,
    video_info,
    video_target,
)


def _shown(folder: str | os.PathLike[str] | None) -> str | None:
    """An optional output folder as JSON names it (:func:`shown_path`), or None."""
    return None if folder is None else shown_path(folder)


def _name_labels(named: list[dict[str, Any]]) -> list[str]:
    return [f"{face['name']} {face['distance']:.2f}" for face in named]


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
    hides the progress bar. ``fallback`` and ``assume_face`` say what happens when the
    detector finds no face (:func:`~deepimage.faces.detect.find_faces`: upsampled once
    more, then the CNN, then the whole image of a tight crop, or of any image with
    ``assume_face``).
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
        fallback: bool = True,
        assume_face: bool = False,
    ) -> None:
        self.gallery_path = Path(gallery) if gallery is not None else default_gallery_path()
        self.options = FaceOptions(
            method, upsample, jitters=jitters, fallback=fallback, assume_face=assume_face
        ).check()
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
        overwrite: bool = False,
        **options: Any,
    ) -> Iterator[tuple[dict[str, Any], Path | None]]:
        """(scan row, output file under ``out`` or None) of every image of ``inputs``;
        the outputs are checked (never an input, nor an existing file unless
        ``overwrite``, in a writable folder) before the first image is read."""
        pairs = expand_inputs(inputs)
        targets: dict[Path, Path] = {}
        if out is not None:
            existing: Existing = "overwrite" if overwrite else "refuse"
            targets = output_paths(pairs, out, writable=True, existing=existing)
            check_writable_folder(out)
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
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """``{results: [{path, faces: [{box, score, detector, landmarks?, embedding?}]}],
        skipped, out_dir}``: one result per image, boxes pixel-edge ``xyxy``, paths
        absolute, ``detector`` what found the face (``hog``, ``hog-upsampled``, ``cnn``,
        ``whole-image``...).

        ``out`` (``out_dir``, else None) receives a copy of each image with its faces drawn
        (a file already there is refused unless ``overwrite``). With ``skip_bad`` an
        unreadable file is listed under ``skipped`` as ``{path, reason}`` instead of
        stopping the run.
        """
        results, skipped = [], []
        rows = self._each(inputs, out, skip_bad, overwrite, landmarks=landmarks, embed=embed)
        for row, target in rows:
            if "error" in row:
                skipped.append(skipped_entry(row))
                continue
            results.append(row)
            if target is not None:
                labels = [f"{face['score']:.2f}" for face in row["faces"]]
                save_image(target, draw_faces(row["path"], row["faces"], labels))
        return {"results": results, "skipped": skipped, "out_dir": _shown(out)}

    def identify(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        *,
        out: str | os.PathLike[str] | None = None,
        skip_bad: bool = False,
        overwrite: bool = False,
        vid_stride: int = 1,
    ) -> dict[str, Any]:
        """``{results: [{path, box, detector, name, distance}], skipped, issues,
        out_dir}``: one result per face found, ``unknown`` for faces that match nobody
        in the gallery; ``issues`` lists the gallery's damaged embeddings, which are left
        out (:attr:`~deepimage.faces.gallery.Gallery.issues`). A video file gives one
        result per ``vid_stride``-th frame, ``{path, frame, faces: [{box, detector, name,
        distance}]}``, and with ``out`` a video of the same name with the names drawn.

        ``out`` (``out_dir``, else None) receives copies with names and distances drawn
        (a file already there is refused unless ``overwrite``). With ``skip_bad`` an
        unreadable file is listed under ``skipped`` as ``{path, reason}`` instead of
        stopping the run.
        """
        inputs = list(inputs)
        videos = [item for item in inputs if is_video(item)]
        images = [item for item in inputs if not is_video(item)]
        results: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        with Gallery(self.gallery_path, create=False) as gallery:
            gallery.index(EMBEDDING_MODEL, self.metric, self.index)  # fail before the work

            def name(faces: list[dict[str, Any]]) -> list[dict[str, Any]]:
                matches = gallery.identify(
                    np.array([face["embedding"] for face in faces]),
                    metric=self.metric,
                    threshold=self.threshold,
                    knn=self.knn,
                    index=self.index,
                )
                return [
                    {
                        "box": face["box"],
                        "detector": face["detector"],
                        "name": match.name,
                        "distance": match.distance,
                    }
                    for face, match in zip(faces, matches, strict=True)
                ]

            def name_frame(frame: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
                named = name(analyse_array(frame, replace(self.options, embed=True)))
                return draw_faces(frame, named, _name_labels(named)), {"faces": named}

            for row, target in (
                self._each(images, out, skip_bad, overwrite, embed=True) if images else ()
            ):
                if "error" in row:
                    skipped.append(skipped_entry(row))
                    continue
                named = name(row["faces"])
                results += [{"path": row["path"], **face} for face in named]
                if target is not None:
                    save_image(target, draw_faces(row["path"], row["faces"], _name_labels(named)))
            for video in videos:
                folder = Path(out) if out is not None else None
                results += self._through_video(
                    Path(video), folder, overwrite, vid_stride, name_frame
                )
            issues = gallery.issues
        return {"results": results, "skipped": skipped, "issues": issues, "out_dir": _shown(out)}

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
        An image whose face is within the match threshold of someone else already enrolled
        (the same face under two names?) is enrolled and listed under ``look_alikes`` as
        ``{name, path, other, distance}``. Returns ``{gallery, model, images, enrolled:
        [{name, images, added}], look_alikes, skipped}``.
        """
        if name is not None:
            labelled, unlabelled = (
                [(check_name(name), file) for _, file in expand_inputs(inputs)],
                [],
            )
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
        enrolled, look_alikes, skipped = [], [], list(unlabelled)
        rows = self._rows([file for _, file in labelled], skip_bad=True, embed=True)
        with Gallery(self.gallery_path) as gallery, closing(rows):
            known, names = gallery.vectors(EMBEDDING_MODEL)
            pairs = zip((person for person, _ in labelled), rows, strict=True)
            for person, group in groupby(pairs, key=lambda pair: pair[0]):
                vectors, sources = [], []
                for _, row in group:
                    face, reason = single_face(row)
                    if face is None:
                        skipped.append({"path": row["path"], "reason": reason})
                    else:
                        vectors.append(face["embedding"])
                        sources.append(str(Path(row["path"]).resolve()))
                if vectors:
                    look_alikes += self._look_alikes(person, vectors, sources, known, names)
                    added = gallery.add(person, np.array(vectors), sources)
                    enrolled.append({"name": person, "images": len(vectors), "added": added})
                    known = np.concatenate([known, vectors]) if names else np.array(vectors)
                    names += [person] * len(vectors)
        if not enrolled:
            reasons = "; ".join(f"{item['path']}: {item['reason']}" for item in skipped[:5])
            raise DeepImageError(f"nobody enrolled: no usable image ({reasons})")
        return {
            "gallery": shown_path(self.gallery_path),
            "model": EMBEDDING_MODEL,
            "images": len(labelled) + len(unlabelled),
            "enrolled": enrolled,
            "look_alikes": look_alikes,
            "skipped": skipped,
        }

    def _look_alikes(
        self,
        person: str,
        vectors: Sequence[Sequence[float]],
        sources: Sequence[str],
        known: np.ndarray,
        names: Sequence[str],
    ) -> list[dict[str, Any]]:
        """``{name, path, other, distance}`` for each of ``person``'s new embeddings within
        the match threshold of someone else's among ``known`` (labelled ``names``)."""
        others = np.array([name != person for name in names], bool)
        if not others.any():
            return []
        table = distance(np.array(vectors), known[others], self.metric)
        other_names = [name for name, other in zip(names, others, strict=True) if other]
        nearest = table.argmin(axis=1)
        return [
            {"name": person, "path": source, "other": other_names[index], "distance": value}
            for source, index, value in zip(
                sources, nearest.tolist(), table.min(axis=1).tolist(), strict=True
            )
            if value <= self.threshold
        ]

    def verify(self, a: str | os.PathLike[str], b: str | os.PathLike[str]) -> dict[str, Any]:
        """Whether the (largest) faces of two images are the same person: ``{a, b, box_a,
        box_b, same, distance, metric, threshold}``."""
        faces = []
        for path in (Path(a), Path(b)):
            row = analyse_image(path, replace(self.options, embed=True))
            if "error" in row:
                raise DeepImageError(f"{path}: {row['reason']}; give a readable image file")
            if not row["faces"]:
                raise DeepImageError(f"{path}: {NO_FACE}")
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
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Pick the threshold that maximises verification accuracy over every pair of
        images of a labelled folder; write ``roc.png`` and ``report.json`` in ``out``
        (``out_dir``: default a new ``runs/faces/calibrate`` folder; files already there
        are refused unless ``overwrite``) and return the report; images without exactly
        one face are listed under ``skipped``.
        """
        labelled, skipped = labelled_images(data, label_from)
        if out is not None:
            check_report_folder(out, data, overwrite)
        vectors, labels = [], []
        rows = self._rows([file for _, file in labelled], skip_bad=True, embed=True)
        for (person, _), row in zip(labelled, rows, strict=True):
            face, reason = single_face(row)
            if face is None:
                skipped.append({"path": row["path"], "reason": reason})
            else:
                vectors.append(face["embedding"])
                labels.append(person)
        if not vectors:
            raise DeepImageError(f"{data}: no image with one face to calibrate on")
        return calibration_report(
            np.array(vectors), labels, self.metric, data, len(labelled), skipped, out
        )

    def anonymize(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        out: str | os.PathLike[str],
        method: Literal["blur", "pixelate"] = "blur",
        skip_bad: bool = False,
        overwrite: bool = False,
        vid_stride: int = 1,
    ) -> dict[str, Any]:
        """Write a copy of every image with its faces blurred or pixelated into ``out``:
        ``{results: [{path, output, faces}], skipped, out_dir, method}``, ``faces`` the
        number hidden. A video file (.mp4, .avi, ...) gives a video of the same name in
        ``out``, every ``vid_stride``-th frame hidden and written, one result per frame
        (with its ``frame`` index). A file already in ``out`` is refused unless ``overwrite``; an
        image of a tight crop where no face is found is hidden whole (see
        :func:`~deepimage.faces.detect.find_faces`)."""
        inputs = [str(item) for item in inputs]
        videos = [item for item in inputs if is_video(item)]
        written, skipped = [], []

        def hide(frame: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
            boxes = [face["box"] for face in analyse_array(frame, self.options)]
            return hide_faces(frame, boxes, method), {"faces": len(boxes)}

        for video in videos:
            written += self._through_video(video, Path(out), overwrite, vid_stride, hide)
        images = [item for item in inputs if item not in videos]
        for row, target in self._each(images, out, skip_bad, overwrite) if images else ():
            if "error" in row:
                skipped.append(skipped_entry(row))
                continue
            boxes = [face["box"] for face in row["faces"]]
            save_image(target, hide_faces(read_image(row["path"]), boxes, method))
            written.append({"path": row["path"], "output": shown_path(target), "faces": len(boxes)})
        return {
            "results": written,
            "skipped": skipped,
            "out_dir": shown_path(out),
            "method": method,
        }

    def _through_video(
        self,
        video: Source,
        out: Path | None,
        overwrite: bool,
        stride: int,
        work: Callable[[np.ndarray], tuple[np.ndarray, dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """``{path, frame, ...}`` for every ``stride``-th frame of ``video``, the fields
        from ``work(frame) -> (drawn frame, fields)``; with ``out``, the drawn frames are
        written to ``out/<video name>`` (added to each row as ``output``). Progress shows
        frames/s on stderr."""
        target = video_target(video, out, overwrite) if out is not None else None
        info = video_info(video)
        writer: Any = nullcontext()
        if target is not None:
            writer = VideoOut(target, info.fps / stride, (info.width, info.height))
        rows = []
        with writer as written, progress_bar(self.quiet, "frames", transient=True) as bar:
            task = bar.add_task(
                f"{Path(source_name(video)).name}: frames", total=(info.frames // stride) or None
            )
            for index, frame in video_frames(video, stride):
                drawn, fields = work(frame)
                row = {"path": source_name(video), "frame": index, **fields}
                if written is not None:
                    written.write(drawn)
                    row["output"] = shown_path(target)
                rows.append(row)
                bar.advance(task)
        return rows

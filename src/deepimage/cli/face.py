"""``deepimage face``: detect, landmarks, embed, enroll, identify, verify, calibrate, anonymize,
and the gallery commands list, rename, remove, export, import.

Tables and summaries go to stdout, progress, warnings and skipped files to stderr;
``--json`` prints the API's report (``results``, ``skipped``, ``out_dir``; ``items`` for
``list``) as one JSON object. Boxes are float pixel-edge ``x1 y1 x2 y2``. Names and paths
come from data, so they are printed literally (:func:`~deepimage.cli.output.literal`: no
markup, control characters escaped).

Example:
    >>> from typer.testing import CliRunner
    >>> "identify" in CliRunner().invoke(app, ["--help"]).output
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import typer
from rich.table import Table

from deepimage.api.face_scan import LabelFrom
from deepimage.api.faces import FaceRecognizer
from deepimage.cli.groups import GROUP_HELP
from deepimage.cli.output import (
    JSON,
    QUIET,
    console,
    counted,
    emit,
    files_table,
    literal,
    print_skipped,
)
from deepimage.faces.detect import Method
from deepimage.faces.gallery import Gallery, default_gallery_path
from deepimage.faces.index import IndexKind
from deepimage.faces.match import THRESHOLDS, Metric
from deepimage.io.paths import shown_path

app = typer.Typer(help=GROUP_HELP["face"], no_args_is_help=True)

INPUTS = typer.Argument(
    ...,
    help="Image files, folders (searched recursively) or quoted glob patterns; identify "
    "and anonymize also take videos, a camera index (0) or a stream URL.",
)
GALLERY = typer.Option(
    None,
    "--gallery",
    "-g",
    help=f"Gallery file (SQLite). Default: $DEEPIMAGE_GALLERY, else {default_gallery_path()}.",
    show_default=False,
)
METHOD = typer.Option("hog", "--method", help="Face detector: hog, cnn (slow on CPU) or haar.")
UPSAMPLE = typer.Option(
    1, "--upsample", min=0, help="Double the image N times to find small faces."
)
WORKERS = typer.Option(1, "--workers", "-w", min=1, help="Processes (one thread each).")
OUT = typer.Option(None, "--out", "-o", help="Folder for copies with the faces drawn.")
SKIP_BAD = typer.Option(False, "--skip-bad", help="List unreadable images in the output and go on.")
VID_STRIDE = typer.Option(1, "--vid-stride", min=1, help="Videos: every N-th frame, a row each.")
METRIC = typer.Option("euclidean", "--metric", help="euclidean or cosine.")
THRESHOLD = typer.Option(
    None,
    "--threshold",
    "-t",
    help=f"Same-person distance limit. Default: {THRESHOLDS['euclidean']} (euclidean), "
    f"{THRESHOLDS['cosine']} (cosine).",
    show_default=False,
)
LABEL_FROM = typer.Option(
    "auto",
    "--label-from",
    help="Person labels from subfolders (folder), file names up to the first dot "
    "(name-prefix), or auto (folder when there are subfolders).",
)
JITTERS = typer.Option(1, "--jitters", min=1, help="Average the embeddings of N jittered copies.")
FALLBACK = typer.Option(
    True,
    "--fallback/--no-fallback",
    help="When no face is found: the detector upsampled once more, then the CNN detector, "
    "then the whole image if it is a tight crop (at most 512 px, height 1.1-1.5x width).",
)
ASSUME_FACE = typer.Option(
    False, "--assume-face", help="When no detector finds a face, take the whole image as one."
)
OVERWRITE = typer.Option(False, "--overwrite", help="Replace files already in the -o folder.")


def _finder(method: Method, upsample: int, fallback: bool, assume_face: bool) -> dict[str, Any]:
    """:class:`FaceRecognizer`'s keywords for finding faces.

    Example:
        >>> _finder("hog", 1, True, False)["fallback"]
        True
    """
    return {
        "method": method,
        "upsample": upsample,
        "fallback": fallback,
        "assume_face": assume_face,
    }


def _box(box: list[float]) -> str:
    """A pixel-edge box for a table cell.

    Example:
        >>> _box([184.0, 150.0, 340.0, 306.5])
        '184 150 340 306.5'
    """
    return " ".join(f"{value:g}" for value in box)


def _warn(lines: list[str]) -> None:
    """Warnings on stderr, each printed literally (they hold names and paths)."""
    for line in lines:
        console.print(literal(f"warning: {line}"), highlight=False, soft_wrap=True)


def _warn_issues(report: dict[str, Any]) -> None:
    """Warn about the gallery's damaged embeddings that a command left out."""
    issues = report.get("issues", [])
    if issues:
        _warn([f"{item['path']}: {item['detail']}" for item in issues])
        _warn(["to drop them for good: deepimage face export, then import into a new gallery"])


def _finish(report: dict[str, Any], as_json: bool, *shown: Any) -> None:
    """Print ``report`` (``--json``) or what is ``shown``; the gallery's issues and (unless
    ``--json``, which lists them) the skipped files on stderr."""
    _warn_issues(report)
    if not as_json:
        print_skipped(report["skipped"])
    emit(report, as_json, *shown)


def _faces_table(results: list[dict[str, Any]], extra: str | None = None) -> Table:
    """A table of every face found: file, box, score, detector (and landmark count)."""
    headers = ("file", "box (x1 y1 x2 y2)", "score", "detector", *([extra] if extra else []))
    table, shown = files_table([result["path"] for result in results], *headers)
    for result, path in zip(results, shown, strict=True):
        for face in result["faces"]:
            score = f"{face['score']:.3f}"
            cells: list[Any] = [path, _box(face["box"]), score, face["detector"]]
            if extra == "landmarks":
                cells.append(str(len(face["landmarks"])))
            table.add_row(*cells)
    return table


def _detect(
    inputs: list[str],
    recognizer: FaceRecognizer,
    run: tuple[Path | None, bool, bool, bool],
    landmarks: int | None = None,
    embed: bool = False,
) -> None:
    """detect, landmarks and embed: one entry per image, printed as a table or JSON.

    ``run`` is (out, overwrite, skip_bad, as_json).
    """
    out, overwrite, skip_bad, as_json = run
    report = recognizer.detect(
        inputs, landmarks=landmarks, embed=embed, out=out, skip_bad=skip_bad, overwrite=overwrite
    )
    results = report["results"]
    faces = sum(len(result["faces"]) for result in results)
    _finish(
        report,
        as_json,
        _faces_table(results, "landmarks" if landmarks else None),
        f"{faces} face(s) in {len(results)} image(s)",
    )


@app.command("detect")
def detect_command(
    inputs: list[str] = INPUTS,
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    out: Path | None = OUT,
    overwrite: bool = OVERWRITE,
    workers: int = WORKERS,
    skip_bad: bool = SKIP_BAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Find faces; each gets its box (x1, y1, x2, y2, pixel edges), the detector's score
    and which detector found it.

    Example: deepimage face detect photos/ --method cnn --json
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(workers=workers, quiet=quiet, **finder)
    _detect(inputs, recognizer, (out, overwrite, skip_bad, as_json))


@app.command("landmarks")
def landmarks_command(
    inputs: list[str] = INPUTS,
    points: int = typer.Option(68, "--points", help="5 or 68 landmarks per face."),
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    out: Path | None = OUT,
    overwrite: bool = OVERWRITE,
    workers: int = WORKERS,
    skip_bad: bool = SKIP_BAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Face landmarks: each face gets 5 or 68 (x, y) points.

    Example: deepimage face landmarks portrait.jpg --points 5 --json
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(workers=workers, quiet=quiet, **finder)
    _detect(inputs, recognizer, (out, overwrite, skip_bad, as_json), landmarks=points)


@app.command("embed")
def embed_command(
    inputs: list[str] = INPUTS,
    jitters: int = JITTERS,
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    out: Path | None = OUT,
    overwrite: bool = OVERWRITE,
    workers: int = WORKERS,
    skip_bad: bool = SKIP_BAD,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Face embeddings: each face gets a 128-d "embedding" (shown with --json).

    Example: deepimage face embed portrait.jpg --json
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(workers=workers, quiet=quiet, jitters=jitters, **finder)
    _detect(inputs, recognizer, (out, overwrite, skip_bad, as_json), embed=True)


@app.command("enroll")
def enroll_command(
    inputs: list[str] = typer.Argument(
        ..., help="With --name: images of that person. Without: one folder, a subfolder per person."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="The person the images show."),
    label_from: LabelFrom = LABEL_FROM,
    gallery: Path | None = GALLERY,
    metric: Metric = METRIC,
    threshold: float | None = THRESHOLD,
    jitters: int = JITTERS,
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    workers: int = WORKERS,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Add people to the gallery (one face per image; bad images are listed and skipped).
    A face within the match threshold of someone else's is enrolled with a warning.

    Example: deepimage face enroll people/  (people/<name>/*.jpg)
    """
    recognizer = FaceRecognizer(
        gallery, workers=workers, quiet=quiet, metric=metric, threshold=threshold,
        jitters=jitters, **_finder(method, upsample, fallback, assume_face),
    )  # fmt: skip
    report = recognizer.enroll(inputs, name=name, label_from=label_from)
    _warn(
        [
            f"{item['name']!r} ({item['path']}) is within {item['distance']:.3f} of "
            f"{item['other']!r} ({metric} threshold {recognizer.threshold}): the same face "
            "under two names? deepimage face remove one of them if so"
            for item in report["look_alikes"]
        ]
    )
    table = Table("name", "images", "new embeddings")
    for person in report["enrolled"]:
        table.add_row(literal(person["name"]), str(person["images"]), str(person["added"]))
    people = counted(len(report["enrolled"]), "person", "people")
    summary = literal(f"enrolled {people} into {report['gallery']}")
    _finish(report, as_json, table, summary)


@app.command("identify")
def identify_command(
    inputs: list[str] = INPUTS,
    gallery: Path | None = GALLERY,
    metric: Metric = METRIC,
    threshold: float | None = THRESHOLD,
    knn: int = typer.Option(1, "--knn", min=1, help="Vote among the K nearest embeddings."),
    index: IndexKind = typer.Option(
        "auto", "--index", help="exact, faiss (approximate, large galleries) or auto (by size)."
    ),
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    out: Path | None = OUT,
    overwrite: bool = OVERWRITE,
    workers: int = WORKERS,
    skip_bad: bool = SKIP_BAD,
    vid_stride: int = VID_STRIDE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Name every face: one row per face with file, box, name ("unknown" when nobody is
    close enough) and distance. A video (.mp4, .avi, .mov, .mkv, .webm) gives one JSON
    row per frame, its faces in a list; with -o, a video with the names drawn.

    Example: deepimage face identify party/ door.mp4 -o named/ --json
    """
    recognizer = FaceRecognizer(
        gallery, workers=workers, quiet=quiet, metric=metric, threshold=threshold, knn=knn,
        index=index, **_finder(method, upsample, fallback, assume_face),
    )  # fmt: skip
    report = recognizer.identify(
        inputs, out=out, skip_bad=skip_bad, overwrite=overwrite, vid_stride=vid_stride
    )
    rows = [
        {**face, "path": f"{row['path']}#{row['frame']}"} if "frame" in row else row
        for row in report["results"]
        for face in row.get("faces", [row])
    ]
    headers = ("file", "box (x1 y1 x2 y2)", "name", "distance")
    table, shown = files_table([row["path"] for row in rows], *headers)
    table.caption = f"{metric} distances"
    for row, path in zip(rows, shown, strict=True):
        table.add_row(path, _box(row["box"]), literal(row["name"]), f"{row['distance']:.3f}")
    _finish(report, as_json, table)


@app.command("verify")
def verify_command(
    a: Path = typer.Argument(..., help="An image of a face."),
    b: Path = typer.Argument(..., help="Another image of a face."),
    metric: Metric = METRIC,
    threshold: float | None = THRESHOLD,
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    as_json: bool = JSON,
) -> None:
    """Whether the (largest) faces of two images are the same person.

    Example: deepimage face verify a.jpg b.jpg
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(quiet=True, metric=metric, threshold=threshold, **finder)
    result = recognizer.verify(a, b)
    verdict = "same person" if result["same"] else "different people"
    sign = "<=" if result["same"] else ">"
    emit(
        result,
        as_json,
        f"{verdict}: {metric} distance {result['distance']:.3f} {sign} {result['threshold']}",
    )


@app.command("calibrate")
def calibrate_command(
    data: Path = typer.Option(..., "--data", "-d", help="Labelled folder of face images."),
    label_from: LabelFrom = LABEL_FROM,
    metric: Metric = METRIC,
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for roc.png and report.json (default: a new runs/faces/calibrate).",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a roc.png and report.json already in -o."
    ),
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    workers: int = WORKERS,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Choose the threshold that maximises verification accuracy over every pair of images.

    Example: deepimage face calibrate --data labelled/
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(workers=workers, quiet=quiet, metric=metric, **finder)
    report = recognizer.calibrate(data, label_from=label_from, out=out, overwrite=overwrite)
    _finish(
        report,
        as_json,
        literal(
            f"{report['pairs']} pairs ({report['same_pairs']} same person) of {report['embeddings']} "
            f"faces, {report['people']} people: threshold {report['threshold']:.4f} gives "
            f"accuracy {report['accuracy']:.4f} (default {report['default_threshold']}: "
            f"{report['accuracy_at_default']:.4f}), ROC AUC {report['auc']:.4f} -> {report['roc']}"
        ),
    )


@app.command("anonymize")
def anonymize_command(
    inputs: list[str] = INPUTS,
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (mirrors the inputs)."),
    mode: Literal["blur", "pixelate"] = typer.Option("blur", "--mode", help="blur or pixelate."),
    overwrite: bool = OVERWRITE,
    method: Method = METHOD,
    upsample: int = UPSAMPLE,
    fallback: bool = FALLBACK,
    assume_face: bool = ASSUME_FACE,
    workers: int = WORKERS,
    skip_bad: bool = SKIP_BAD,
    vid_stride: int = VID_STRIDE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Write copies of the images (and videos: .mp4, .avi, .mov, .mkv, .webm) with every
    face blurred or pixelated; a video gives one result row per frame.

    Example: deepimage face anonymize photos/ street.mp4 -o hidden/ --mode pixelate
    """
    finder = _finder(method, upsample, fallback, assume_face)
    recognizer = FaceRecognizer(workers=workers, quiet=quiet, **finder)
    report = recognizer.anonymize(
        inputs, out, mode, skip_bad=skip_bad, overwrite=overwrite, vid_stride=vid_stride
    )
    rows = report["results"]
    faces = counted(sum(row["faces"] for row in rows), "face")
    frames = sum("frame" in row for row in rows)
    images = counted(len(rows) - frames, "image")
    inside = f"{images} and {counted(frames, 'frame')}" if frames else images
    summary = f"hid {faces} in {inside} -> {report['out_dir']}"
    _finish(report, as_json, literal(summary))


@app.command("list")
def list_command(gallery: Path | None = GALLERY, as_json: bool = JSON) -> None:
    """The people in the gallery.

    Example: deepimage face list --json
    """
    with Gallery(gallery or default_gallery_path(), create=False) as store:
        people = store.identities()
    table = Table("name", "embeddings", "models", "enrolled")
    for person in people:
        models = literal(", ".join(person.models))
        table.add_row(literal(person.name), str(person.embeddings), models, literal(person.created))
    emit({"items": [vars(person) for person in people]}, as_json, table)


@app.command("rename")
def rename_command(
    old: str = typer.Argument(..., help="Current name."),
    new: str = typer.Argument(..., help="New name."),
    gallery: Path | None = GALLERY,
    as_json: bool = JSON,
) -> None:
    """Rename a person.

    Example: deepimage face rename 'Ada' 'Ada Lovelace'
    """
    with Gallery(gallery or default_gallery_path(), create=False) as store:
        store.rename(old, new)
    emit({"old": old, "new": new}, as_json, literal(f"renamed {old!r} to {new!r}"))


@app.command("remove")
def remove_command(
    names: list[str] = typer.Argument(..., help="People to remove."),
    gallery: Path | None = GALLERY,
    as_json: bool = JSON,
) -> None:
    """Remove people and all their embeddings (all of them, or none if one is missing).

    Example: deepimage face remove 'Ada Lovelace'
    """
    with Gallery(gallery or default_gallery_path(), create=False) as store:
        counts = store.remove(*names)
    removed = [{"name": name, "embeddings": count} for name, count in counts.items()]
    summary = ", ".join(f"{item['name']!r} ({item['embeddings']} embeddings)" for item in removed)
    emit({"removed": removed}, as_json, literal(f"removed {summary}"))


@app.command("export")
def export_command(
    file: Path = typer.Argument(..., help="JSON file to write (never the gallery itself)."),
    gallery: Path | None = GALLERY,
    force: bool = typer.Option(
        False, "--force", "--overwrite", help="Replace the file if it exists."
    ),
    as_json: bool = JSON,
) -> None:
    """Write the whole gallery to a JSON file (to back it up or move it); damaged
    embeddings are left out with a warning.

    Example: deepimage face export gallery.json
    """
    with Gallery(gallery or default_gallery_path(), create=False) as store:
        counts = store.export(file, overwrite=force)
    _warn_issues(counts)
    emit(
        {"file": shown_path(file), **counts},
        as_json,
        literal(
            f"exported {counts['identities']} people, {counts['embeddings']} embeddings to {file}"
        ),
    )


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A file written by deepimage face export."),
    gallery: Path | None = GALLERY,
    as_json: bool = JSON,
) -> None:
    """Merge an exported gallery into this one, in one transaction; what cannot be used
    (a blank name, NaN, a vector of the wrong length) is left out and listed.

    Example: deepimage face import gallery.json
    """
    with Gallery(gallery or default_gallery_path()) as store:
        counts = store.import_file(file)
    _warn([f"left out of {item['path']}: {item['reason']}" for item in counts["skipped"]])
    emit(
        {"file": shown_path(file), **counts},
        as_json,
        f"imported {counts['identities']} people: {counts['embeddings']} new embeddings, "
        f"{counts['duplicates']} already there",
    )

"""``deepimage demo``: a tour of the toolkit on data that ships with the installed packages.

Processing, augmentation, classification, a detector and a segmenter trained on generated
shapes, face detection and identification, and generation (:mod:`deepimage.demo.tour`);
``--task NAME`` runs one part. Progress goes to stderr; the figures of each part and the
path of the HTML page that shows every picture go to stdout, or with ``--json`` one
document ``{out_dir, page, results: [{name, title, seconds, figures, pictures, run_dir}]}``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from deepimage.cli.output import JSON, QUIET, console, emit
from deepimage.demo.tour import PARTS


def demo(
    task: list[str] = typer.Option(
        None, "--task", "-t", help=f"Run only these parts (repeat): {', '.join(PARTS)}."
    ),
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Folder for everything."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """A few minutes' tour: every part's figures, then one HTML page with every picture.

    Example: deepimage demo --task detect --task face
    """
    from deepimage.demo.page import write_page
    from deepimage.demo.tour import Tour, run_part
    from deepimage.errors import DeepImageError

    names = task or list(PARTS)
    unknown = [name for name in names if name not in PARTS]
    if unknown:
        raise DeepImageError(f"unknown --task {unknown[0]!r}: choose from {', '.join(PARTS)}")
    tour = Tour(out, quiet=quiet)
    sections, lines = [], []
    for index, name in enumerate(names, 1):
        console.print(f"[bold]deepimage demo[/] {index}/{len(names)}: {name}")
        section = run_part(name, tour)
        sections.append(section)
        figures = "  ".join(f"{key} {value}" for key, value in section.figures.items())
        lines.append(f"{section.title} ({section.seconds:.0f} s): {figures}")
    page = write_page(out / "index.html", sections)
    lines.append(f"page: {page.resolve()}")
    document = {
        "out_dir": str(out.resolve()),
        "page": str(page.resolve()),
        "results": [
            {
                "name": s.name,
                "title": s.title,
                "seconds": s.seconds,
                "figures": s.figures,
                "pictures": [str(path.resolve()) for path, _ in s.pictures],
                "run_dir": s.run_dir,
            }
            for s in sections
        ],
    }
    emit(document, as_json, "\n".join(lines))

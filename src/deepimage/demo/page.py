"""The demo's HTML page: one section per part, its figures in a table and every picture
it wrote, linked by relative paths so the folder can be moved or served as it is.

Example:
    >>> import tempfile, pathlib
    >>> from deepimage.demo.tour import Section
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> part = Section("x", "X", "about x", {"a": 1}, [(root / "pictures" / "x.png", "x")])
    >>> page = write_page(root / "index.html", [part])
    >>> '<img src="pictures/x.png"' in page.read_text()
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from deepimage.demo.tour import Section
from deepimage.io.files import write_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
section { border-top: 1px solid #ccc; padding: 1em 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
td { padding: 2px 12px 2px 0; }
td.value { font-family: ui-monospace, monospace; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
img { max-width: 520px; max-height: 520px; border: 1px solid #ddd; }
figcaption, .note { color: #666; font-size: 0.9em; }
"""


def write_page(path: Path, sections: Sequence[Section]) -> Path:
    """Write the page for ``sections`` at ``path`` (atomically); returns ``path``."""
    parts = "\n".join(_section(section, path.parent) for section in sections)
    total = sum(section.seconds for section in sections)
    html = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>deepimage demo</title><style>{STYLE}</style></head><body>\n"
        "<h1>deepimage demo</h1>\n"
        f"<p class='note'>{len(sections)} parts in {total:.0f} s, on data that ships with the "
        "installed packages.</p>\n"
        f"{parts}\n</body></html>\n"
    )
    write_text(path, html)
    return path


def _section(section: Section, home: Path) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td class='value'>{escape(str(value))}</td></tr>"
        for name, value in section.figures.items()
    )
    figures = "".join(
        f'<figure><img src="{escape(Path(os.path.relpath(picture, home)).as_posix())}" '
        f'alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption></figure>'
        for picture, caption in section.pictures
    )
    run = f"<p class='note'>run folder: {escape(section.run_dir)}</p>" if section.run_dir else ""
    return (
        f"<section id='{escape(section.name)}'><h2>{escape(section.title)}</h2>"
        f"<p>{escape(section.about)} <span class='note'>({section.seconds:.0f} s)</span></p>"
        f"<table>{rows}</table>{figures}{run}</section>"
    )

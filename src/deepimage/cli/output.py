"""Printing for every command: JSON as the last stdout line, people's output on stderr.

Example:
    >>> emit({"top1": 0.9}, as_json=True)
    {"top1": 0.9}
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

console = Console(stderr=True)


def emit(result: Any, as_json: bool, summary: str | None = None) -> None:
    """Print ``result`` as one JSON line on stdout, or ``summary`` for people on stderr."""
    if as_json:
        print(json.dumps(result, default=str))
    elif summary:
        console.print(summary)

"""Shared fixtures.

Integration tests find real data through ``require_data(name)``: the folder
``$DEEPIMAGE_DATA/<name>`` (``<repo>/../shared/data/<name>`` when DEEPIMAGE_DATA is not
set). When it is missing the test is skipped with the reason, or fails when
``DEEPIMAGE_REQUIRE_DATA=1`` (CI), so that CI can never pass by skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """``$DEEPIMAGE_DATA``, or ``<repo>/../shared/data`` when it is not set."""
    return Path(os.environ.get("DEEPIMAGE_DATA") or REPO.parent / "shared" / "data").resolve()


os.environ.setdefault("DEEPIMAGE_DATA", str(data_root()))  # in-process loaders see it too


def data_dir(name: str) -> Path:
    """The real data folder ``name``; skips (or fails under DEEPIMAGE_REQUIRE_DATA=1) if absent."""
    path = data_root() / name
    if not path.is_dir():
        reason = f"test data {path} is missing: set DEEPIMAGE_DATA to the folder holding {name}/"
        if os.environ.get("DEEPIMAGE_REQUIRE_DATA") == "1":
            pytest.fail(f"{reason} (DEEPIMAGE_REQUIRE_DATA=1 forbids skipping)")
        pytest.skip(reason)
    return path


@pytest.fixture
def require_data() -> Callable[[str], Path]:
    """``require_data(name) -> Path``: see :func:`data_dir`."""
    return data_dir


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The JSON object on the last stdout line."""
        return json.loads(self.stdout.strip().splitlines()[-1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ, DEEPIMAGE_DATA=str(data_root()), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


def run_deepimage(*args: str, cwd: Path | None = None, timeout: float = 600) -> CliResult:
    """``python -m deepimage ARGS`` with the test data; returns code, stdout and stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "deepimage", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(),
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def deepimage() -> Callable[..., CliResult]:
    """``deepimage(*args, cwd=None) -> CliResult``."""
    return run_deepimage


BAD_IMAGE_NAMES = ["b_truncated.jpg", "c_empty.png", "d_text.png", "e_huge.png"]


def write_bad_images(folder: Path, jpeg: bytes) -> list[Path]:
    """A truncated JPEG (cut from ``jpeg``), a zero-byte file, a text file named .png and
    a 20000x20000 PNG (a decompression bomb), in ``folder``; returns their sorted paths."""
    from PIL import Image

    paths = [folder / name for name in BAD_IMAGE_NAMES]
    truncated, empty, text, huge = paths
    truncated.write_bytes(jpeg[: len(jpeg) // 2])
    empty.write_bytes(b"")
    text.write_text("this is not an image\n")
    Image.new("1", (20000, 20000)).save(huge)
    return paths

"""Run folders: ``runs/<task>/<name>/``, never overwritten (an existing name gets a suffix).

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> new_run_dir("classify", "exp", root).name, new_run_dir("classify", "exp", root).name
    ('exp', 'exp-2')
"""

from __future__ import annotations

import os
from pathlib import Path

from deepimage.io.files import fresh_dir

RUN_DIR_ENV = "DEEPIMAGE_RUN_DIR"  # lets DDP worker processes find the run their launcher made


def new_run_dir(task: str, name: str, root: str | os.PathLike[str] = "runs") -> Path:
    """Create and return a fresh run folder; reuse the launcher's one in a DDP worker."""
    inherited = os.environ.get(RUN_DIR_ENV)
    if inherited and os.environ.get("LOCAL_RANK", "0") != "0":
        return Path(inherited)
    candidate = fresh_dir(Path(root) / task / name)
    for sub in ("checkpoints", "plots"):
        (candidate / sub).mkdir()
    os.environ[RUN_DIR_ENV] = str(candidate.resolve())
    return candidate

"""Run folders: ``runs/<task>/<name>/``, never overwritten (an existing name gets a suffix).

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> new_run_dir("classify", "exp", root).name, new_run_dir("classify", "exp", root).name
    ('exp', 'exp-2')
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from deepimage.io.files import fresh_dir

RUN_DIR_ENV = "DEEPIMAGE_RUN_DIR"  # lets DDP worker processes find the run their launcher made


def new_run_dir(task: str, name: str, root: str | os.PathLike[str] = "runs") -> Path:
    """Create and return a fresh run folder; reuse the launcher's one in a DDP worker.

    A process that torchrun or SLURM started with a global rank above 0 (another node's,
    say) gets a scratch folder: only rank 0 writes the run, so there is one run folder
    and one checkpoint however many nodes train.
    """
    inherited = os.environ.get(RUN_DIR_ENV)
    if inherited and os.environ.get("LOCAL_RANK", "0") != "0":
        return Path(inherited)
    if int(os.environ.get("RANK") or os.environ.get("SLURM_PROCID") or 0) > 0:
        return Path(tempfile.mkdtemp(prefix="deepimage-rank-"))
    candidate = fresh_dir(Path(root) / task / name)
    for sub in ("checkpoints", "plots"):
        (candidate / sub).mkdir()
    os.environ[RUN_DIR_ENV] = str(candidate.resolve())
    return candidate

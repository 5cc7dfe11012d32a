"""Run folders: ``runs/<task>/<name>/``, never overwritten (an existing name gets a suffix).

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> new_run_dir("classify", "exp", root).name, new_run_dir("classify", "exp", root).name
    ('exp', 'exp-2')
    >>> new_run_dir("classify", "../../elsewhere", root)
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: run name '../../elsewhere' is not a plain folder name; pass a --name without slashes or a leading dot (the run folder stays inside --runs).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from deepimage.errors import DeepImageError
from deepimage.io.files import fresh_dir

RUN_DIR_ENV = "DEEPIMAGE_RUN_DIR"  # lets DDP worker processes find the run their launcher made


def check_run_name(name: str) -> None:
    """Refuse a run name that is not one plain folder name (it would leave ``--runs``)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        raise DeepImageError(
            f"run name {name!r} is not a plain folder name; pass a --name without slashes or "
            "a leading dot (the run folder stays inside --runs)."
        )


def new_run_dir(task: str, name: str, root: str | os.PathLike[str] = "runs") -> Path:
    """Create and return a fresh run folder; reuse the launcher's one in a DDP worker.

    ``name`` is one plain folder name, so the run stays inside ``root``. A folder that
    cannot be created is a clear error naming it. A process that torchrun or SLURM started
    with a global rank above 0 (another node's, say) gets a scratch folder: only rank 0
    writes the run, so there is one run folder and one checkpoint however many nodes train.
    """
    check_run_name(name)
    inherited = os.environ.get(RUN_DIR_ENV)
    if inherited and os.environ.get("LOCAL_RANK", "0") != "0":
        return Path(inherited)
    if int(os.environ.get("RANK") or os.environ.get("SLURM_PROCID") or 0) > 0:
        return Path(tempfile.mkdtemp(prefix="deepimage-rank-"))
    base = Path(root) / task / name
    try:
        candidate = fresh_dir(base)
        for sub in ("checkpoints", "plots"):
            (candidate / sub).mkdir()
    except OSError as error:
        raise DeepImageError(
            f"{base}: cannot create the run folder ({error.strerror or error}); pass --runs "
            "a folder you can write to."
        ) from None
    os.environ[RUN_DIR_ENV] = str(candidate.resolve())
    return candidate

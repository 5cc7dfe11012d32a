"""Work spread over processes, and the progress bar of folder commands.

:func:`ordered_map` runs a function over items in a pool of worker processes and yields
the results in input order, keeping only a few items per worker queued, so a folder of a
million images streams through in constant memory.

Example:
    >>> list(ordered_map(abs, iter([-3, 1, -2]), workers=2))
    [3, 1, 2]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

import cv2
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

In = TypeVar("In")
Out = TypeVar("Out")


def ordered_map(
    work: Callable[[In], Out],
    items: Iterator[In],
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    ahead: int = 4,
) -> Iterator[Out]:
    """``work(item)`` for every item, in ``workers`` processes, yielded in input order with
    at most ``ahead`` items per worker queued.

    Workers are forked on Linux (they start at once, importing nothing again); elsewhere
    the platform's default (spawn) needs the ``if __name__ == "__main__":`` guard.
    OpenCV's thread pool is held at one thread while the workers are forked: a child forked
    from a process whose OpenCV threads have run hangs in OpenCV. Each worker keeps one
    OpenCV thread (so N workers use N cores), watches its parent (it exits within
    :data:`PARENT_CHECK_S` seconds of the parent's death, even a ``kill -9``, instead of
    waiting forever on its pipe), then runs ``initializer(*initargs)``.
    """
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        start = (os.getpid(), initializer, *initargs)
        with ProcessPoolExecutor(workers, context, _start_worker, start) as pool:
            pending: deque[Future[Out]] = deque(
                pool.submit(work, item) for item in islice(items, ahead * workers)
            )
            try:
                while pending:
                    result = pending.popleft().result()
                    pending.extend(pool.submit(work, item) for item in islice(items, 1))
                    yield result
            finally:
                for future in pending:
                    future.cancel()
    finally:
        cv2.setNumThreads(threads)


PARENT_CHECK_S = 0.5
"""How often a worker checks that the process that started it is still alive."""


def _start_worker(parent: int, initializer: Callable[..., None] | None, *initargs: Any) -> None:
    cv2.setNumThreads(1)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(parent: int) -> None:
    """Exit this worker once ``parent`` is gone (a dead parent's children are re-parented,
    so ``os.getppid()`` changes); runs in a daemon thread of each worker."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


class _RateColumn(ProgressColumn):
    """Items (images, frames) per second since the start."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time or task.elapsed
        rate = f"{task.completed / elapsed:.1f}" if elapsed else "-"
        return Text(f"{rate} {self.unit}/s", style="progress.data.speed")


def progress_bar(quiet: bool, unit: str = "images", transient: bool = False) -> Progress:
    """A rich progress bar on stderr with count, ``unit``/s and time left (off when quiet;
    ``transient``: gone when done)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(unit),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=transient,
    )

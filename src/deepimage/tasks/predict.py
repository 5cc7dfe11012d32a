"""The one predict loop every task runs: files, folders, globs, NumPy arrays and PIL images
in; result rows and, apart, the skipped inputs (``[{path, reason}]``) out.

Example:
    >>> import numpy as np
    >>> [name for name, _ in expand_inputs([np.zeros((4, 4), np.uint8)])]
    [None]
    >>> expand_inputs([])
    Traceback (most recent call last):
    ...
    deepimage.errors.DeepImageError: no images given: pass image files, folders, glob patterns or arrays.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.engine.module import TaskModule
from deepimage.errors import BadImageError, DeepImageError
from deepimage.io.paths import find_images, shown_path
from deepimage.io.video_stream import (
    Source,
    VideoOut,
    is_video,
    source_name,
    video_frames,
    video_info,
    video_target,
)
from deepimage.tasks.hooks import Input, TaskHooks


class Predictions(list):
    """The result rows (a list, one per readable input, in input order), with the inputs
    left out as ``.skipped`` (``[{path, reason}]``) and the folder of any files written
    (annotated copies, say) as ``.out_dir``."""

    def __init__(self, rows: Iterable[dict[str, Any]], skipped: list[dict[str, str]]) -> None:
        super().__init__(rows)
        self.skipped = skipped
        self.out_dir: str | None = None


def expand_inputs(
    inputs: Any,
    find: Callable[[str | os.PathLike[str]], list[Path]] | None = None,
    check_array: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[tuple[str | None, Input]]:
    """(shown path or None, file or array) for each image in ``inputs``: a path (read by
    its content whatever its name), a folder (recursive: files with an image extension,
    and files without one whose content is an image), a glob pattern, a NumPy array, a PIL
    image, or a list of them. A task whose inputs are not image files (clips) gives
    ``find`` (a path -> its inputs) and ``check_array`` (an array -> the input, checked)."""
    single = isinstance(inputs, (str, os.PathLike, np.ndarray)) or _is_pil(inputs)
    items = [inputs] if single else list(inputs)
    find = find or (lambda item: find_images(item, by_content=True)[1])
    found: list[tuple[str | None, Input]] = []
    for item in items:
        if isinstance(item, np.ndarray):
            found.append((None, (check_array or checked_image)(item)))
        elif _is_pil(item):
            found.append((None, _pil_array(item)))
        else:
            found += [(shown_path(path), path) for path in find(item)]
    if not found:
        raise DeepImageError(
            "no images given: pass image files, folders, glob patterns or arrays."
            if not items
            else f"no images found in {', '.join(map(str, items))}."
        )
    return found


def run_predict(
    hooks: TaskHooks,
    module: TaskModule,
    inputs: Any,
    settings: Any,
    on_image: Callable[[], None] | None = None,
) -> Predictions:
    """Rows ``{path, ...task fields}`` for ``inputs`` (``path`` is None for arrays), batched
    by ``settings.batch_size``; bad files raise, or with ``settings.skip_bad`` are skipped.
    The task's ``check_outputs`` sees the input files before the first is read. Video
    files (for tasks of images) follow the images: a row per ``settings.vid_stride``-th
    frame (:func:`predict_video`)."""
    videos, inputs = _split_videos(hooks, inputs)
    rows = (
        _predict_images(hooks, module, inputs, settings, on_image)
        if inputs or not videos
        else Predictions([], [])
    )
    for video in videos:
        rows += predict_video(hooks, module, video, settings, on_image)
    return rows


def _split_videos(hooks: TaskHooks, inputs: Any) -> tuple[list[Source], list[Any]]:
    """(video files, cameras and streams; the other inputs); a task that reads clips takes videos itself."""
    single = isinstance(inputs, (str, os.PathLike, np.ndarray)) or _is_pil(inputs)
    items = [inputs] if single else list(inputs)
    if hooks.find_inputs is not None:
        return [], items
    videos = [item for item in items if isinstance(item, (str, os.PathLike)) and is_video(item)]
    return videos, [item for item in items if not any(item is video for video in videos)]


def predict_video(
    hooks: TaskHooks,
    module: TaskModule,
    video: Source,
    settings: Any,
    on_frame: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``{path, frame, ...}`` for every ``settings.vid_stride``-th frame of ``video``,
    read one batch at a time; with ``settings.out`` (and a task that draws), the frames
    with their predictions drawn are written to ``out/<video name>``, at the frame rate
    the stride leaves. Arrays in the rows (a segmentation mask) are left out, so a long
    video's rows stay small."""
    stride = getattr(settings, "vid_stride", 1)
    out = getattr(settings, "out", None)
    info = video_info(video)
    writer: Any = nullcontext()
    if out and hooks.annotate:
        target = video_target(video, out, getattr(settings, "overwrite", False))
        writer = VideoOut(target, info.fps / stride, (info.width, info.height))
    rows: list[dict[str, Any]] = []
    with writer as written:
        for chunk in _chunks(video_frames(video, stride), settings):
            loaded = [hooks.load_input(module, frame) for _, frame in chunk]
            for (index, frame), row in zip(
                chunk, hooks.predict_batch(module, loaded, settings), strict=True
            ):
                if written is not None:
                    written.write(hooks.annotate(module, frame, row, settings))
                kept = {k: v for k, v in row.items() if not isinstance(v, np.ndarray)}
                rows.append({"path": source_name(video), "frame": index, **kept})
                if on_frame:
                    on_frame()
    return rows


def _predict_images(
    hooks: TaskHooks,
    module: TaskModule,
    inputs: Any,
    settings: Any,
    on_image: Callable[[], None] | None,
) -> Predictions:
    found = expand_inputs(inputs, hooks.find_inputs, hooks.check_array)
    if hooks.check_outputs:
        hooks.check_outputs([item for _, item in found if isinstance(item, os.PathLike)], settings)
    skipped: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(_loaded(hooks, module, found, settings, skipped, on_image), settings):
        outputs = hooks.predict_batch(module, [loaded for _, loaded in chunk], settings)
        rows += [{"path": name, **row} for (name, _), row in zip(chunk, outputs, strict=True)]
    return Predictions(rows, skipped)


def _loaded(
    hooks: TaskHooks,
    module: TaskModule,
    found: list[tuple[str | None, Input]],
    settings: Any,
    skipped: list[dict[str, str]],
    on_image: Callable[[], None] | None,
) -> Iterator[tuple[str | None, Any]]:
    for name, item in found:
        if on_image:
            on_image()
        try:
            yield name, hooks.load_input(module, item)
        except BadImageError as error:
            if not settings.skip_bad:
                raise
            skipped.append({"path": shown_path(error.path), "reason": error.reason})


def _chunks(items: Iterator[Any], settings: Any) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == settings.batch_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _is_pil(item: Any) -> bool:
    return type(item).__module__.startswith("PIL.")


def _pil_array(image: Any) -> np.ndarray:
    """A PIL image as uint8 RGB (grey stays HxW)."""
    return np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))


def checked_image(array: np.ndarray) -> np.ndarray:
    """An in-memory image: uint8 HxW, HxWx1, HxWx3 (RGB) or HxWx4 (alpha dropped).

    Example:
        >>> checked_image(np.zeros((2, 2, 4), np.uint8)).shape
        (2, 2, 3)
    """
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise DeepImageError(
            f"an array input must be uint8 HxW or HxWxC RGB, not {array.dtype} of shape "
            f"{array.shape}; convert it with np.clip(x * 255, 0, 255).astype(np.uint8)."
        )
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        raise DeepImageError(f"an array input has {array.shape[2]} channels; give 1, 3 or 4.")
    return array[..., :3] if array.ndim == 3 and array.shape[2] == 4 else array

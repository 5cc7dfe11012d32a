"""``Generator``: the generic :class:`~deepimage.api.model.Model` for the generate task,
with its own verbs: ``sample``, ``reconstruct`` (its predict), ``interpolate`` and
``denoise``.

Example:
    >>> from deepimage.api import Generator
    >>> gen = Generator("vae")
    >>> report = gen.fit("fashion-mnist", time_minutes=20, quiet=True)  # doctest: +SKIP
    >>> gen.sample(16, out="samples/", seed=3)["files"][:1]  # doctest: +SKIP
    ['samples/sample_00000.png']
    >>> gen.reconstruct("shirt.png")[0]["mse"]  # doctest: +SKIP
    0.0123
    >>> gen.model
    'vae'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from deepimage.api.model import Model
from deepimage.engine.devices import torch_device
from deepimage.engine.settings import make_settings
from deepimage.io.files import check_writable_folder
from deepimage.io.images import probe_image
from deepimage.io.paths import shown_path
from deepimage.io.writing import write_image
from deepimage.tasks.generation_spec import GenerateDenoise, GenerateInterpolate, GenerateSample
from deepimage.tasks.predict import Predictions, expand_inputs, run_predict


class Generator(Model):
    """An autoencoder, dae, VAE or GAN: ``fit``, then sample / reconstruct / interpolate /
    denoise / evaluate."""

    task_name = "generate"

    def _ready(self, device: str) -> Any:
        task = self._require_task()
        task.to(torch_device(device))
        return task

    def _document(self, **fields: Any) -> dict[str, Any]:
        return {
            "task": self.spec.name,
            "model": self.model,
            "checkpoint": shown_path(self.checkpoint) if self.checkpoint else None,
            **fields,
            "skipped": [],
        }

    def reconstruct(self, inputs: Any, **options: Any) -> Predictions:
        """Images through the model at its size: rows ``{path, mse, psnr, image}`` (the
        error is an anomaly score); ``out=DIR`` writes the reconstructions as PNGs."""
        return self.predict(inputs, **options)

    def sample(self, count: int = 64, **options: Any) -> dict[str, Any]:
        """``count`` images from the prior (``images``: N x H x W [x C] uint8), the same
        for the same ``seed``; ``out=DIR`` writes ``sample_00000.png``...; ``class_name``
        picks a conditional model's class; ``grid=FILE`` draws the first 64 in one image."""
        from deepimage.tasks.generation_use import sample, sample_files
        from deepimage.viz.draw import tile_images

        settings = make_settings(GenerateSample, {"count": count, **options})
        task = self._ready(settings.device)
        files = sample_files(Path(settings.out), count, settings.overwrite) if settings.out else []
        if settings.grid:
            check_writable_folder(Path(settings.grid).parent)
        images = sample(task, count, settings.seed, settings.class_name, settings.batch_size)
        for file, image in zip(files, images, strict=False):
            write_image(file, image)
        if settings.grid:
            write_image(settings.grid, tile_images(list(images[:64])))
        return self._document(
            count=count,
            seed=settings.seed,
            **{"class": settings.class_name},
            out_dir=shown_path(settings.out) if settings.out else None,
            files=[shown_path(file) for file in files],
            grid=shown_path(settings.grid) if settings.grid else None,
            images=images,
        )

    def interpolate(self, start: Any, end: Any, **options: Any) -> dict[str, Any]:
        """A walk of ``steps`` images from ``start`` to ``end``: two images (through their
        codes, framed by the images) or two integer seeds (through the prior);
        ``out=FILE`` writes the row as one image."""
        from deepimage.tasks.generation_use import interpolate, write_walk

        settings = make_settings(GenerateInterpolate, options)
        task = self._ready(settings.device)
        if settings.out:
            check_writable_folder(Path(settings.out).parent)
        images = interpolate(task, start, end, settings.steps, settings.class_name)
        if settings.out:
            write_walk(Path(settings.out), images, settings.overwrite)
        shown = [_shown_end(item) for item in (start, end)]
        return self._document(
            **{"from": shown[0], "to": shown[1]},
            steps=settings.steps,
            out=shown_path(settings.out) if settings.out else None,
            images=np.stack(images),
        )

    def denoise(
        self, inputs: Any, *, on_image: Callable[[], None] | None = None, **options: Any
    ) -> Predictions:
        """A dae's output for each image at its own size (tiled above ``tile``): rows
        ``{path, width, height, output}``, each PNG written into ``out=DIR`` as it is done
        (arrays and runs without ``out`` get ``image`` instead)."""
        from deepimage.tasks.generation_hooks import check_outputs, plan_outputs
        from deepimage.tasks.generation_use import denoise_image, native_input, require_dae

        settings = make_settings(GenerateDenoise, options)
        task = self._ready(settings.device)
        files = [item for _, item in expand_inputs(inputs) if isinstance(item, Path)]
        check_outputs(files, settings)
        plan = plan_outputs(files, settings) if settings.out else {}
        require_dae(task)
        if not settings.skip_bad:  # outputs are written as they come: fail before the first
            for file in files:
                probe_image(file)

        def load(module: Any, item: Any) -> tuple[Any, Any]:
            return item, native_input(module, item)

        def run(module: Any, loaded: list[tuple[Any, Any]], _: Any) -> list[dict[str, Any]]:
            rows = []
            for item, image in loaded:
                out = denoise_image(module, image, settings.tile)
                row: dict[str, Any] = {"width": out.shape[1], "height": out.shape[0]}
                if isinstance(item, Path) and item in plan:
                    write_image(plan[item], out[..., 0] if out.shape[-1] == 1 else out)
                    row["output"] = shown_path(plan[item])
                else:
                    row["image"] = out
                rows.append(row)
            return rows

        hooks = replace(self.hooks, load_input=load, predict_batch=run, check_outputs=None)
        rows = run_predict(hooks, task, inputs, replace(settings, batch_size=1), on_image)
        rows.out_dir = shown_path(settings.out) if settings.out else None
        return rows


def _shown_end(item: Any) -> str | int | None:
    """How a document names one end of a walk: a path, a seed, or None (an array)."""
    if isinstance(item, (int, np.integer)) or (isinstance(item, str) and item.isdigit()):
        return int(item)
    return shown_path(item) if isinstance(item, (str, os.PathLike)) else None

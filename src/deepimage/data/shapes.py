"""Generated shapes: circles, squares and triangles on a noisy background, written as a
detection data set (YOLO layout) and a segmentation data set (image and mask folders), so
the demo can train a detector and a segmenter without any download.

Each image holds 1 to :data:`MOST_OBJECTS` shapes that do not overlap, each a random colour
and size; the boxes are the shapes' pixel extents and the masks their pixels.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> detect, segment = write_shapes(root, train=4, val=2, side=64)
    >>> sorted(p.name for p in (detect / "labels" / "train").iterdir())[:2]
    ['000.txt', '001.txt']
    >>> sorted(p.name for p in (segment / "train").iterdir())
    ['images', 'masks']
    >>> (detect / "classes.txt").read_text().split()
    ['circle', 'square', 'triangle']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from deepimage.io.files import write_text
from deepimage.io.writing import write_image

CLASSES = ("circle", "square", "triangle")
MOST_OBJECTS = 3


@dataclass
class Scene:
    """One drawn image: RGB ``image``, ``mask`` (0 background, class index + 1 per pixel)
    and ``objects`` as (class index, (x1, y1, x2, y2)) boxes."""

    image: np.ndarray
    mask: np.ndarray
    objects: list[tuple[int, tuple[int, int, int, int]]]


def draw_scene(rng: np.random.Generator, side: int = 96) -> Scene:
    """A ``side`` x ``side`` scene of 1 to :data:`MOST_OBJECTS` shapes.

    Example:
        >>> scene = draw_scene(np.random.default_rng(0), side=64)
        >>> scene.image.shape, scene.mask.shape, 1 <= len(scene.objects) <= 3
        ((64, 64, 3), (64, 64), True)
    """
    grey = rng.integers(60, 140)
    image = np.clip(rng.normal(grey, 18, (side, side, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((side, side), np.uint8)
    objects: list[tuple[int, tuple[int, int, int, int]]] = []
    wanted = int(rng.integers(1, MOST_OBJECTS + 1))
    for _ in range(20 * MOST_OBJECTS):
        if len(objects) == wanted:
            break
        kind, size = int(rng.integers(len(CLASSES))), int(rng.integers(side // 6, side // 3))
        x, y = (int(v) for v in rng.integers(1, side - size - 1, 2))
        if mask[y : y + size, x : x + size].any():
            continue
        shape = _shape_pixels(kind, size)
        colour = tuple(int(c) for c in rng.integers(150, 256, 3))
        region = image[y : y + size, x : x + size]
        region[shape] = colour
        mask[y : y + size, x : x + size][shape] = kind + 1
        ys, xs = np.nonzero(shape)
        objects.append((kind, (x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1)))
    return Scene(image, mask, objects)


def _shape_pixels(kind: int, size: int) -> np.ndarray:
    """The ``size`` x ``size`` boolean footprint of a circle, square or triangle."""
    canvas = np.zeros((size, size), np.uint8)
    if CLASSES[kind] == "circle":
        cv2.circle(canvas, (size // 2, size // 2), size // 2 - 1, 1, -1)
    elif CLASSES[kind] == "square":
        canvas[1:-1, 1:-1] = 1
    else:
        points = np.array([[size // 2, 1], [size - 2, size - 2], [1, size - 2]], np.int32)
        cv2.fillPoly(canvas, [points], 1)
    return canvas.astype(bool)


def write_shapes(
    root: str | Path, train: int = 240, val: int = 60, side: int = 96, seed: int = 0
) -> tuple[Path, Path]:
    """Write ``train`` + ``val`` scenes under ``root`` twice: ``root/detect`` (YOLO:
    ``images/<split>/*.png``, ``labels/<split>/*.txt``, ``classes.txt``) and
    ``root/segment`` (``<split>/images/*.png`` + ``<split>/masks/*.png``, mask values
    0 background, 1-3 the classes, and ``classes.txt``); returns the two folders."""
    root = Path(root)
    detect, segment = root / "detect", root / "segment"
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        for index in range(count):
            scene = draw_scene(rng, side)
            name = f"{index:03d}"
            write_image(detect / "images" / split / f"{name}.png", scene.image)
            write_text(detect / "labels" / split / f"{name}.txt", _yolo_lines(scene, side))
            write_image(segment / split / "images" / f"{name}.png", scene.image)
            write_image(segment / split / "masks" / f"{name}.png", scene.mask)
    write_text(detect / "classes.txt", "".join(f"{name}\n" for name in CLASSES))
    write_text(segment / "classes.txt", "".join(f"{n}\n" for n in ("background", *CLASSES)))
    return detect, segment


def _yolo_lines(scene: Scene, side: int) -> str:
    lines = []
    for kind, (x1, y1, x2, y2) in scene.objects:
        cx, cy, w, h = (
            (x1 + x2) / 2 / side,
            (y1 + y2) / 2 / side,
            (x2 - x1) / side,
            (y2 - y1) / side,
        )
        lines.append(f"{kind} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)

"""Synthetic segmentation data in every layout the data layer reads, for tests.

``write_shapes(root, layout)`` writes ``count`` noisy images with filled circles and
rectangles, one object of each foreground class per image (class 0 is the background),
with their masks in that layout's encoding, and returns ``root``. ``draw_shapes`` (same
arguments, without ``root``) gives what was drawn, so a test can compare decoded masks
with it: ``{d.stem: d.mask for d in draw_shapes(layout)}``; ``mask`` is what a loader
should decode (class indices, 255 ignored).

Layouts:

- ``"folders"``: ``images/<stem>.jpg`` + ``masks/<stem>_mask.png`` (grey class indices),
  no split of their own.
- ``"membrane"``: like the shared ``membrane`` set: ``train/image/<stem>.png`` (grey) +
  ``train/label/<stem>.png`` (0 and 255), and ``test/`` holding images only; always two
  classes.
- ``"segnet"``: ``train/ trainannot/ val/ valannot/ test/ testannot/`` (PNG images, grey
  class-index masks).
- ``"voc"``: ``JPEGImages/*.jpg``, ``SegmentationClass/*.png`` palette masks (the VOC
  palette) with a 255 border around every object, ``ImageSets/Segmentation/{train,val}.txt``.
- ``"coco"``: ``images/*.jpg`` + ``annotations/instances_{train,val}.json``: rectangles
  as polygons, circles as compressed RLEs; categories ``COLOUR_NAMES[1:classes]`` with ids
  10, 20, ...

``void`` (folders, segnet: a raw mask value of ``classes`` or more; coco: anything not
None) adds ignored pixels: a 2-pixel band along the bottom of every mask written with that
value (folders, segnet), or one crowd region per image (coco). Their ``mask`` pixels are
255; a loader needs ``ignore_index=void`` for a value other than 255.

Example:
    >>> import tempfile, pathlib
    >>> root = write_shapes(pathlib.Path(tempfile.mkdtemp()), "segnet", count=5)
    >>> sorted(p.name for p in root.iterdir())
    ['test', 'testannot', 'train', 'trainannot', 'val', 'valannot']
    >>> drawn = draw_shapes("segnet", count=5)
    >>> [d.split for d in drawn], drawn[0].mask.shape, sorted(set(drawn[0].mask.ravel().tolist()))
    (['train', 'train', 'train', 'val', 'test'], (48, 64), [0, 1, 2])
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from deepimage.io import write_image

LAYOUTS = ("folders", "membrane", "segnet", "voc", "coco")
COLOUR_NAMES = ("background", "red", "green", "blue", "yellow", "magenta", "cyan", "white")
COLOURS = ((40, 40, 40), (220, 30, 30), (30, 200, 40), (40, 60, 220), (230, 220, 40),
           (210, 40, 200), (40, 210, 210), (245, 245, 245))  # fmt: skip
"""Drawing colour of each class (the background is noise around the first)."""
VOID_BAND = 2
"""Rows of void pixels at the bottom of folders and segnet masks."""


@dataclass
class Drawn:
    """One drawn image: ``mask`` is the decoded truth (HxW uint8 class indices, 255
    ignored), ``raw`` the mask values written (before the layout's encoding: void pixels
    hold ``void``), ``shapes`` ``(class, kind, (x0, y0, x1, y1))`` with kind "rect" or
    "circle" (its bounding box), ``crowd`` the crowd region's box or None."""

    stem: str
    split: str
    image: np.ndarray
    mask: np.ndarray
    raw: np.ndarray
    shapes: list[tuple[int, str, tuple[int, int, int, int]]]
    crowd: tuple[int, int, int, int] | None = None


def draw_shapes(
    layout: str = "folders",
    count: int = 12,
    size: tuple[int, int] = (64, 48),
    classes: int = 3,
    void: int | None = None,
    seed: int = 0,
) -> list[Drawn]:
    """What :func:`write_shapes` writes with the same arguments; ``size`` is (width,
    height), ``classes`` counts the background (2 to 8)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    classes = 2 if layout == "membrane" else classes
    if not 2 <= classes <= len(COLOURS):
        raise ValueError(f"classes must be 2 to {len(COLOURS)}")
    width, height = size
    rng = np.random.default_rng(seed)
    crowd = layout == "coco" and void is not None
    cells = _cells(classes - 1 + crowd, width, height)
    splits = _splits(layout, count)
    drawn = []
    for i in range(count):
        image = rng.normal(COLOURS[0], 12, (height, width, 3))
        mask = np.zeros((height, width), np.uint8)
        shapes: list[tuple[int, str, tuple[int, int, int, int]]] = []
        order = rng.permutation(len(cells))
        for c in range(1, classes):
            kind = "rect" if rng.random() < 0.5 else "circle"
            box = _box_in(cells[order[c - 1]], rng)
            pixels = _pixels(kind, box, width, height)
            mask[pixels] = c
            image[pixels] = rng.normal(COLOURS[c], 12, (int(pixels.sum()), 3))
            shapes.append((c, kind, box))
        raw = mask.copy()
        crowd_box = None
        if crowd:
            crowd_box = _box_in(cells[order[-1]], rng)
            mask[_pixels("rect", crowd_box, width, height)] = 255
        if void is not None and layout in ("folders", "segnet"):
            raw[-VOID_BAND:] = void
            mask[-VOID_BAND:] = 255
        if layout == "voc":
            raw = mask = _with_borders(mask)
        picture = np.clip(image, 0, 255).astype(np.uint8)
        if layout == "membrane":
            picture = picture.mean(axis=2).astype(np.uint8)
            raw = (mask * 255).astype(np.uint8)
        drawn.append(Drawn(f"{i:03d}", splits[i], picture, mask, raw, shapes, crowd_box))
    return drawn


def write_shapes(
    root: Path,
    layout: str = "folders",
    count: int = 12,
    size: tuple[int, int] = (64, 48),
    classes: int = 3,
    void: int | None = None,
    seed: int = 0,
) -> Path:
    """Write :func:`draw_shapes`'s images and masks under ``root`` in ``layout``; returns
    ``root`` (the data set folder to load)."""
    root = Path(root)
    drawn = draw_shapes(layout, count, size, classes, void, seed)
    if layout == "coco":
        _write_coco(root, drawn, classes)
        return root
    for d in drawn:
        if layout == "folders":
            write_image(root / "images" / f"{d.stem}.jpg", d.image)
            write_image(root / "masks" / f"{d.stem}_mask.png", d.raw)
        elif layout == "membrane" and d.split == "train":
            write_image(root / "train" / "image" / f"{d.stem}.png", d.image)
            write_image(root / "train" / "label" / f"{d.stem}.png", d.raw)
        elif layout == "membrane":  # test/ images have no masks
            write_image(root / "test" / f"{d.stem}.png", d.image)
        elif layout == "segnet":
            write_image(root / d.split / f"{d.stem}.png", d.image)
            write_image(root / f"{d.split}annot" / f"{d.stem}.png", d.raw)
        else:  # voc
            write_image(root / "JPEGImages" / f"{d.stem}.jpg", d.image)
            (root / "SegmentationClass").mkdir(parents=True, exist_ok=True)
            palette = Image.fromarray(d.raw, "P")
            palette.putpalette(voc_palette().ravel().tolist())
            palette.save(root / "SegmentationClass" / f"{d.stem}.png")
    if layout == "voc":
        sets = root / "ImageSets" / "Segmentation"
        sets.mkdir(parents=True, exist_ok=True)
        for split in ("train", "val"):
            stems = [d.stem for d in drawn if d.split == split]
            (sets / f"{split}.txt").write_text("".join(f"{stem}\n" for stem in stems))
    return root


def voc_palette() -> np.ndarray:
    """The 256x3 uint8 Pascal VOC palette (class 1 is (128, 0, 0), 255 is (224, 224, 192))."""
    palette = np.zeros((256, 3), np.uint8)
    for index in range(256):
        value, colour = index, [0, 0, 0]
        for shift in range(7, -1, -1):
            for channel in range(3):
                colour[channel] |= ((value >> channel) & 1) << shift
            value >>= 3
        palette[index] = colour
    return palette


def _splits(layout: str, count: int) -> list[str]:
    """The split of each image: none of their own (folders), all train (membrane, whose
    test/ images are extra), or train + val (+ test for segnet) at the end."""
    if layout == "folders":
        return [""] * count
    held = max(1, count // 5) if count >= 3 else 0
    if layout == "membrane":
        return ["train"] * (count - held) + ["test"] * held
    if layout == "segnet":
        return ["train"] * (count - 2 * held) + ["val"] * held + ["test"] * held
    return ["train"] * (count - held) + ["val"] * held


def _cells(n: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """``n`` cells of a grid over the image (x0, y0, x1, y1), one object each."""
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    w, h = width // columns, (height - VOID_BAND - 1) // rows
    return [((i % columns) * w, (i // columns) * h, (i % columns + 1) * w, (i // columns + 1) * h) for i in range(n)]  # fmt: skip


def _box_in(cell: tuple[int, int, int, int], rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A box inside ``cell`` with a 2-pixel margin, at least half its size."""
    x0, y0, x1, y1 = cell[0] + 2, cell[1] + 2, cell[2] - 2, cell[3] - 2
    w = int(rng.integers((x1 - x0) // 2, x1 - x0 + 1))
    h = int(rng.integers((y1 - y0) // 2, y1 - y0 + 1))
    left = x0 + int(rng.integers(0, x1 - x0 - w + 1))
    top = y0 + int(rng.integers(0, y1 - y0 - h + 1))
    return left, top, left + w, top + h


def _pixels(kind: str, box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """The pixels of a shape: a rectangle [x0, x1) x [y0, y1) or the ellipse inside it."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[:height, :width]
    if kind == "rect":
        return (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    cx, cy, rx, ry = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1


def _with_borders(mask: np.ndarray) -> np.ndarray:
    """VOC's 255 border: pixels next to (8-neighbourhood) a pixel of another class."""
    padded = np.pad(mask, 1, mode="edge")
    differs = np.zeros(mask.shape, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = padded[1 + dy : 1 + dy + mask.shape[0], 1 + dx : 1 + dx + mask.shape[1]]
            differs |= shifted != mask
    bordered = mask.copy()
    bordered[differs & (mask == 0)] = 255
    return bordered


def _write_coco(root: Path, drawn: list[Drawn], classes: int) -> None:
    categories = [{"id": 10 * c, "name": COLOUR_NAMES[c]} for c in range(1, classes)]
    for split in ("train", "val"):
        images, annotations = [], []
        for image_id, d in enumerate((d for d in drawn if d.split == split), 1):
            height, width = d.mask.shape
            write_image(root / "images" / f"{d.stem}.jpg", d.image)
            images.append({"id": image_id, "file_name": f"{d.stem}.jpg", "width": width, "height": height})  # fmt: skip
            objects = [(c, kind, box, 0) for c, kind, box in d.shapes]
            if d.crowd is not None:
                objects.append((1, "crowd", d.crowd, 1))
            for c, kind, box, crowd in objects:
                x0, y0, x1, y1 = box
                if kind == "rect":
                    segmentation: object = [[x0, y0, x1, y0, x1, y1, x0, y1]]
                else:
                    pixels = _pixels("rect" if crowd else kind, box, width, height)
                    rle = coco_mask.encode(np.asfortranarray(pixels.astype(np.uint8)))
                    if crowd:  # crowds as COCO stores them: uncompressed counts
                        segmentation = {"size": [height, width], "counts": _runs(pixels)}
                    else:
                        segmentation = {"size": [height, width], "counts": rle["counts"].decode()}
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": 10 * c,
                        "segmentation": segmentation,
                        "area": float((x1 - x0) * (y1 - y0)),
                        "bbox": [x0, y0, x1 - x0, y1 - y0],
                        "iscrowd": crowd,
                    }
                )
        document = {"images": images, "annotations": annotations, "categories": categories}
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(document))


def _runs(pixels: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts of a mask: run lengths, column by column, from 0s."""
    flat = pixels.T.ravel().astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], changes, [len(flat)]])
    runs = np.diff(edges).tolist()
    return [0, *runs] if flat[0] else runs

"""Drawing on images with OpenCV: boxes with labels, masks as coloured overlays.

Both take uint8 RGB (or grey) images and return a new RGB image; the input is unchanged.

Example:
    >>> import numpy as np
    >>> image = np.zeros((32, 32), np.uint8)
    >>> drawn = draw_boxes(image, np.array([[4, 4, 20, 20]]), ["cat"])
    >>> drawn.shape, bool(drawn.any())
    ((32, 32, 3), True)
    >>> overlay_mask(image, np.eye(32, dtype=np.uint8))[0, 0].tolist()
    [104, 11, 34]
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

PALETTE = np.array(
    [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
    ],
    np.uint8,
)
"""RGB colours, one per class (cycled)."""


def draw_boxes(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: Sequence[str | int] | None = None,
    thickness: int | None = None,
    colour_keys: Sequence[int] | None = None,
    colour: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """``image`` as RGB with ``xyxy`` boxes outlined, each labelled when ``labels`` is given.

    Boxes share a colour when they share a ``colour_keys`` entry (a class index, say);
    each box has its own otherwise; ``colour`` (RGB) paints them all alike. Lines and text grow with the image (``thickness``
    None), so labels stay legible on a 4000 x 3000 photo.
    """
    out = _rgb(image)
    zoom = max(1.0, max(out.shape[:2]) / 640)
    thickness = thickness or max(1, round(2 * zoom))
    for index, box in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)):
        key = index if colour_keys is None else int(colour_keys[index])
        shade = colour or tuple(int(c) for c in PALETTE[key % len(PALETTE)])
        x0, y0, x1, y1 = (round(v) for v in box)
        cv2.rectangle(out, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), shade, thickness)
        if labels is not None:
            _label(out, str(labels[index]), (x0, y0), shade, zoom)
    return out


def overlay_mask(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """``image`` as RGB with every non-zero mask value tinted in its class colour."""
    colours = PALETTE[(mask.astype(np.int64) - 1) % len(PALETTE)]
    return _tint(_rgb(image), colours, mask > 0, alpha)


def _tint(out: np.ndarray, colours: np.ndarray, shown: np.ndarray, alpha: float) -> np.ndarray:
    """``out`` blended with the HxWx3 ``colours`` where ``shown``, in uint8 (a 12-megapixel
    photo needs a few copies of itself, not floats)."""
    blended = cv2.addWeighted(out, 1 - alpha, colours, alpha, 0)
    return np.where(shown[..., None], blended, out)


def class_palette(count: int, colours: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """``count`` x 3 uint8 RGB colours, one per class: ``colours`` when given, else Pascal
    VOC's colour map (class 0 black, 1 dark red, 2 green, ...), which viewers of VOC masks know.

    Example:
        >>> class_palette(3).tolist()
        [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    """
    if colours is not None:
        return np.asarray(colours, np.uint8).reshape(count, 3)
    palette = np.zeros((count, 3), np.uint8)
    for index in range(count):
        value = index
        for shift in range(7, -1, -1):
            for channel in range(3):
                palette[index, channel] |= ((value >> channel) & 1) << shift
            value >>= 3
    return palette


def overlay_classes(
    image: np.ndarray,
    mask: np.ndarray,
    palette: np.ndarray,
    names: Sequence[str],
    alpha: float = 0.5,
    untinted: int | None = None,
) -> np.ndarray:
    """``image`` as RGB with each pixel tinted in its class's ``palette`` colour (class
    ``untinted``, a background, left as it is), outlines where classes meet, and a legend
    of the classes present, all sized to the image so a 4000 x 3000 photo stays legible."""
    shown = mask != untinted if untinted is not None else np.ones(mask.shape, bool)
    out = _tint(_rgb(image), palette[mask], shown, alpha)
    zoom = max(1.0, max(out.shape[:2]) / 640)
    edges = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    if zoom > 1.5:
        edges = (
            cv2.dilate(edges.view(np.uint8), np.ones((2, 2), np.uint8), iterations=round(zoom / 2))
            > 0
        )
    out[edges] = palette[mask[edges]] // 2 + 127
    present = [index for index in np.unique(mask) if index < len(names)]
    for row, index in enumerate(present):
        corner = (round(8 * zoom), round((8 + 22 * row) * zoom))
        shade = tuple(int(c) for c in palette[index])
        _label(out, str(names[index]), corner, shade, zoom)
    return out


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return image[..., :3].copy()


def _label(
    image: np.ndarray, text: str, corner: tuple[int, int], colour: tuple[int, ...], zoom: float
) -> None:
    font, scale, weight = cv2.FONT_HERSHEY_SIMPLEX, 0.45 * zoom, max(1, round(zoom))
    (width, height), _ = cv2.getTextSize(text, font, scale, weight)
    pad = max(2, round(2 * zoom))
    x, y = corner[0], max(corner[1], height + 2 * pad)
    cv2.rectangle(image, (x, y - height - 2 * pad), (x + width + pad, y), colour, -1)
    ink = (0, 0, 0) if sum(colour[:3]) > 300 else (255, 255, 255)  # legible on dark colours
    cv2.putText(image, text, (x + pad // 2, y - pad), font, scale, ink, weight, cv2.LINE_AA)


def tile_images(
    images: Sequence[np.ndarray], columns: int = 8, min_cell: int = 64, gap: int = 2
) -> np.ndarray:
    """Same-sized HxW or HxWxC uint8 images in one grid image (white gaps), each enlarged
    by a whole factor (nearest neighbour) to ``min_cell`` pixels or more, so that 28x28
    samples can be looked at.

    Example:
        >>> tile_images([np.zeros((28, 28), np.uint8)] * 10, columns=4).shape
        (256, 342)
    """
    scale = max(1, -(-min_cell // max(images[0].shape[:2])))
    cells = [np.kron(image, np.ones((scale, scale, *[1] * (image.ndim - 2)), np.uint8))
             for image in images]  # fmt: skip
    height, width = cells[0].shape[:2]
    rows = -(-len(cells) // columns)
    columns = min(columns, len(cells))
    shape = (rows * (height + gap) - gap, columns * (width + gap) - gap, *cells[0].shape[2:])
    grid = np.full(shape, 255, np.uint8)
    for index, cell in enumerate(cells):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top : top + height, left : left + width] = cell
    return grid

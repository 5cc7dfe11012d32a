"""Synthetic text lines to train a recogniser without data: random strings drawn in the
TrueType fonts the system has (Debian's fonts-dejavu and the like) and Pillow's own,
dark on light or light on dark, sometimes in a plate's frame, then a small perspective
change and rotation, blur and noise. Written as ``train/`` and ``test/`` folders of PNGs,
each with a ``labels.csv`` of ``path,text`` rows, which ``ocr train`` reads as they are.

Example:
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> report = synthesize_lines(out, count=4, test_count=2, length="3-5", height=32)
    >>> report["train"], report["test"], len(report["fonts"]) >= 1
    (4, 2, True)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from deepimage.errors import DeepImageError
from deepimage.io.files import check_writable_folder, write_text
from deepimage.io.writing import write_image

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")
PILLOW_FONT = "pillow-default"


def system_fonts() -> list[str]:
    """TrueType/OpenType fonts found in the usual folders, and Pillow's bundled one.

    Example:
        >>> system_fonts()[-1]
        'pillow-default'
    """
    found = []
    for folder in FONT_FOLDERS:
        root = Path(folder).expanduser()
        if root.is_dir():
            found += sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in {".ttf", ".otf"})
    return [*found, PILLOW_FONT]


def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if name == PILLOW_FONT:
        return ImageFont.load_default(size)
    return ImageFont.truetype(name, size)


def parse_length(length: str) -> tuple[int, int]:
    """``"7"`` -> (7, 7), ``"5-9"`` -> (5, 9).

    Example:
        >>> parse_length("5-9")
        (5, 9)
    """
    try:
        low, dash, high = length.partition("-")
        bounds = (int(low), int(high if dash else low))
    except ValueError:
        bounds = (0, 0)
    if not 1 <= bounds[0] <= bounds[1] <= 200:
        raise DeepImageError(f"--length {length!r}: give N or MIN-MAX, from 1 to 200 characters")
    return bounds


def render_line(text: str, font: str, height: int, rng: np.random.Generator) -> np.ndarray:
    """One grey uint8 line image of ``text``, ``height`` pixels high."""
    size = 48
    face = _font(font, size)
    left, top, right, bottom = face.getbbox(text)
    pad = int(rng.integers(4, 14))
    canvas = (right - left + 2 * pad, size + 2 * pad)
    light, dark = int(rng.integers(150, 256)), int(rng.integers(0, 90))
    paper, ink = (light, dark) if rng.random() < 0.75 else (dark, light)
    image = Image.new("L", canvas, paper)
    draw = ImageDraw.Draw(image)
    draw.text((pad - left, pad + (size - (bottom - top)) // 2 - top), text, fill=ink, font=face)
    if rng.random() < 0.4:  # a plate's frame
        draw.rectangle((1, 1, canvas[0] - 2, canvas[1] - 2), outline=ink, width=2)
    line = _warp(np.asarray(image), rng, paper)
    if rng.random() < 0.7:
        line = cv2.GaussianBlur(line, (0, 0), rng.uniform(0.3, 1.5))
    width = max(height, round(line.shape[1] * height / line.shape[0]))
    line = cv2.resize(line, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    line += rng.normal(0, rng.uniform(0, 12), line.shape)
    return np.clip(line, 0, 255).astype(np.uint8)


def _warp(image: np.ndarray, rng: np.random.Generator, fill: int) -> np.ndarray:
    """A small perspective change and rotation (up to 3 degrees)."""
    h, w = image.shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-1, 1, (4, 2)) * [0.03 * w, 0.08 * h]
    matrix = cv2.getPerspectiveTransform(corners, np.float32(corners + jitter))
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-3, 3), 1.0)
    matrix = np.vstack([rotation, [0, 0, 1]]) @ matrix
    return cv2.warpPerspective(image, matrix, (w, h), borderValue=fill)


def synthesize_lines(
    out: str | Path,
    count: int = 3000,
    test_count: int = 500,
    alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    length: str = "7",
    height: int = 48,
    seed: int = 0,
    overwrite: bool = False,
    on_line: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Write ``count`` training and ``test_count`` test lines under ``out`` (the same
    ``seed``, the same lines); returns ``{out_dir, train, test, fonts}``."""
    if not alphabet or any(ch.isspace() and ch != " " for ch in alphabet):
        raise DeepImageError("--alphabet: give the characters to draw, e.g. ABC123")
    low, high = parse_length(length)
    root = check_writable_folder(out)
    existing = [root / split / "labels.csv" for split in ("train", "test")]
    if not overwrite and any(path.exists() for path in existing):
        raise DeepImageError(f"{root} already holds lines; pass --overwrite to replace them.")
    fonts = system_fonts()
    rng = np.random.default_rng(seed)
    chars = list(alphabet)
    for split, total in (("train", count), ("test", test_count)):
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(["path", "text"])
        for index in range(total):
            text = "".join(rng.choice(chars, int(rng.integers(low, high + 1))))
            font = fonts[int(rng.integers(len(fonts)))]
            name = f"{index:06d}.png"
            write_image(root / split / name, render_line(text, font, height, rng))
            writer.writerow([name, text])
            if on_line:
                on_line()
        if total:
            write_text(root / split / "labels.csv", rows.getvalue())
    return {"out_dir": str(root), "train": count, "test": test_count, "fonts": fonts}

"""Non-local means denoising (``cv2.fastNlMeansDenoising`` / ``...Colored``).

Bilateral and median denoising are :func:`deepimage.process.bilateral_filter` and
:func:`deepimage.process.median_blur`.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from deepimage.process._common import (
    MAX_WINDOW,
    check_image,
    check_odd,
    check_positive,
    option_check,
    via_uint8,
)

__all__ = ["denoise_nl_means"]


def _check_nl_means(
    h: float, h_color: float | None, template_window: int, search_window: int, **_: Any
) -> None:
    check_positive(h, "h")
    if h_color is not None:
        check_positive(h_color, "h_color")
    check_odd(template_window, "template_window", maximum=MAX_WINDOW)
    check_odd(search_window, "search_window", maximum=MAX_WINDOW)


@option_check(_check_nl_means)
def denoise_nl_means(
    image: np.ndarray,
    h: float = 10.0,
    h_color: float | None = None,
    template_window: int = 7,
    search_window: int = 21,
) -> np.ndarray:
    """Non-local means denoising, in 8 bits (float32 goes through uint8 and back).

    OpenCV's colour variant expects BGR (it converts BGR to Lab and filters luminance
    with ``h`` and colour with ``h_color``), so RGB input is converted to BGR and back.

    Args:
        image: uint8 or float32 HxW or HxWx3 RGB image.
        h: filter strength on luminance (0-255 scale); higher removes more noise and detail.
        h_color: filter strength on colour (default: h); ignored for grayscale.
        template_window: odd patch side in pixels, up to 101.
        search_window: odd side of the area searched for similar patches, up to 101.

    Example:
        >>> import numpy as np
        >>> denoise_nl_means(np.full((16, 16, 3), 90, np.uint8)).shape
        (16, 16, 3)
    """
    _check_nl_means(h, h_color, template_window, search_window)
    check_image(image)
    template, search = int(template_window), int(search_window)

    def run(img: np.ndarray) -> np.ndarray:
        if img.ndim == 2:
            return cv2.fastNlMeansDenoising(img, None, h, template, search)
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        color = h if h_color is None else h_color
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h, color, template, search)
        return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)

    return via_uint8(image, run)

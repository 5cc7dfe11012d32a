"""Safe image reading and writing.

Example:
    >>> from deepimage.io import IMAGE_EXTENSIONS
    >>> ".png" in IMAGE_EXTENSIONS
    True
"""

from deepimage.io.headers import IMAGE_EXTENSIONS
from deepimage.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageInfo,
    probe_image,
    read_frames,
    read_image,
    read_mask,
)
from deepimage.io.writing import FormatHolds, format_holds, write_frames, write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "FormatHolds",
    "ImageInfo",
    "format_holds",
    "probe_image",
    "read_frames",
    "read_image",
    "read_mask",
    "write_frames",
    "write_image",
]

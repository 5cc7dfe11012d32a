"""Safe image reading and writing.

Example:
    >>> from deepimage.io import IMAGE_EXTENSIONS
    >>> ".png" in IMAGE_EXTENSIONS
    True
"""

from deepimage.io.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ImageInfo,
    probe_image,
    read_image,
    write_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageInfo",
    "probe_image",
    "read_image",
    "write_image",
]

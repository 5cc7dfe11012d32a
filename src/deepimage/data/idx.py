"""IDX files, the format of the MNIST family (MNIST, Fashion-MNIST, EMNIST, KMNIST).

An IDX file is a big-endian header (two zero bytes, a type code, the number of
dimensions, then one uint32 per dimension) followed by the raw values; it is often
gzipped. Reference: http://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT").
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from deepimage.errors import DataNotFoundError, DeepImageError
from deepimage.io.files import atomic_write

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder(">"): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 24


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzipped or not (told apart by content, not by name).

    Returns a native-endian array with the file's dimensions and type.

    Raises:
        DataNotFoundError: the file does not exist.
        DeepImageError: the file is not IDX, is corrupt, or its payload does not match
            its dimensions; the message names the file and the problem.

    Example:
        >>> import gzip, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
        >>> _ = path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])))
        >>> read_idx(path)
        array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    try:
        with _open_maybe_gzip(path) as handle:
            return _parse(path, handle)
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: IDX file not found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DeepImageError(f"{path}: cannot read the IDX file ({exc})") from exc


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64) as an IDX file.

    The file is gzipped when ``path`` ends in ``.gz``; the write is atomic.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "images-idx3-ubyte.gz"
        >>> write_idx(path, np.zeros((2, 3, 4), dtype=np.uint8))
        >>> read_idx(path).shape
        (2, 3, 4)
    """
    path = Path(path)
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype.newbyteorder(">"))
    if code is None or array.ndim == 0:
        raise DeepImageError(f"{path}: IDX cannot hold a {array.ndim}-d {array.dtype} array")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path.suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    atomic_write(path, lambda handle: handle.write(content))


@contextmanager
def _open_maybe_gzip(path: Path) -> Iterator[BinaryIO]:
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not is_gzip:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw) as unzipped:
            yield unzipped


def _parse(path: Path, handle: BinaryIO) -> np.ndarray:
    magic = _read_header(path, handle, 4, "the 4-byte magic number")
    if magic[:2] != b"\0\0" or magic[2] not in _DTYPES or magic[3] == 0:
        raise DeepImageError(
            f"{path}: not an IDX file: magic number {magic.hex()} should be 0000, a type code "
            "(08 ubyte, 09 byte, 0b short, 0c int, 0d float, 0e double), then the number "
            "of dimensions (at least 1)"
        )
    dtype, ndim = _DTYPES[magic[2]], magic[3]
    dims = struct.unpack(
        f">{ndim}I", _read_header(path, handle, 4 * ndim, f"{ndim} dimension sizes")
    )
    needed = math.prod(dims) * dtype.itemsize
    payload = _read_at_most(handle, needed + 1)
    if len(payload) != needed:
        shape = " x ".join(map(str, dims))
        found = f"only {len(payload):,}" if len(payload) < needed else "more"
        raise DeepImageError(
            f"{path}: IDX payload size does not match the header: {shape} values of "
            f"{dtype.name} need {needed:,} bytes after the header, the file has {found}"
        )
    return np.frombuffer(payload, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _read_header(path: Path, handle: BinaryIO, size: int, what: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise DeepImageError(f"{path}: not an IDX file: too short to hold {what}")
    return data


def _read_at_most(handle: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes in chunks, so a lying header cannot force a huge buffer."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0 and (chunk := handle.read(min(remaining, _CHUNK))):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)

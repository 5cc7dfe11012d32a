"""deepimage.data.idx: IDX files, gzipped or not, with every malformation named."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepimage.data import read_idx, write_idx
from deepimage.errors import DataNotFoundError, DeepImageError


def _error(path: Path) -> str:
    with pytest.raises(DeepImageError) as caught:
        read_idx(path)
    assert str(path) in str(caught.value)
    return str(caught.value)


def test_reads_raw_and_gzipped_images(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "raw-idx3-ubyte", images)
    write_idx(tmp_path / "zipped-idx3-ubyte.gz", images)
    assert (tmp_path / "raw-idx3-ubyte").read_bytes()[:8] == bytes([0, 0, 8, 3, 0, 0, 0, 2])
    assert (tmp_path / "zipped-idx3-ubyte.gz").read_bytes()[:2] == b"\x1f\x8b"
    for name in ("raw-idx3-ubyte", "zipped-idx3-ubyte.gz"):
        result = read_idx(tmp_path / name)
        np.testing.assert_array_equal(result, images)
        assert result.dtype == np.uint8 and result.flags.writeable


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    labels = np.array([3, 1, 4], np.uint8)
    write_idx(tmp_path / "zipped.gz", labels)
    (tmp_path / "zipped.gz").rename(tmp_path / "zipped-without-suffix")
    write_idx(tmp_path / "plain", labels)
    (tmp_path / "plain").rename(tmp_path / "plain.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "zipped-without-suffix"), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), labels)


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
        st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
    )
)
def test_round_trip_every_type(tmp_path_factory: pytest.TempPathFactory, array: np.ndarray) -> None:
    path = tmp_path_factory.mktemp("idx") / "data.idx"
    write_idx(path, array)
    result = read_idx(path)
    assert result.dtype.isnative and result.dtype == array.dtype
    np.testing.assert_array_equal(result, array)


def test_write_refuses_types_idx_cannot_hold(tmp_path: Path) -> None:
    for array in (np.zeros(3, np.int64), np.array(5, np.uint8)):
        with pytest.raises(DeepImageError, match="IDX cannot hold"):
            write_idx(tmp_path / "x-idx", array)
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="not found"):
        read_idx(tmp_path / "nothing-idx1-ubyte")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + b"\0" * 8, "magic number 01000801"),
        (b"\x00\x00\x07\x01" + b"\0" * 8, "type code"),
        (b"\x00\x00\x08\x00", "at least 1"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "3 dimension sizes"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "5 values of uint8 need 5 bytes"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "the file has more"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x02" + b"\0" * 7, "float32 need 8 bytes"),
        (b"\x00\x00\x08\x03" + b"\xff" * 12 + b"tiny", "only 4"),  # lying header: no huge buffer
    ],
)
def test_malformed_files_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    assert message in _error(path)
    path.write_bytes(gzip.compress(content))
    assert message in _error(path)


def test_corrupt_and_truncated_gzip(tmp_path: Path) -> None:
    write_idx(tmp_path / "full.gz", np.zeros((50, 20), np.uint8))
    zipped = (tmp_path / "full.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(zipped[: len(zipped) // 2])
    assert "cannot read" in _error(tmp_path / "cut.gz")
    (tmp_path / "garbage.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    assert "cannot read" in _error(tmp_path / "garbage.gz")

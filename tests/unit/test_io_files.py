"""deepimage.io.files: atomic writes that leave no partial file and say why they failed."""

from __future__ import annotations

import errno
import os
import urllib.error
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from deepimage.io.files import WriteError, atomic_write, check_writable_folder, write_json
from deepimage.io.writing import write_image


def no_space(handle: IO[bytes]) -> None:
    handle.write(b"half an image")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_a_write_error_and_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(WriteError, match=r"a\.png was not written: the disk is full"):
        atomic_write(target, no_space)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_a_full_disk_at_the_rename_is_a_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WriteError, match=r"report\.json was not written: the disk is full"):
        write_json(tmp_path / "report.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_image_writes_on_a_full_disk_are_write_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, handle: IO[bytes]) -> None:
            self.handle = handle

        def __enter__(self) -> FullFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(self.handle, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullFile(real_fdopen(fd, mode)))
    with pytest.raises(WriteError, match="the disk is full"):
        write_image(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_other_errors_of_the_writer_pass_through(tmp_path: Path) -> None:
    def download(handle: IO[bytes]) -> None:
        raise urllib.error.URLError("no network")  # an OSError that is not the disk's

    with pytest.raises(urllib.error.URLError):
        atomic_write(tmp_path / "x.bin", download)
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_cannot_be_made_is_a_write_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(WriteError, match="cannot write in the output folder"):
        check_writable_folder(tmp_path / "file" / "out")
    with pytest.raises(WriteError, match="was not written"):
        atomic_write(tmp_path / "file" / "a.txt", lambda handle: handle.write(b"x"))

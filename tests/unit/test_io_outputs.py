"""deepimage.io.outputs.output_paths: mirrored, renamed, numbered outputs that never replace
inputs nor existing files silently; deepimage.io.paths.find_images reports unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepimage.errors import DeepImageError
from deepimage.io.outputs import OutputExistsError, output_paths
from deepimage.io.paths import UnreadableFolderWarning, find_images


def touch(root: Path, *names: str) -> list[Path]:
    paths = [root / name for name in names]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return paths


def planned(plan: dict[Path, Path], out: Path) -> list[str]:
    return [path.relative_to(out).as_posix() for path in plan.values()]


def test_outputs_mirror_the_inputs_below_their_root(tmp_path: Path) -> None:
    touch(tmp_path / "in", "a.png", "sub/b.jpg", "sub/deeper/c.png")
    root, files = find_images(tmp_path / "in")
    plan = output_paths([(root, file) for file in files], tmp_path / "out")
    assert list(plan) == files
    assert planned(plan, tmp_path / "out") == ["a.png", "sub/b.jpg", "sub/deeper/c.png"]


def test_a_file_given_alone_lands_in_the_output_folder(tmp_path: Path) -> None:
    (file,) = touch(tmp_path / "in" / "sub", "a.png")
    root, files = find_images(file)
    plan = output_paths([(root, files[0])], tmp_path / "out")
    assert planned(plan, tmp_path / "out") == ["a.png"]


def test_same_names_are_numbered_without_taking_another_inputs_name(tmp_path: Path) -> None:
    a, b, c, d = touch(tmp_path, "one/a.png", "two/a.png", "two/a-1.png", "three/A.PNG")
    pairs = [(file.parent, file) for file in (a, b, c, d)]
    plan = output_paths(pairs, tmp_path / "out")
    assert planned(plan, tmp_path / "out") == ["a.png", "a-2.png", "a-1.png", "A-3.PNG"]


def test_unique_stems_number_names_that_differ_only_by_extension(tmp_path: Path) -> None:
    files = touch(tmp_path, "x.png", "x.jpg", "y.png")
    pairs = [(tmp_path, file) for file in files]
    assert planned(output_paths(pairs, tmp_path / "out"), tmp_path / "out") == [
        "x.png",
        "x.jpg",
        "y.png",
    ]
    plan = output_paths(pairs, tmp_path / "out", unique_stems=True)
    assert planned(plan, tmp_path / "out") == ["x.png", "x-1.jpg", "y.png"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["a.gif", "b.jpg", "subject01.happy"]),
        ({"writable": True}, ["a.png", "b.jpg", "subject01.happy.png"]),
        ({"suffix": ".webp"}, ["a.webp", "b.webp", "subject01.happy.webp"]),
    ],
)
def test_suffixes(tmp_path: Path, options: dict, expected: list[str]) -> None:
    files = touch(tmp_path / "in", "a.gif", "b.jpg", "subject01.happy")
    plan = output_paths([(tmp_path / "in", file) for file in files], tmp_path / "out", **options)
    assert planned(plan, tmp_path / "out") == expected


def test_a_file_given_twice_is_planned_once_under_its_first_root(tmp_path: Path) -> None:
    (file,) = touch(tmp_path / "in", "sub/b.png")
    plan = output_paths([(tmp_path / "in", file), (file.parent, file)], tmp_path / "out")
    assert planned(plan, tmp_path / "out") == ["sub/b.png"]


def test_an_output_onto_an_input_is_refused_unless_inplace(tmp_path: Path) -> None:
    files = touch(tmp_path / "in", "a.png", "b.png")
    pairs = [(tmp_path / "in", file) for file in files]
    with pytest.raises(DeepImageError, match="would replace an input file") as without:
        output_paths(pairs, tmp_path / "in")
    assert "--inplace" not in str(without.value)
    with pytest.raises(DeepImageError, match="or pass --inplace"):
        output_paths(pairs, tmp_path / "in", inplace=False)
    assert output_paths(pairs, tmp_path / "in", inplace=True) == dict(
        zip(files, files, strict=True)
    )


def test_inplace_never_lets_one_input_replace_another(tmp_path: Path) -> None:
    files = touch(tmp_path / "in", "a.gif", "a.png")
    with pytest.raises(DeepImageError, match=r"a\.gif: the output .*a\.png would replace"):
        output_paths(
            [(tmp_path / "in", f) for f in files], tmp_path / "in", writable=True, inplace=True
        )


def test_a_symlinked_output_onto_an_input_is_refused(tmp_path: Path) -> None:
    (file,) = touch(tmp_path / "data", "a.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").symlink_to(file)
    with pytest.raises(DeepImageError, match="would replace an input file"):
        output_paths([(file.parent, file)], tmp_path / "out")


def test_an_output_reaching_into_an_input_folder_through_a_link_is_refused(
    tmp_path: Path,
) -> None:
    (file,) = touch(tmp_path / "in" / "sub", "a.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").symlink_to("../in/sub")
    pairs = [(tmp_path / "in", file)]
    with pytest.raises(DeepImageError, match=r"leads through a symlink .* inside the input folder"):
        output_paths(pairs, tmp_path / "out", suffix=".jpg")
    plan = output_paths(pairs, tmp_path / "out", suffix=".jpg", inplace=True)
    assert planned(plan, tmp_path / "out") == ["sub/a.jpg"]


def test_a_link_to_elsewhere_is_fine(tmp_path: Path) -> None:
    (file,) = touch(tmp_path / "in", "a.png")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "scratch")
    plan = output_paths([(tmp_path / "in", file)], tmp_path / "out")
    assert planned(plan, tmp_path / "out") == ["a.png"]


def test_existing_outputs_are_refused_replaced_or_kept(tmp_path: Path) -> None:
    files = touch(tmp_path / "in", "a.png", "b.png", "c.png")
    touch(tmp_path / "out", "a.png", "c.png")
    pairs = [(tmp_path / "in", file) for file in files]
    with pytest.raises(OutputExistsError, match=r"a\.png already exists \(and 1 more\)") as error:
        output_paths(pairs, tmp_path / "out")
    assert error.value.output == tmp_path / "out" / "a.png" and "--overwrite" in str(error.value)
    assert planned(
        output_paths(pairs, tmp_path / "out", existing="overwrite"), tmp_path / "out"
    ) == [
        "a.png",
        "b.png",
        "c.png",
    ]
    kept: dict[Path, Path] = {}
    plan = output_paths(pairs, tmp_path / "out", existing="skip", kept=kept)
    assert planned(plan, tmp_path / "out") == ["b.png"]
    assert kept == {files[0]: tmp_path / "out" / "a.png", files[2]: tmp_path / "out" / "c.png"}


def test_a_broken_link_at_an_output_counts_as_existing(tmp_path: Path) -> None:
    (file,) = touch(tmp_path / "in", "a.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(OutputExistsError):
        output_paths([(tmp_path / "in", file)], tmp_path / "out")


def test_unreadable_folders_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "in", "a.png", "locked/b.png")
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    skipped: list[dict[str, str]] = []
    _, files = find_images(tmp_path / "in", skipped=skipped)
    assert [f.name for f in files] == ["a.png"]
    assert skipped == [
        {
            "path": str(tmp_path / "in" / "locked"),
            "reason": "cannot read the folder (Permission denied); its images were left out",
        }
    ]
    with pytest.warns(UnreadableFolderWarning, match="locked: cannot read the folder"):
        find_images(tmp_path / "in")

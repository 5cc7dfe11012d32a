"""Where a command writes one output per input file: the one output-path planner.

:func:`output_paths` maps every input file, found under a root folder (what
:func:`~deepimage.io.paths.find_images` returns), to a path under an output folder that
mirrors the file's place below its root; a file given on its own has its folder as root,
so it lands directly in the output folder. Outputs that would share a name are numbered
(``a.png``, ``a-1.png``). An output that would replace an input file is refused unless
writing in place is asked for, and so is one that reaches into an input folder through a
symlink. A file already at an output path is never replaced silently: ``existing`` says
whether it is refused (the default), replaced or kept.

Example:
    >>> from pathlib import Path
    >>> plan = output_paths(
    ...     [(Path("in"), Path("in/a.png")), (Path("in"), Path("in/sub/b.gif")),
    ...      (Path("other"), Path("other/a.png"))],
    ...     "out",
    ...     writable=True,
    ... )
    >>> [path.as_posix() for path in plan.values()]
    ['out/a.png', 'out/sub/b.png', 'out/a-1.png']
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from deepimage.errors import DeepImageError
from deepimage.io.headers import IMAGE_EXTENSIONS
from deepimage.io.writing import LOSSY_SUFFIXES, WRITABLE_SUFFIXES

Existing = Literal["refuse", "overwrite", "skip"]
"""What :func:`output_paths` does with an output path where a file already exists."""


class OutputExistsError(DeepImageError):
    """Output paths already hold files and ``existing="refuse"``: the first ``output``, the
    ``source`` it is the output of, how many ``others``, and the ``fix`` the message gives
    (a command with more flags than ``--overwrite`` names them all)."""

    def __init__(
        self,
        output: Path,
        source: Path,
        others: int,
        fix: str = "pass --overwrite to replace existing outputs",
    ) -> None:
        self.output, self.source, self.others = output, source, others
        more = f" (and {others} more)" if others else ""
        super().__init__(
            f"{output} already exists{more}, the output of {source}; {fix}, "
            "or choose another -o/--out folder"
        )


def output_paths(
    inputs: Iterable[tuple[Path, Path]],
    out_dir: str | os.PathLike[str],
    *,
    suffix: str | None = None,
    writable: bool = False,
    lossless: bool = False,
    unique_stems: bool = False,
    inplace: bool | None = None,
    existing: Existing = "refuse",
    kept: dict[Path, Path] | None = None,
) -> dict[Path, Path]:
    """``{input file: output path}`` for ``(root, file)`` pairs, in input order.

    Each output is ``out_dir / file.relative_to(root)``, renamed by:

    - ``suffix`` (".jpg"): replaces the file's image extension, or is appended to a name
      without one (``subject01.happy`` becomes ``subject01.happy.jpg``);
    - ``writable``: a file whose extension :func:`~deepimage.io.writing.write_image` cannot
      write gets ``.png`` the same way (ignored when ``suffix`` is given);
    - ``lossless``: a file in a lossy format (JPEG, WebP) gets ``.png`` too, for outputs
      whose exact values matter (masks);
    - numbering: an output whose name (ignoring case, so that case-insensitive file
      systems keep them apart too) an earlier input already has becomes ``<stem>-<n><ext>``;
      with ``unique_stems`` names that differ only by extension count as the same (for
      formats whose side files are named by stem: VOC XML, YOLO labels).

    A file given twice (the same absolute path) is planned once, under its first root.
    An output that is an input file (symlinks followed) raises a
    :class:`~deepimage.errors.DeepImageError`, except with ``inplace=True`` where a file
    may replace itself; ``inplace=False`` names ``--inplace`` as the fix, ``None`` (a
    command that cannot write in place) does not. Unless ``inplace``, an output whose path
    leads through a symlink into an input's root folder is refused too (``out/sub`` a link
    to ``in/sub``), before anything is written.

    ``existing`` decides about a file already at an output path (other than the input
    itself when writing in place): ``"refuse"`` raises :class:`OutputExistsError` naming it
    and ``--overwrite``; ``"overwrite"`` plans it to be replaced; ``"skip"`` leaves the
    input out of the plan, so the file is kept (and adds it to ``kept`` when given, as
    ``{input: existing output}``).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "a.png").write_bytes(b"")
        >>> output_paths([(root, root / "a.png")], root, inplace=True) == {root / "a.png": root / "a.png"}
        True
        >>> output_paths([(root, root / "a.png")], root, inplace=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: ...a.png would replace an input file; choose another -o/--out folder, or pass --inplace to replace inputs
    """
    natural: dict[Path, Path] = {}
    for root, file in inputs:
        natural.setdefault(Path(os.path.abspath(file)), (file, root))
    renamed = {
        file: _renamed(file.relative_to(root), suffix, writable, lossless)
        for file, root in natural.values()
    }
    plan = _numbered(renamed, Path(out_dir), unique_stems)
    _refuse_replacing_inputs(plan, inplace)
    if not inplace:
        _refuse_links_into_inputs(plan, {file: root for file, root in natural.values()})
    taken = {file: output for file, output in plan.items() if _exists(file, output, inplace)}
    if taken and existing == "refuse":
        file, output = next(iter(taken.items()))
        raise OutputExistsError(output, file, len(taken) - 1)
    if existing == "skip":
        if kept is not None:
            kept.update(taken)
        return {file: output for file, output in plan.items() if file not in taken}
    return plan


def _renamed(relative: Path, suffix: str | None, writable: bool, lossless: bool) -> Path:
    own = relative.suffix.lower()
    if suffix is None and (
        (writable and own not in WRITABLE_SUFFIXES) or (lossless and own in LOSSY_SUFFIXES)
    ):
        suffix = ".png"
    if suffix is None:
        return relative
    if relative.suffix.lower() in IMAGE_EXTENSIONS:
        return relative.with_suffix(suffix)
    return relative.with_name(relative.name + suffix)


def _numbered(renamed: dict[Path, Path], out_dir: Path, unique_stems: bool) -> dict[Path, Path]:
    """Outputs under ``out_dir``; the first input keeps a shared name, later ones are
    numbered with the first number no input's own name uses."""

    def key(relative: Path) -> str:
        return (relative.with_suffix("") if unique_stems else relative).as_posix().lower()

    wanted = {key(relative) for relative in renamed.values()}
    taken: set[str] = set()
    plan = {}
    for file, relative in renamed.items():
        candidate, number = relative, 0
        while key(candidate) in taken or (number and key(candidate) in wanted):
            number += 1
            candidate = relative.with_name(f"{relative.stem}-{number}{relative.suffix}")
        taken.add(key(candidate))
        plan[file] = out_dir / candidate
    return plan


def _exists(file: Path, output: Path, inplace: bool | None) -> bool:
    """Whether a file (or a link, even a broken one) is at ``output``, other than ``file``
    replacing itself in place."""
    if inplace and output.resolve() == file.resolve():
        return False
    try:
        return output.is_symlink() or output.exists()
    except OSError as error:
        raise DeepImageError(
            f"{output}: cannot tell whether it exists ({error.strerror}); "
            "choose another -o/--out folder"
        ) from None


def _refuse_links_into_inputs(plan: dict[Path, Path], roots: dict[Path, Path]) -> None:
    """Refuse an output that a symlink on its path leads into an input's root folder."""
    trees = {Path(os.path.abspath(root)): root.resolve() for root in roots.values()}
    for file, output in plan.items():
        written = Path(os.path.abspath(output))
        landing = output.resolve()
        for named, real in trees.items():
            if landing.is_relative_to(real) and not written.is_relative_to(named):
                raise DeepImageError(
                    f"{file}: the output {output} leads through a symlink to {landing}, "
                    f"inside the input folder {named}; remove the link "
                    "or choose another -o/--out folder"
                )


def _refuse_replacing_inputs(plan: dict[Path, Path], inplace: bool | None) -> None:
    sources = {file.resolve(): file for file in plan}
    for file, output in plan.items():
        replaced = sources.get(output.resolve())
        if replaced is not None and not (inplace and replaced == file):
            fix = ", or pass --inplace to replace inputs" if inplace is False else ""
            raise DeepImageError(
                f"{file}: the output {output} would replace an input file; "
                f"choose another -o/--out folder{fix}"
            )

"""Registry of the image-to-image operations, described for a command line.

Each :class:`Operation` is derived from its function: parameters (after the image) come
from the signature and type hints, their help from the ``Args:`` section of the
docstring, and ``Literal`` hints give the choices. A CLI builds ``deepimage process OP``
and ``deepimage process list`` from :data:`OPERATIONS` without repeating any option.
A few friendly names (``blur``, ``edges``, ``threshold``, ``denoise``) are
:class:`Dispatch` operations that run one of several functions chosen by ``method``.

Example:
    >>> op = get_operation("resize")
    >>> [p.name for p in op.params][:3]
    ['width', 'height', 'max_side']
    >>> op.parse_options({"width": "64", "interpolation": "area"})
    {'width': 64, 'interpolation': 'area'}
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import numpy as np

from deepimage.errors import DeepImageError
from deepimage.process import (
    color,
    denoise,
    edges,
    filters,
    geometry,
    morphology,
    segment,
    threshold,
)

__all__ = [
    "OPERATIONS",
    "Dispatch",
    "Operation",
    "Param",
    "describe",
    "get_operation",
    "list_operations",
    "parse_bool",
    "parse_numbers",
]

REQUIRED = inspect.Parameter.empty
EXACT_GROUPS = frozenset({"threshold", "edges", "segment"})
"""Groups whose outputs hold labels, not intensities (see :attr:`Operation.exact_values`)."""


def parse_bool(text: str) -> bool:
    """Read a command-line boolean: true/false, yes/no, on/off or 1/0.

    Example:
        >>> parse_bool("Yes")
        True
    """
    value = {"true": True, "yes": True, "on": True, "1": True}.get(text.strip().lower())
    if value is None and text.strip().lower() not in ("false", "no", "off", "0"):
        raise ValueError(f"not a boolean: {text!r}")
    return bool(value)


def parse_numbers(text: str) -> float | tuple[float, ...]:
    """Read one number, or comma-separated numbers as a tuple.

    Example:
        >>> parse_numbers("255, 0, 0"), parse_numbers("2.5")
        ((255.0, 0.0, 0.0), 2.5)
    """
    values = tuple(float(part) for part in text.split(","))
    return values[0] if len(values) == 1 else values


_PARSERS: dict[type, Callable[[str], Any]] = {bool: parse_bool, tuple: parse_numbers}
_INT_LIMIT = 2**31 - 1  # OpenCV takes C ints


def _check_number(name: str, text: str, value: Any) -> None:
    """Refuse NaN, infinity, and integers OpenCV cannot take, whatever the option."""
    numbers = value if isinstance(value, tuple) else (value,)
    for number in numbers:
        if isinstance(number, float) and not math.isfinite(number):
            raise DeepImageError(f"option {name}: {text!r} is not a finite number")
        if isinstance(number, int) and abs(number) > _INT_LIMIT:
            raise DeepImageError(
                f"option {name}: {text} is too large; use a number up to {_INT_LIMIT:,}"
            )


@dataclass(frozen=True)
class Param:
    """One option of an operation.

    ``type`` is int, float, str, bool (a flag) or tuple (comma-separated numbers, such as a
    colour R,G,B, a box or a matrix); ``default`` is ``REQUIRED`` when the option must be
    given.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None

    @property
    def required(self) -> bool:
        """Whether the option has no default."""
        return self.default is REQUIRED

    def parse(self, text: str) -> Any:
        """Convert command-line text to this option's value, checking the choices."""
        try:
            value = _PARSERS.get(self.type, self.type)(text)
        except ValueError as error:
            raise DeepImageError(
                f"option {self.name}: cannot read {text!r} as {self.type.__name__}"
            ) from error
        _check_number(self.name, text, value)
        if self.choices is not None and value not in self.choices:
            raise DeepImageError(
                f"option {self.name}: {text!r} is not one of {', '.join(map(str, self.choices))}"
            )
        return value


@dataclass(frozen=True)
class Operation:
    """A named image operation: ``func(image, **options) -> ndarray``."""

    name: str
    func: Callable[..., np.ndarray]
    help: str
    params: tuple[Param, ...]
    group: str

    def __call__(self, image: np.ndarray, **options: Any) -> np.ndarray:
        return self.func(image, **options)

    @property
    def exact_values(self) -> bool:
        """Whether its output's values are labels (a binary mask, an edge map, segment
        labels) that a lossy format would blur into others: written as PNG, not JPEG."""
        return self.group in EXACT_GROUPS

    def check_names(self, names: Iterable[str], label: str = "") -> None:
        """Raise if an option name is unknown or a required one is missing."""
        label, given = label or self.name, set(names)
        known = [param.name for param in self.params]
        unknown = sorted(given - set(known))
        if unknown:
            raise DeepImageError(
                f"{label} has no option {', '.join(unknown)}; options: {', '.join(known) or 'none'}"
            )
        missing = [p.name for p in self.params if p.required and p.name not in given]
        if missing:
            raise DeepImageError(f"{label} needs option {', '.join(missing)}")

    def check_values(self, options: Mapping[str, Any]) -> None:
        """Run the operation's own checks of its option values, those that need no image
        (``check_options``, see :func:`~deepimage.process._common.option_check`)."""
        checker = getattr(self.func, "check_options", None)
        if checker is not None:
            defaults = {param.name: param.default for param in self.params if not param.required}
            checker(**(defaults | dict(options)))

    def parse_options(self, options: Mapping[str, str]) -> dict[str, Any]:
        """Typed keyword arguments from option texts, checked: unknown, missing, unreadable
        or out-of-range options raise before any image is touched.

        Example:
            >>> get_operation("crop").parse_options({"box": "1,2,3"})
            Traceback (most recent call last):
            ...
            deepimage.errors.DeepImageError: crop box must be x1,y1,x2,y2, got (1.0, 2.0, 3.0)
        """
        self.check_names(options)
        params = {param.name: param for param in self.params}
        typed = {name: params[name].parse(text) for name, text in options.items()}
        self.check_values(typed)
        return typed


@dataclass(frozen=True)
class Dispatch(Operation):
    """An operation that runs one of several others, chosen by its ``method`` option.

    Its options are the ``method`` choice and the union of the methods' options; an
    option the chosen method lacks is refused. A method's own option called ``method``
    is renamed ``<method>_method`` (threshold's adaptive method is ``adaptive_method``).

    Example:
        >>> edges = get_operation("edges")
        >>> list(edges.methods), edges.default_method
        (['canny', 'sobel', 'scharr', 'laplacian'], 'canny')
        >>> edges.parse_options({"method": "sobel", "low": "10"})
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: edges --method sobel has no option low; options: ksize, direction, as_float
    """

    methods: Mapping[str, Operation]
    default_method: str

    def select(self, options: Mapping[str, Any]) -> tuple[Operation, dict[str, Any]]:
        """The chosen method's operation and its keyword arguments, checked."""
        method = options.get("method", self.default_method)
        if method not in self.methods:
            raise DeepImageError(
                f"{self.name}: unknown method {method!r}; choose one of: {', '.join(self.methods)}"
            )
        op = self.methods[method]
        inner = {
            _inner_name(method, name): value for name, value in options.items() if name != "method"
        }
        op.check_names(inner, f"{self.name} --method {method}")
        op.check_values(inner)
        return op, inner

    def parse_options(self, options: Mapping[str, str]) -> dict[str, Any]:
        """Typed keyword arguments, also checked against the chosen method."""
        parsed = super().parse_options(options)
        self.select(parsed)
        return parsed


def plain_text(text: str) -> str:
    """Docstring text as people read it on a terminal or in JSON: no reST roles or literal
    quotes.

    Example:
        >>> plain_text("k-means (see :func:`~deepimage.process.kmeans_cluster`), ``k`` >= 2")
        'k-means (see kmeans_cluster), k >= 2'
    """
    text = re.sub(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def _arg_help(func: Callable[..., Any]) -> dict[str, str]:
    """Parameter help from the Google-style ``Args:`` section of the docstring."""
    lines = (inspect.getdoc(func) or "").splitlines()
    start = lines.index("Args:") + 1 if "Args:" in lines else len(lines)
    helps: dict[str, str] = {}
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        match = re.match(r" {4}(\w+): (.*)", line)
        if match:
            helps[match[1]] = match[2]
        elif helps:
            helps[next(reversed(helps))] += " " + line.strip()
    return helps


def _cli_type(hint: Any) -> tuple[type, tuple[Any, ...] | None]:
    """Command-line type and choices for a type hint."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        return _cli_type(args[0]) if len(args) == 1 else (tuple, None)
    if get_origin(hint) is Literal:
        choices = get_args(hint)
        return type(choices[0]), choices
    return (hint, None) if hint in (int, float, str, bool) else (tuple, None)


def describe(func: Callable[..., np.ndarray], group: str) -> Operation:
    """Describe ``func(image, ...)`` as an :class:`Operation` named like the function.

    Example:
        >>> from deepimage.process import flip
        >>> describe(flip, "geometry").params[0].choices
        ('horizontal', 'vertical', 'both')
    """
    hints = get_type_hints(func)
    helps = _arg_help(func)
    params = []
    for p in list(inspect.signature(func).parameters.values())[1:]:
        kind, choices = _cli_type(hints[p.name])
        params.append(Param(p.name, kind, p.default, plain_text(helps.get(p.name, "")), choices))
    summary = plain_text((inspect.getdoc(func) or "").split("\n\n")[0].replace("\n", " "))
    return Operation(func.__name__.replace("_", "-"), func, summary, tuple(params), group)


_GROUPS: dict[str, tuple[Callable[..., np.ndarray], ...]] = {
    "geometry": (
        geometry.resize,
        geometry.rotate,
        geometry.crop,
        geometry.center_crop,
        geometry.translate,
        geometry.flip,
        geometry.pad,
        geometry.warp_affine,
        geometry.warp_perspective,
    ),
    "color": (
        color.convert_color,
        color.grayscale,
        color.adjust_brightness_contrast,
        color.adjust_gamma,
        color.auto_contrast,
        color.white_balance,
        color.equalize_hist,
        color.clahe,
    ),
    "filters": (
        filters.gaussian_blur,
        filters.median_blur,
        filters.bilateral_filter,
        filters.box_blur,
        filters.sharpen,
    ),
    "edges": (edges.sobel, edges.scharr, edges.laplacian, edges.canny),
    "threshold": (threshold.threshold, threshold.otsu_threshold, threshold.adaptive_threshold),
    "segment": (segment.watershed, segment.kmeans_quantize),
    "morphology": (
        morphology.erode,
        morphology.dilate,
        morphology.opening,
        morphology.closing,
        morphology.morph_gradient,
    ),
    "denoise": (denoise.denoise_nl_means,),
}


def _outer_name(method: str, name: str) -> str:
    return f"{method}_method" if name == "method" else name


def _inner_name(method: str, name: str) -> str:
    return "method" if name == f"{method}_method" else name


def _show_default(param: Param) -> str:
    return "required" if param.required else f"default {param.default}"


def _merge_params(uses: list[tuple[str, Param]]) -> Param:
    """One option standing for the same-named options of several methods."""
    first = uses[0][1]
    defaults = {_show_default(param) for _, param in uses}
    if len(defaults) == 1 and not first.required:
        default = first.default
        where = ("method " if len(uses) == 1 else "methods ") + ", ".join(m for m, _ in uses)
    else:
        default = None
        where = "; ".join(f"{method}: {_show_default(param)}" for method, param in uses)
    return Param(first.name, first.type, default, f"{first.help} ({where})", first.choices)


def dispatch(
    name: str, group: str, summary: str, methods: Mapping[str, Callable[..., np.ndarray]]
) -> Dispatch:
    """A :class:`Dispatch` operation over ``methods``; the first one is the default.

    Example:
        >>> import numpy as np
        >>> smooth = dispatch("smooth", "filters", "Smooth.", {"box": filters.box_blur})
        >>> smooth(np.zeros((4, 4), np.uint8), ksize=3).shape
        (4, 4)
    """
    ops = {method: describe(func, group) for method, func in methods.items()}
    default = next(iter(ops))
    uses: dict[str, list[tuple[str, Param]]] = {}
    for method, op in ops.items():
        for param in op.params:
            renamed = replace(param, name=_outer_name(method, param.name))
            uses.setdefault(renamed.name, []).append((method, renamed))
    choice = Param(
        "method",
        str,
        default,
        "which operation: "
        + ", ".join(m if m == op.name else f"{m} ({op.name})" for m, op in ops.items()),
        tuple(ops),
    )
    params = (choice, *(_merge_params(found) for found in uses.values()))

    def run(image: np.ndarray, **options: Any) -> np.ndarray:
        op, inner = operation.select(options)
        return op(image, **inner)

    operation = Dispatch(name, run, summary, params, group, ops, default)
    return operation


_DISPATCH: dict[str, tuple[str, str, dict[str, Callable[..., np.ndarray]]]] = {
    "blur": (
        "filters",
        "Blur: Gaussian (the default), median, box or bilateral.",
        {
            "gaussian": filters.gaussian_blur,
            "median": filters.median_blur,
            "box": filters.box_blur,
            "bilateral": filters.bilateral_filter,
        },
    ),
    "edges": (
        "edges",
        "Edge map: Canny (the default), Sobel, Scharr or Laplacian.",
        {
            "canny": edges.canny,
            "sobel": edges.sobel,
            "scharr": edges.scharr,
            "laplacian": edges.laplacian,
        },
    ),
    "threshold": (
        "threshold",
        "Binary mask from a global (the default), Otsu or adaptive threshold.",
        {
            "global": threshold.threshold,
            "otsu": threshold.otsu_threshold,
            "adaptive": threshold.adaptive_threshold,
        },
    ),
    "denoise": (
        "denoise",
        "Denoise: non-local means (the default), bilateral or median filter.",
        {
            "nl-means": denoise.denoise_nl_means,
            "bilateral": filters.bilateral_filter,
            "median": filters.median_blur,
        },
    ),
}

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for group, funcs in _GROUPS.items()
    for op in (describe(func, group) for func in funcs)
}
# Friendly names; "threshold" replaces the global threshold, which stays its default method.
OPERATIONS.update({name: dispatch(name, *spec) for name, spec in _DISPATCH.items()})


def list_operations(group: str | None = None) -> list[Operation]:
    """All operations, or those of one group, in registry order.

    Example:
        >>> [op.name for op in list_operations("edges")]
        ['sobel', 'scharr', 'laplacian', 'canny', 'edges']
    """
    if group is not None and group not in _GROUPS:
        raise DeepImageError(f"unknown group {group!r}; choose one of: {', '.join(_GROUPS)}")
    return [op for op in OPERATIONS.values() if group is None or op.group == group]


def get_operation(name: str) -> Operation:
    """The operation called ``name`` (dashes or underscores).

    Example:
        >>> get_operation("gaussian_blur").name
        'gaussian-blur'
    """
    key = name.replace("_", "-")
    if key not in OPERATIONS:
        close = difflib.get_close_matches(key, OPERATIONS, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise DeepImageError(
            f"unknown operation {name!r}; {hint}run 'deepimage process list' to see them all"
        )
    return OPERATIONS[key]

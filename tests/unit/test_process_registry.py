from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from test_process_data import photo

import deepimage.process as process
from deepimage.errors import DeepImageError
from deepimage.process import OPERATIONS, get_operation, list_operations
from deepimage.process.registry import REQUIRED, describe

MODULES = [f"deepimage.process.{info.name}" for info in pkgutil.iter_modules(process.__path__)]


@pytest.mark.parametrize("name", ["deepimage.process", *MODULES])
def test_doctests_pass(name: str) -> None:
    failed, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0


@pytest.mark.parametrize("name", process.__all__)
def test_public_names_have_a_docstring_example(name: str) -> None:
    obj = getattr(process, name)
    if inspect.isfunction(obj):
        assert ">>>" in (obj.__doc__ or ""), f"{name} has no doctest example"
        assert all(
            p.annotation is not inspect.Parameter.empty
            for p in inspect.signature(obj).parameters.values()
        ), f"{name} lacks type hints"


@pytest.mark.parametrize("op", OPERATIONS.values(), ids=list(OPERATIONS))
def test_every_option_is_documented(op) -> None:
    assert op.help and not op.help.startswith("Args")
    for param in op.params:
        assert param.help, f"{op.name}: option {param.name} has no help in the docstring"


def test_registry_derives_types_defaults_and_choices() -> None:
    resize = {p.name: p for p in get_operation("resize").params}
    assert resize["width"].type is int and resize["width"].default is None
    assert resize["letterbox"].type is bool
    assert resize["interpolation"].choices == ("nearest", "linear", "cubic", "area", "lanczos")
    assert resize["fill"].type is tuple
    rotate = {p.name: p for p in get_operation("rotate").params}
    assert rotate["angle"].required and rotate["angle"].default is REQUIRED
    assert rotate["expand"].help.startswith("grow the canvas")


def test_parse_options_converts_text() -> None:
    op = get_operation("rotate")
    options = op.parse_options({"angle": "30", "expand": "yes", "fill": "255,0,0"})
    assert options == {"angle": 30.0, "expand": True, "fill": (255.0, 0.0, 0.0)}
    assert op(photo("astronaut"), **options).shape[0] > 256
    crop = get_operation("crop").parse_options({"box": "1,2,30,40"})
    assert process.crop(photo("camera"), **crop).shape == (38, 29)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("rotate", {}, "needs option angle"),
        ("rotate", {"angle": "x"}, "cannot read"),
        ("flip", {"direction": "sideways"}, "not one of"),
        ("flip", {"colour": "red"}, "no option colour"),
        ("resize", {"letterbox": "maybe"}, "cannot read"),
    ],
)
def test_parse_options_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(DeepImageError, match=message):
        get_operation(name).parse_options(options)


def test_lookup_by_name_and_group() -> None:
    assert get_operation("gaussian_blur") is get_operation("gaussian-blur")
    with pytest.raises(DeepImageError, match="did you mean gaussian-blur"):
        get_operation("gausian-blur")
    assert {op.group for op in list_operations()} == {
        "geometry",
        "color",
        "filters",
        "edges",
        "threshold",
        "segment",
        "morphology",
        "denoise",
    }
    assert [op.name for op in list_operations("morphology")] == [
        "erode",
        "dilate",
        "opening",
        "closing",
        "morph-gradient",
    ]
    with pytest.raises(DeepImageError, match="unknown group"):
        list_operations("magic")


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS.values() if not any(p.required for p in op.params)],
    ids=lambda op: op.name,
)
@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_operations_with_defaults_work_or_explain(op, name: str) -> None:
    image = photo(name)[:64, :64]
    try:
        out = op(image)
    except DeepImageError as error:  # e.g. resize without a size, white-balance on gray
        assert "need" in str(error)
        return
    assert isinstance(out, np.ndarray)
    assert out.shape[:2] == image.shape[:2]


def test_describe_any_function() -> None:
    def brighten(image: np.ndarray, amount: int = 10) -> np.ndarray:
        """Add a constant.

        Args:
            image: uint8 image.
            amount: value added to
                every pixel.
        """
        return image + amount

    op = describe(brighten, "custom")
    assert op.name == "brighten" and op.help == "Add a constant."
    assert op.params[0].help == "value added to every pixel."

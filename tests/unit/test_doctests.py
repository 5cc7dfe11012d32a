"""Every runnable example in a docstring of the package still runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import deepimage

MODULES = [
    m.name
    for m in pkgutil.walk_packages(deepimage.__path__, "deepimage.")
    if not m.name.endswith("__main__") and not m.name.startswith("deepimage.process")
]  # deepimage.process has its own doctest test (tests/unit/test_process_registry.py)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    failed, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0, f"{failed} docstring example(s) in {name} failed"

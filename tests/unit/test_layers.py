"""The layering of docs/architecture.md: each package imports only the packages below it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import deepimage

PACKAGE = Path(deepimage.__file__).parent
BASE = {"errors", "io"}
ALLOWED = {
    "io": {"errors"},
    "process": BASE,
    "viz": BASE,
    "engine": BASE,
    "faces": BASE | {"process", "viz"},
    "transforms": BASE | {"process"},
    "data": BASE | {"process", "transforms"},
    "models": BASE | {"engine"},
    "tasks": BASE | {"process", "viz", "engine", "transforms", "data", "models"},
    "api": BASE | {"process", "viz", "engine", "transforms", "data", "models", "tasks", "faces"},
    "scratch": BASE | {"viz", "engine", "data", "tasks"},  # tasks: only the torch export
}
TORCH_FREE = [
    "deepimage.process",
    "deepimage.faces",
    "deepimage.io",
    "deepimage.data.detection",
    "deepimage.data.segmentation",
    "deepimage.scratch",
]


def deepimage_imports(path: Path) -> set[str]:
    """The deepimage packages a module imports (``deepimage.data.x`` -> ``data``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("deepimage.")}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {}
    for module in sorted((PACKAGE / package).rglob("*.py")):
        extra = deepimage_imports(module) - ALLOWED[package] - {package}
        if extra:
            wrong[str(module.relative_to(PACKAGE))] = sorted(extra)
    assert not wrong, f"imports from layers above: {wrong}"


def test_the_layer_checker_sees_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import deepimage.api.classifier\nfrom deepimage.cli import main\n")
    assert deepimage_imports(module) == {"api", "cli"}


@pytest.mark.parametrize("module", TORCH_FREE)
def test_classical_packages_import_without_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr

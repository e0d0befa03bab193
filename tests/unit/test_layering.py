"""bpm/engine is the pure core: it may import the stdlib and small pure libraries, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "bpm" / "engine"
ALLOWED_THIRD_PARTY = {"jsonschema", "isodate", "orjson"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_engine_imports_only_the_stdlib_small_pure_libraries_and_itself():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            outside_engine = name.startswith("bpm.") and not name.startswith("bpm.engine")
            foreign = top != "bpm" and top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY
            if outside_engine or foreign:
                offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(ENGINE.rglob("*.py"))) > 10, "the walk must actually see the engine"


def test_the_runtime_reaches_the_hand_built_statement_layer_only_through_repositories():
    runtime = ENGINE.parent / "runtime"
    offenders = []
    for path in runtime.rglob("*.py"):
        source = path.read_text()
        for forbidden in ("DirectStatement", "_TABLE", "insert_values(", "versioned_update", "uow.write(",
                          "uow.insert(", "load_record("):
            if forbidden in source:
                offenders.append(f"{path.name}: {forbidden}")
    assert offenders == [], "name what you want of the store in bpm/store/repositories"

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


BPM = ENGINE.parent
# Each part of the package by its place in the layers (docs/service.md): a part imports only parts below it.
RANK = {"engine": 0, "errors": 1, "resources": 1, "calendars": 2, "config": 2, "forms": 2, "inbound": 2, "outbound": 3,
        "nodes": 3, "store": 3, "runtime": 4, "http": 5, "notify": 5, "auth": 6, "scheduler": 6, "api": 7,
        "web": 7, "app": 8, "cli": 9, "__init__": 0, "_bundled": 0}
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel", "psycopg", "alembic")


def _part(path: Path) -> str:
    return path.relative_to(BPM).parts[0].removesuffix(".py")


def _sources() -> list[Path]:
    return [path for path in BPM.rglob("*.py") if "_bundled" not in path.parts]


def test_every_part_of_the_package_imports_only_parts_below_it():
    offenders = []
    for path in _sources():
        part = _part(path)
        assert part in RANK, f"{part}: give the new part of the package its place in RANK"
        for name in _imports(path):
            if not name.startswith("bpm."):
                continue
            other = name.split(".")[1]
            if other != part and RANK.get(other, 99) >= RANK[part]:
                offenders.append(f"{path.relative_to(BPM)} ({part}) imports {name} ({other})")
    assert offenders == [], "an import that points up, or sideways, makes the layers a tangle"


def test_only_the_store_speaks_to_the_database():
    offenders = []
    for path in _sources():
        if _part(path) == "store":
            continue
        source = path.read_text()
        for name in _imports(path):
            if name.split(".")[0] in DATABASE_LIBRARIES:
                offenders.append(f"{path.relative_to(BPM)}: imports {name}")
        for reach in ("uow.session", "uow.execute(", ".connection.execute(", "session.exec("):
            if reach in source:
                offenders.append(f"{path.relative_to(BPM)}: {reach}")
    assert offenders == [], "ask a repository (bpm/store/repositories) by intent instead"
    assert len(_sources()) > 100, "the walk must actually see the package"

"""JSON Schema (2020-12) validation of node input and output, with every error at once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError

from bpm.engine.errors import DefinitionError, Problem


class ValidationResult(NamedTuple):
    """Outcome of one validation: ``data`` is what the next stage should use."""

    valid: bool
    data: Any = None
    errors: list[Problem] = []


class Validator(Protocol):
    """Checks data against a schema declared in a NodeDefinition's metadata."""

    def validate(self, data: Any, schema: Mapping[str, Any]) -> ValidationResult:
        """Return whether ``data`` satisfies ``schema``, with a Problem per violation."""
        ...


def json_path(parts: Any, root: str = "$") -> str:
    """Render a jsonschema error path as ``$.a[0].b``."""
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class JsonSchemaValidator:
    """Validates with the ``jsonschema`` library; compiled validators are cached per schema.

    Data already found valid is remembered by its canonical JSON: most nodes
    run with the same data every time (a start or end node, a set with
    constants), and re-validating it costs a hundred times more than the key.
    """

    VALID_CACHE_SIZE = 4096

    def __init__(self) -> None:
        self._compiled: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}
        self._known_valid: dict[tuple[int, bytes], bool] = {}
        self._lock = threading.Lock()

    def compiled(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        """Return the compiled validator for ``schema``, checking the schema itself once."""
        entry = self._compiled.get(id(schema))
        if entry is not None and entry[0] is schema:
            return entry[1]
        try:
            Draft202012Validator.check_schema(schema)
        except JsonSchemaError as exc:
            raise DefinitionError([Problem(json_path(exc.absolute_path, "$schema"), exc.message)],
                                  "invalid JSON schema") from None
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        with self._lock:
            self._compiled[id(schema)] = (schema, validator)
        return validator

    def problems(self, data: Any, schema: Mapping[str, Any], root: str = "$") -> list[Problem]:
        """Return one Problem per violation, sorted by path."""
        errors = self.compiled(schema).iter_errors(data)
        found = [Problem(json_path(e.absolute_path, root), e.message) for e in errors]
        return sorted(found, key=lambda p: p.path)

    def validate(self, data: Any, schema: Mapping[str, Any]) -> ValidationResult:
        """Validate ``data`` against ``schema``."""
        try:
            key = (id(schema), orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        except TypeError:  # not plain JSON: validate without remembering
            key = None
        if key is not None and key in self._known_valid:
            return ValidationResult(True, data, [])
        found = self.problems(data, schema)
        if not found and key is not None:
            with self._lock:
                if len(self._known_valid) >= self.VALID_CACHE_SIZE:
                    self._known_valid.clear()
                self._known_valid[key] = True
        return ValidationResult(not found, data, found)

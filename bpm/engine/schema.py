"""JSON Schema (2020-12) validation of node input and output, with every error at once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

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
    """Validates with the ``jsonschema`` library; compiled validators are cached per schema."""

    def __init__(self) -> None:
        self._compiled: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}
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
        found = self.problems(data, schema)
        return ValidationResult(not found, data, found)

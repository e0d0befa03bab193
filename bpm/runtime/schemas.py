"""Node data checked against its type's JSON schema by jsonschema-rs first, by the engine's validator when it says no.

The engine validates every node's data before the node runs (``bpm.engine.schema``,
the Python ``jsonschema`` library: the reference, with its messages). A task's
data is rendered from the request (its title names the request), so it is new
each time and validated in full: about a tenth of the runtime's CPU for an
approval (issue 25: 115 µs a start). jsonschema-rs (Rust, the same draft,
tested against the same official suite) answers "valid" in a fraction of a
microsecond. The engine stays pure Python: this is an adapter the runtime hands it.

Only "valid" is taken from it, and only for a schema on which the two cannot
disagree that way: no ``format`` (which formats each checks, and how, differ),
regular expressions of plain ASCII without escapes (Python's ``re`` and Rust's
regex agree on those, except where Python is the more lenient, e.g. ``$``
before a final newline, which only sends a value to the reference), and no
reference outside the schema. Anything else, or anything it refuses, goes to
the reference, which decides and words the errors, so an answer never changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from bpm.engine.schema import JsonSchemaValidator, ValidationResult

_PLAIN_PATTERN = re.compile(r"[A-Za-z0-9 ^$?*+.()|\[\]{},:_-]*")


def agrees_with_reference(schema: Any) -> bool:
    """True when jsonschema-rs finding data valid means the reference finds it valid too (module docstring)."""
    if isinstance(schema, list):
        return all(agrees_with_reference(item) for item in schema)
    if not isinstance(schema, Mapping):
        return True
    for keyword, value in schema.items():
        if keyword == "format":
            return False
        if keyword == "pattern" and not (isinstance(value, str) and _PLAIN_PATTERN.fullmatch(value)):
            return False
        if keyword == "patternProperties" and not all(
                isinstance(key, str) and _PLAIN_PATTERN.fullmatch(key) for key in value):
            return False
        if keyword in ("$ref", "$dynamicRef") and not (isinstance(value, str) and value.startswith("#")):
            return False
        if not agrees_with_reference(value):
            return False
    return True


class FastValidator(JsonSchemaValidator):
    """``JsonSchemaValidator`` with jsonschema-rs's "valid" taken first where it agrees (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._fast: dict[int, tuple[Mapping[str, Any], Any]] = {}

    def validate(self, data: Any, schema: Mapping[str, Any]) -> ValidationResult:
        """Validate ``data`` against ``schema``: the reference's answer, reached sooner when it is "valid"."""
        fast = self._fast_for(schema)
        if fast is not None:
            try:
                if fast.is_valid(data):
                    return ValidationResult(True, data, [])
            except ValueError:  # a value Rust cannot take (not JSON): the reference decides
                pass
        return super().validate(data, schema)

    def _fast_for(self, schema: Mapping[str, Any]) -> Any:
        entry = self._fast.get(id(schema))
        if entry is not None and entry[0] is schema:
            return entry[1]
        self.compiled(schema)  # the schema itself is checked by the reference first (DefinitionError)
        fast = None
        if agrees_with_reference(schema):
            try:
                fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
            except ValueError:  # (a schema it cannot compile, e.g. a pattern Rust reads otherwise: the reference alone)
                fast = None
        with self._lock:
            self._fast[id(schema)] = (schema, fast)
        return fast

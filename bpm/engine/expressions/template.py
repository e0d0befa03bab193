"""``{{ ... }}`` templates inside node data strings.

A string that is exactly one expression keeps the expression's type
(``"{{ amount > 1000 }}"`` is a boolean); any other string with expressions
becomes text with each one replaced. Refluxo's own regex fails on
``"{{a}} and {{b}}"``; this one does not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.compiler import CompiledExpression, compile_expression
from bpm.engine.expressions.values import MAX_STRING, to_text

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class Template:
    """A compiled string: constant parts and expressions, in order."""

    __slots__ = ("parts", "single", "source")

    def __init__(self, source: str, parts: list[str | CompiledExpression], single: bool) -> None:
        self.source = source
        self.parts = parts
        self.single = single

    def render(self, scope: Any) -> Any:
        """Evaluate against ``scope``: the value itself for a single expression, else text."""
        if self.single:
            return self.parts[0].evaluate(scope)  # type: ignore[union-attr]
        pieces = [part if type(part) is str else to_text(part.evaluate(scope)) for part in self.parts]
        text = "".join(pieces)
        if len(text) > MAX_STRING:
            raise ExpressionError("text too long", self.source[:50])
        return text


@functools.lru_cache(maxsize=8192)
def compile_template(source: str) -> Template:
    """Split ``source`` into text and compiled expressions; ExpressionError if one does not parse."""
    parts: list[str | CompiledExpression] = []
    position = 0
    for match in _EXPRESSION.finditer(source):
        if match.start() > position:
            parts.append(source[position:match.start()])
        parts.append(compile_expression(match.group(1)))
        position = match.end()
    if position < len(source):
        parts.append(source[position:])
    single = len(parts) == 1 and not isinstance(parts[0], str)
    return Template(source, parts, single)


def has_expression(value: str) -> bool:
    """True if the string holds at least one ``{{ ... }}``."""
    return "{{" in value and _EXPRESSION.search(value) is not None


def iter_expressions(data: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Yield ``(json_path, string)`` for every string in ``data`` that holds an expression."""
    if isinstance(data, str):
        if has_expression(data):
            yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from iter_expressions(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from iter_expressions(value, f"{path}[{i}]")

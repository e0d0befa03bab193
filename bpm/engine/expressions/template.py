"""``{{ ... }}`` templates inside node data strings, scanned as Refluxo scans them.

Refluxo's JexlTransformEngine treats a string that is wholly ``{{...}}`` as
one expression (its value keeps its type), otherwise splits the string at
each ``{{...}}`` and joins the parts as text (``String(value ?? "")``). Its
patterns use JavaScript's ``.``, which stops at line breaks, and ``.+?``,
which needs a character: a multi-line ``{{ }}`` and an empty ``{{}}`` stay
verbatim, and ``{{ 'a}}b' }}`` is read whole. One deliberate difference:
where the whole-string pattern does not hold one valid expression (Refluxo
fails on ``"{{a}} and {{b}}"``), the string is read as parts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.compiler import CompiledExpression, compile_expression
from bpm.engine.expressions.values import MAX_STRING, to_text

_ANY = r"[^\n\r\u2028\u2029]"  # JavaScript's "."
_WHOLE = re.compile(rf"\{{\{{({_ANY}+?)\}}\}}")
_PART = re.compile(rf"(\{{\{{{_ANY}+?\}}\}})")


class Template:
    """A compiled string: constant parts and expressions, in order."""

    __slots__ = ("parts", "single", "source")

    def __init__(self, source: str, parts: list[str | CompiledExpression], single: bool) -> None:
        self.source = source
        self.parts = parts
        self.single = single

    def render(self, scope: Any) -> Any:
        """Evaluate against ``scope``: the value itself (maybe UNDEFINED) for a single expression, else text."""
        if self.single:
            return self.parts[0].evaluate(scope)  # type: ignore[union-attr]
        pieces = [part if type(part) is str else to_text(part.evaluate(scope)) for part in self.parts]
        text = "".join(pieces)
        if len(text) > MAX_STRING:
            raise ExpressionError(f"text longer than {MAX_STRING:,} characters", self.source[:50])
        return text

    @property
    def expressions(self) -> list[CompiledExpression]:
        """The compiled expressions of this template, in order."""
        return [part for part in self.parts if type(part) is not str]  # type: ignore[misc]


@functools.lru_cache(maxsize=8192)
def compile_template(source: str) -> Template:
    """Split ``source`` into text and compiled expressions; ExpressionError if one does not parse."""
    whole = _WHOLE.fullmatch(source)
    if whole is not None:
        try:
            return Template(source, [compile_expression(whole.group(1))], True)
        except ExpressionError:
            first = _PART.match(source)
            if first is not None and first.end() == len(source):
                raise  # one {{...}} and nothing else: its error is the error
    parts: list[str | CompiledExpression] = []
    for i, piece in enumerate(_PART.split(source)):  # text, {{expression}}, text, ...
        if i % 2:
            parts.append(compile_expression(piece[2:-2]))
        elif piece:
            parts.append(piece)
    return Template(source, parts, False)


def refluxo_reads_as_one(template: Template) -> bool:
    """True if Refluxo would take this multi-part string for one expression (and fail on it)."""
    if template.single or not template.expressions or _WHOLE.fullmatch(template.source) is None:
        return False
    first = _PART.match(template.source)
    return first is None or first.end() != len(template.source)


def has_expression(value: str) -> bool:
    """True if the string holds at least one ``{{ ... }}`` that Refluxo would evaluate."""
    return "{{" in value and _PART.search(value) is not None


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

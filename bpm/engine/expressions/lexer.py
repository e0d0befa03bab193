"""Jexl 2.3.0's lexer, token for token.

Jexl splits the source with one regular expression built from its grammar and
then labels the pieces; the quirks of that approach (``-`` glued to the next
number, only the first ``\\\\`` of a string unescaped, Cyrillic identifiers)
are part of what an expression means, so they are reproduced here rather than
replaced by a tidier tokenizer. One deliberate extension: ``-`` before a name
or a parenthesis is a unary minus (Jexl rejects it as an invalid token).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.values import JS_SPACE

_SPACE = "[" + re.escape(JS_SPACE) + "]"  # JavaScript's \s
_IDENT_START = "a-zA-Z\u0430-\u044f\u0410-\u042f_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff$"
_IDENT_REST = "a-zA-Z0-9\u0430-\u044f\u0410-\u042f_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff$"
_IDENT = f"[{_IDENT_START}][{_IDENT_REST}]*"
_NUMBER = r"(?:(?:[0-9]*\.[0-9]+)|[0-9]+)"

BINARY_PRECEDENCE: dict[str, int] = {
    "+": 30, "-": 30, "*": 40, "/": 40, "//": 40, "%": 50, "^": 50,
    "==": 20, "!=": 20, ">": 20, ">=": 20, "<": 20, "<=": 20, "&&": 10, "||": 10, "in": 20,
}

_CONTROL = {
    ".": "dot", "[": "openBracket", "]": "closeBracket", "|": "pipe", "{": "openCurl", "}": "closeCurl",
    ":": "colon", ",": "comma", "(": "openParen", ")": "closeParen", "?": "question",
}
# Grammar elements in Jexl's declaration order (it sorts them by length, stably).
_ELEMENTS: dict[str, str] = {
    **_CONTROL,
    **{op: "binaryOp" for op in ("+", "-", "*", "/", "//", "%", "^", "==", "!=", ">", ">=", "<", "<=",
                                 "&&", "||", "in")},
    "!": "unaryOp",
}
_NEGATES_AFTER = frozenset(("binaryOp", "unaryOp", "openParen", "openBracket", "question", "colon"))


def _escape(element: str) -> str:
    escaped = re.sub(r"([.*+?^${}()|\[\]\\])", r"\\\1", element)
    return rf"\b{escaped}\b" if re.fullmatch(_IDENT, element) else escaped


_SPLIT = re.compile("(" + "|".join([
    r"'(?:(?:\\')|[^'])*'", r'"(?:(?:\\")|[^"])*"', f"{_SPACE}+", r"\btrue\b", r"\bfalse\b",
    *(_escape(e) for e in sorted(_ELEMENTS, key=len, reverse=True)),
    _IDENT, _NUMBER,
]) + ")", re.ASCII)
_NUMERIC = re.compile(rf"-?{_NUMBER}", re.ASCII)
_IDENTIFIER = re.compile(_IDENT, re.ASCII)
_WHITESPACE = re.compile(f"{_SPACE}*")


class Token(NamedTuple):
    """One labelled piece of the source: its type, value and raw text."""

    type: str
    value: Any
    raw: str


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens exactly as Jexl 2.3.0 does, or raise ExpressionError."""
    tokens: list[Token] = []
    negate = False
    for element in (piece for piece in _SPLIT.split(source) if piece):
        if _WHITESPACE.fullmatch(element):
            if tokens:
                last = tokens[-1]
                tokens[-1] = last._replace(raw=last.raw + element)
        elif element == "-" and (not tokens or tokens[-1].type in _NEGATES_AFTER):
            negate = True
        else:
            if negate:
                negate = False
                if element == "(" or _IDENTIFIER.fullmatch(element):
                    tokens.append(Token("unaryOp", "neg", "-"))  # our extension: -name, -(...)
                else:
                    element = "-" + element
            tokens.append(_token(element))
    if negate:
        tokens.append(_token("-"))
    return tokens


def _token(element: str) -> Token:
    first = element[0]
    if first in "'\"":
        return Token("literal", _unquote(element), element)
    if _NUMERIC.fullmatch(element):
        return Token("literal", float(element), element)
    if element in ("true", "false"):
        return Token("literal", element == "true", element)
    kind = _ELEMENTS.get(element)
    if kind is not None:
        return Token(kind, element, element)
    if _IDENTIFIER.fullmatch(element):
        return Token("identifier", element, element)
    raise ExpressionError(f"invalid token '{element[:20]}'")


def _unquote(element: str) -> str:
    """Jexl's unquoting: escaped quotes everywhere, but only the first ``\\\\`` (a Jexl quirk)."""
    quote = element[0]
    return element[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\", 1)

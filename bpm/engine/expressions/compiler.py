"""Compile Jexl source into a sandboxed Python closure.

pyjexl parses (its grammar is the well-tested part); its evaluator is not a
sandbox (it calls ``.get`` on any object, lets ``^`` build gigantic numbers and
leaks Python error text), so the parsed tree is compiled here into closures
over the safe value rules of ``values``. Compiling once and caching makes an
evaluation a few plain function calls.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from parsimonious.exceptions import ParseError as GrammarError
from pyjexl import JEXL
from pyjexl.exceptions import ParseError
from pyjexl.parser import (
    ArrayLiteral,
    BinaryExpression,
    ConditionalExpression,
    FilterExpression,
    Identifier,
    Literal,
    ObjectLiteral,
    Transform,
    UnaryExpression,
)

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions import values as v
from bpm.engine.expressions.transforms import TRANSFORMS
from bpm.engine.jsonvalue import NotJsonError, to_json_value

MAX_SOURCE = 10_000

Evaluator = Callable[[Any, Any], Any]
"""``fn(scope, relative_value) -> value``."""

# Jexl's own precedences (pyjexl gives && and || the same one).
_BINARY: dict[str, tuple[int, Callable[[Any, Any], Any]]] = {
    "||": (10, lambda a, b: None), "&&": (20, lambda a, b: None),
    "==": (30, v.equal), "!=": (30, v.not_equal), "<": (30, v.less), "<=": (30, v.less_equal),
    ">": (30, v.greater), ">=": (30, v.greater_equal), "in": (30, v.contains),
    "+": (40, v.add), "-": (40, v.subtract),
    "*": (50, v.multiply), "/": (50, v.divide), "//": (50, v.floor_divide), "%": (50, v.modulo),
    "^": (60, v.power),
}

_parser_local = threading.local()


def _parser() -> JEXL:
    """One configured pyjexl instance per thread (its grammar is built lazily)."""
    jexl = getattr(_parser_local, "jexl", None)
    if jexl is None:
        jexl = JEXL()
        for symbol in list(jexl.config.binary_operators):
            jexl.remove_binary_operator(symbol)
        for symbol, (precedence, func) in _BINARY.items():
            jexl.add_binary_operator(symbol, precedence, func)
        jexl.add_unary_operator("-", lambda x: x)
        for name in TRANSFORMS:
            jexl.add_transform(name, TRANSFORMS[name])
        _parser_local.jexl = jexl
    return jexl


class CompiledExpression:
    """A parsed, compiled expression; ``evaluate`` returns plain JSON values."""

    __slots__ = ("_fn", "source")

    def __init__(self, source: str, fn: Evaluator) -> None:
        self.source = source
        self._fn = fn

    def evaluate(self, scope: Any) -> Any:
        """Evaluate against ``scope``; any failure is an ExpressionError naming this expression."""
        try:
            result = self._fn(scope, None)
            if type(result) in (str, int, bool) or result is None:
                return result
            return to_json_value(result)
        except ExpressionError as exc:
            if exc.expression is None:
                exc.expression = self.source
                exc.locate()
            raise
        except NotJsonError:
            raise ExpressionError("the result is not a JSON value", self.source) from None
        except RecursionError:
            raise ExpressionError("nested too deeply", self.source) from None
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError):
            raise ExpressionError("could not evaluate", self.source) from None

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


@functools.lru_cache(maxsize=8192)
def compile_expression(source: str) -> CompiledExpression:
    """Parse and compile Jexl ``source``, raising ExpressionError if it is not valid."""
    text = source.strip()
    if not text:
        raise ExpressionError("empty expression", source)
    if len(text) > MAX_SOURCE:
        raise ExpressionError(f"longer than {MAX_SOURCE} characters", source[:50] + "...")
    try:
        tree = _parser().parse(text)
    except (ParseError, GrammarError):
        raise ExpressionError("syntax error", text) from None
    except RecursionError:
        raise ExpressionError("nested too deeply", text) from None
    try:
        return CompiledExpression(text, _compile(tree))
    except ExpressionError as exc:
        exc.expression = text
        raise exc.locate() from None
    except RecursionError:
        raise ExpressionError("nested too deeply", text) from None


def _compile(node: Any) -> Evaluator:
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        raise ExpressionError(f"unsupported syntax ({type(node).__name__})")
    return compiler(node)


def _literal(node: Literal) -> Evaluator:
    value = node.value
    return lambda scope, rel: value


def _identifier(node: Identifier) -> Evaluator:
    name = node.value
    if node.subject is not None:
        subject = _compile(node.subject)
        member = v.member
        return lambda scope, rel: member(subject(scope, rel), name)
    if node.relative:
        return lambda scope, rel: v.member(rel, name)
    return lambda scope, rel: scope.get(name)


def _binary(node: BinaryExpression) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    symbol = node.operator.symbol
    truthy = v.truthy
    if symbol == "&&":
        return lambda scope, rel: (lambda a: right(scope, rel) if truthy(a) else a)(left(scope, rel))
    if symbol == "||":
        return lambda scope, rel: (lambda a: a if truthy(a) else right(scope, rel))(left(scope, rel))
    func = _BINARY[symbol][1]
    return lambda scope, rel: func(left(scope, rel), right(scope, rel))


def _unary(node: UnaryExpression) -> Evaluator:
    operand = _compile(node.right)
    if node.operator.symbol == "!":
        truthy = v.truthy
        return lambda scope, rel: not truthy(operand(scope, rel))

    def negate(scope: Any, rel: Any) -> Any:
        return -v.number(operand(scope, rel), "-")

    return negate


def _conditional(node: ConditionalExpression) -> Evaluator:
    test, then, otherwise = _compile(node.test), _compile(node.consequent), _compile(node.alternate)
    truthy = v.truthy
    return lambda scope, rel: then(scope, rel) if truthy(test(scope, rel)) else otherwise(scope, rel)


def _object(node: ObjectLiteral) -> Evaluator:
    items = [(key, _compile(value)) for key, value in node.value.items()]
    return lambda scope, rel: {key: fn(scope, rel) for key, fn in items}


def _array(node: ArrayLiteral) -> Evaluator:
    items = [_compile(value) for value in node.value]
    return lambda scope, rel: [fn(scope, rel) for fn in items]


def _transform(node: Transform) -> Evaluator:
    func = TRANSFORMS.get(node.name)
    if func is None:
        raise ExpressionError(f"unknown transform '{node.name}'; known: {', '.join(sorted(TRANSFORMS))}")
    subject = _compile(node.subject)
    args = [_compile(arg) for arg in node.args]

    def apply(scope: Any, rel: Any) -> Any:
        value = subject(scope, rel)
        arguments = [arg(scope, rel) for arg in args]
        try:
            return func(value, *arguments)
        except TypeError:
            raise ExpressionError(f"wrong number of arguments for '{node.name}'") from None

    return apply


def _filter(node: FilterExpression) -> Evaluator:
    subject, expression = _compile(node.subject), _compile(node.expression)
    if not _uses_relative(node.expression):
        index = v.index
        return lambda scope, rel: index(subject(scope, rel), expression(scope, rel))
    truthy = v.truthy

    def keep(scope: Any, rel: Any) -> Any:
        items = subject(scope, rel)
        if items is None:
            return None
        if isinstance(items, str) or not isinstance(items, Sequence):
            raise ExpressionError(f"a filter needs a list, got {v.type_name(items)}")
        return [item for item in items if truthy(expression(scope, item))]

    return keep


def _uses_relative(node: Any) -> bool:
    """True if ``node`` reads the filtered item (``.field``); pyjexl misses nested cases."""
    if isinstance(node, Identifier):
        return node.relative or (node.subject is not None and _uses_relative(node.subject))
    if isinstance(node, FilterExpression):
        return _uses_relative(node.subject)  # its own expression is relative to its own items
    if isinstance(node, Transform):
        return _uses_relative(node.subject) or any(_uses_relative(a) for a in node.args)
    if isinstance(node, BinaryExpression):
        return _uses_relative(node.left) or _uses_relative(node.right)
    if isinstance(node, UnaryExpression):
        return _uses_relative(node.right)
    if isinstance(node, ConditionalExpression):
        return any(_uses_relative(n) for n in (node.test, node.consequent, node.alternate))
    if isinstance(node, ObjectLiteral):
        return any(_uses_relative(n) for n in node.value.values())
    if isinstance(node, ArrayLiteral):
        return any(_uses_relative(n) for n in node.value)
    return False


_COMPILERS: dict[type, Callable[[Any], Evaluator]] = {
    Literal: _literal, Identifier: _identifier, BinaryExpression: _binary,
    UnaryExpression: _unary, ConditionalExpression: _conditional, ObjectLiteral: _object,
    ArrayLiteral: _array, Transform: _transform, FilterExpression: _filter,
}

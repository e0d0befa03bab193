"""Compile Jexl source into a sandboxed Python closure.

The tree comes from our port of Jexl 2.3.0's parser (``parser``), so
precedence and binding are Jexl's; each node becomes a closure over the
JavaScript value rules of ``values``. Compiling once and caching makes an
evaluation a few plain function calls. Closures take ``(scope, rel)``:
``rel`` is the item a filter is looking at, None for the top-level names
(as in Jexl, a falsy item reads the top-level names too).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions import values as v
from bpm.engine.expressions.parser import Ast, parse
from bpm.engine.expressions.transforms import TRANSFORMS
from bpm.engine.jsonvalue import NotJsonError, TooManyValues
from bpm.engine.undefined import UNDEFINED

MAX_SOURCE = 10_000
MAX_VISITS = 1_000_000
"""Items one evaluation's filters may look at, all told: a filter inside a filter multiplies (a 2,000-item list
filtered by a filter of itself is four million looks), and one evaluation must not hold the request (a limit)."""
_VISITS: ContextVar[list[int]] = ContextVar("bpm_expression_visits")

Evaluator = Callable[[Any, Any], Any]
"""``fn(scope, relative_item) -> value``."""

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": v.loose_equal, "!=": v.not_equal, "<": v.less, "<=": v.less_equal, ">": v.greater,
    ">=": v.greater_equal, "in": v.contains, "+": v.add, "-": v.subtract, "*": v.multiply,
    "/": v.divide, "//": v.floor_divide, "%": v.modulo, "^": v.power,
}


class CompiledExpression:
    """A parsed, compiled expression; ``evaluate`` returns JSON values or UNDEFINED."""

    __slots__ = ("_fn", "source", "tree")

    def __init__(self, source: str, fn: Evaluator, tree: Ast) -> None:
        self.source = source
        self._fn = fn
        self.tree = tree

    def evaluate(self, scope: Any) -> Any:
        """Evaluate against ``scope``; any failure is an ExpressionError naming this expression."""
        budget = _VISITS.set([MAX_VISITS])
        try:
            result = self._fn(scope, None)
            kind = type(result)
            if kind is str or kind is int or kind is bool or result is None or result is UNDEFINED:
                return result
            return v.to_json_result(result)
        except ExpressionError as exc:
            if exc.expression is None:
                exc.expression = self.source
                exc.locate()
            raise
        except TooManyValues as exc:
            raise ExpressionError(f"the result holds {exc} (a limit)", self.source) from None
        except NotJsonError:
            raise ExpressionError("the result is not a JSON value", self.source) from None
        except RecursionError:
            raise ExpressionError("nested too deeply", self.source) from None
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError):
            raise ExpressionError("could not evaluate", self.source) from None
        finally:
            _VISITS.reset(budget)

    def raw(self, scope: Any) -> Any:
        """The value before it is made JSON (NaN, -0 and nested undefined kept): for tests against Jexl."""
        return self._fn(scope, None)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


@functools.lru_cache(maxsize=8192)
def compile_expression(source: str) -> CompiledExpression:
    """Parse and compile Jexl ``source``, raising ExpressionError if it is not valid."""
    text = source.strip(v.JS_SPACE)  # what Refluxo's expression.trim() removes
    if not text:
        raise ExpressionError("empty expression", source)
    if len(text) > MAX_SOURCE:
        raise ExpressionError(f"longer than {MAX_SOURCE} characters", source[:50] + "...")
    try:
        try:
            tree = parse(text)
        except ExpressionError as exc:
            exc.detail = f"syntax error: {exc.detail}"
            raise
        if tree is None:
            raise ExpressionError("empty expression")
        return CompiledExpression(text, _compile(tree), tree)
    except ExpressionError as exc:
        exc.expression = text
        raise exc.locate() from None
    except RecursionError:
        raise ExpressionError("nested too deeply", text) from None


def _compile(node: Ast | None) -> Evaluator:
    if node is None:
        raise ExpressionError("an operand is missing")
    return _COMPILERS[node.type](node)


def _literal(node: Ast) -> Evaluator:
    value = node.value
    if type(value) is float:
        value = v.canonical(value)
    return lambda scope, rel: value


def _identifier(node: Ast) -> Evaluator:
    name = node.value
    if node.from_ is not None:
        subject = _compile(node.from_)
        member = v.member
        return lambda scope, rel: member(subject(scope, rel), name)
    if node.relative:
        get_property = v.get_property
        return lambda scope, rel: scope.get(name) if rel is None else get_property(rel, name)
    return lambda scope, rel: scope.get(name)


def _binary(node: Ast) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    symbol = node.operator
    truthy = v.truthy
    if symbol == "&&":
        return lambda scope, rel: (lambda a: right(scope, rel) if truthy(a) else a)(left(scope, rel))
    if symbol == "||":
        return lambda scope, rel: (lambda a: a if truthy(a) else right(scope, rel))(left(scope, rel))
    func = _BINARY[symbol]
    return lambda scope, rel: func(left(scope, rel), right(scope, rel))


def _unary(node: Ast) -> Evaluator:
    operand = _compile(node.right)
    if node.operator == "!":
        truthy = v.truthy
        return lambda scope, rel: not truthy(operand(scope, rel))
    negate = v.negate
    return lambda scope, rel: negate(operand(scope, rel))


def _conditional(node: Ast) -> Evaluator:
    test, otherwise = _compile(node.test), _compile(node.alternate)
    truthy = v.truthy
    if node.consequent is None:  # Jexl's `a ?: b`
        return lambda scope, rel: (lambda t: t if truthy(t) else otherwise(scope, rel))(test(scope, rel))
    then = _compile(node.consequent)
    return lambda scope, rel: then(scope, rel) if truthy(test(scope, rel)) else otherwise(scope, rel)


def _object(node: Ast) -> Evaluator:
    items = [(key, _compile(value)) for key, value in node.value.items()]
    return lambda scope, rel: {key: fn(scope, rel) for key, fn in items}


def _array(node: Ast) -> Evaluator:
    items = [_compile(value) for value in node.value]
    return lambda scope, rel: [fn(scope, rel) for fn in items]


def _function(node: Ast) -> Evaluator:
    if node.pool == "functions":
        raise ExpressionError(f"unknown function '{node.name}'; transforms are written value|{node.name}")
    func = TRANSFORMS.get(node.name)
    if func is None:
        raise ExpressionError(f"unknown transform '{node.name}'; known: {', '.join(sorted(TRANSFORMS))}")
    args = [_compile(arg) for arg in node.args]

    def apply(scope: Any, rel: Any) -> Any:
        arguments = [arg(scope, rel) for arg in args]
        try:
            return func(*arguments)
        except TypeError:
            raise ExpressionError(f"wrong number of arguments for '{node.name}'") from None

    return apply


def _filter(node: Ast) -> Evaluator:
    subject, expression = _compile(node.subject), _compile(node.expr)
    if not node.relative:
        index = v.index
        return lambda scope, rel: index(subject(scope, rel), expression(scope, rel))
    truthy, is_list = v.truthy, v.is_list

    def keep(scope: Any, rel: Any) -> Any:
        items = subject(scope, rel)
        if not is_list(items):
            items = [] if items is UNDEFINED else [items]
        left = _VISITS.get(None)
        if left is not None:
            left[0] -= len(items)
            if left[0] < 0:
                raise ExpressionError(f"its filters look at more than {MAX_VISITS:,} items (a limit): a filter "
                                      "inside a filter multiplies; filter a smaller list")
        return [item for item in items if truthy(expression(scope, item if truthy(item) else None))]

    return keep


_COMPILERS: dict[str, Callable[[Ast], Evaluator]] = {
    "Literal": _literal, "Identifier": _identifier, "BinaryExpression": _binary,
    "UnaryExpression": _unary, "ConditionalExpression": _conditional, "ObjectLiteral": _object,
    "ArrayLiteral": _array, "FunctionCall": _function, "FilterExpression": _filter,
}

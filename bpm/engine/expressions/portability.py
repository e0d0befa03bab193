"""Which expressions may mean something else in Refluxo's TypeScript engine with jexl@2.3.0.

Our expressions give Jexl's result wherever Jexl gives one; the kept
differences (docs/engine.md) are where Jexl has no answer and we do, or where
the sandbox or JavaScript's floating point make the answers part. This module
names each use of such a construct, so ``validate_definition(portable=True)``
can warn a designer whose definition must also run in a front end, and so the
differential test against the real Jexl can tell a kept difference from a bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from bpm.engine.expressions.compiler import CompiledExpression
from bpm.engine.expressions.parser import Ast
from bpm.engine.expressions.template import Template, refluxo_reads_as_one

TOP_LEVEL_NAMES = ("nodes", "input", "globals")
"""The names Refluxo's JexlTransformEngine puts in the context."""

_BUILT_IN_WORDS = """
constructor __proto__ __defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__ hasOwnProperty
isPrototypeOf propertyIsEnumerable toString valueOf toLocaleString toFixed toExponential toPrecision
at charAt charCodeAt codePointAt concat endsWith includes indexOf lastIndexOf localeCompare match matchAll
normalize padEnd padStart repeat replace replaceAll search slice split startsWith substring substr
toLocaleLowerCase toLocaleUpperCase toLowerCase toUpperCase trim trimStart trimEnd trimLeft trimRight
copyWithin entries every fill filter find findIndex findLast findLastIndex flat flatMap forEach join keys
map pop push reduce reduceRight reverse shift sort splice toReversed toSorted toSpliced unshift values with
anchor big blink bold fixed fontcolor fontsize italics link small strike sub sup isWellFormed toWellFormed
"""
JS_BUILT_INS = frozenset(_BUILT_IN_WORDS.split())
"""Properties JavaScript finds on a string, number, list or object's prototype; here they are undefined."""

_KINDS = {
    "transform": "the transform '{name}' is ours; Jexl without it fails",
    "negate": "'-' before a name or '(' is ours; Jexl negates only number literals (write 0 - x)",
    "shorthand": "'{name}' is our shorthand for nodes.{name}; Refluxo's Jexl has only nodes.{name}",
    "data": "'data' is the request's data, which this engine keeps (the snapshot's data key over the start "
            "node's output); Refluxo's Jexl has no 'data': read nodes.<start>.last.data.<field> there",
    "globals": "'globals' is hidden from expressions here unless the engine exposes it; Refluxo's Jexl sees it",
    "built-in": "'{name}' is a JavaScript built-in that Jexl reaches and we do not (here it is undefined)",
    "power": "'^' is JavaScript's Math.pow, which ECMAScript leaves implementation-approximated: browsers "
             "differ among themselves and from us in the last digit of a result that is not exact",
    "several": "Refluxo reads a string that starts with {{{{ and ends with }}}} as one expression, so it fails "
               "on several {{{{ }}}} in one string; we read each",
    "and-or": "mixes && and || without parentheses: Jexl (and we) give them one precedence and read "
              "left to right, so a || b && c is (a || b) && c; add parentheses",
}




class Finding(NamedTuple):
    """One construct whose meaning differs between engines (``kind``), and what to tell the designer."""

    kind: str
    message: str


def expression_findings(expression: CompiledExpression) -> list[Finding]:
    """Every reason ``expression`` might differ between engines or read wrongly, in source order."""
    return list(dict.fromkeys(_findings(expression.tree, filtered=False)))


def template_findings(template: Template) -> list[Finding]:
    """Findings of a whole ``{{ }}`` string: its own scanning, then each expression's."""
    found = [_say("several")] if refluxo_reads_as_one(template) else []
    for expression in template.expressions:
        found.extend(expression_findings(expression))
    return list(dict.fromkeys(found))


def _say(kind: str, name: str = "") -> Finding:
    return Finding(kind, _KINDS[kind].format(name=name))


def _findings(node: Ast | None, filtered: bool) -> Iterator[Finding]:
    """``filtered``: inside a relative filter, where ``.name`` reads the item, not a top-level name."""
    if node is None:
        return
    yield from _own_findings(node, filtered)
    for child, child_filtered in _children(node, filtered):
        yield from _findings(child, child_filtered)


def _children(node: Ast, filtered: bool) -> Iterator[tuple[Ast | None, bool]]:
    kind = node.type
    if kind == "FunctionCall":
        yield from ((arg, filtered) for arg in node.args)
    elif kind == "UnaryExpression":
        yield node.right, filtered
    elif kind == "Identifier":
        yield node.from_, filtered
    elif kind == "BinaryExpression":
        yield from ((node.left, filtered), (node.right, filtered))
    elif kind == "FilterExpression":
        yield from ((node.subject, filtered), (node.expr, filtered or bool(node.relative)))
    elif kind == "ConditionalExpression":
        yield from ((part, filtered) for part in (node.test, node.consequent, node.alternate))
    elif kind in ("ObjectLiteral", "ArrayLiteral"):
        values = node.value.values() if kind == "ObjectLiteral" else node.value
        yield from ((value, filtered) for value in values)


def _own_findings(node: Ast, filtered: bool) -> Iterator[Finding]:
    kind = node.type
    if kind == "FunctionCall" and node.pool == "transforms":
        yield _say("transform", node.name)
    elif kind == "UnaryExpression" and node.operator != "!":
        yield _say("negate")
    elif kind == "Identifier":
        yield from _identifier_findings(node, filtered)
    elif kind == "BinaryExpression":
        yield from _binary_findings(node)
    elif kind == "FilterExpression" and not node.relative and node.expr is not None \
            and node.expr.type == "Literal" and node.expr.value in JS_BUILT_INS:
        yield _say("built-in", node.expr.value)


def _identifier_findings(node: Ast, filtered: bool) -> Iterator[Finding]:
    if node.from_ is None and (not node.relative or not filtered):  # a top-level name (.x outside a filter too)
        if node.value == "globals":
            yield _say("globals")
        elif node.value == "data":
            yield _say("data")
        elif node.value not in TOP_LEVEL_NAMES:
            yield _say("shorthand", node.value)
    elif node.value in JS_BUILT_INS:
        yield _say("built-in", node.value)


def _binary_findings(node: Ast) -> Iterator[Finding]:
    if node.operator == "^":
        yield _say("power")
    if node.operator in ("&&", "||"):
        other = "||" if node.operator == "&&" else "&&"
        if any(side is not None and side.type == "BinaryExpression" and side.operator == other
               and not side.grouped for side in (node.left, node.right)):
            yield _say("and-or")

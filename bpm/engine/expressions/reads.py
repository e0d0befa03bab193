"""Which field of a node's result a template reads, when it is nothing but that field.

``"{{ submit.last.data.manager }}"`` puts the start form's ``manager`` into
a task's assignee. Knowing that lets the service blame the form field when
the value is wrong (an assignee who does not exist is a field error on
``manager``) and compare the form's limits with the node's at publish.
"""

from __future__ import annotations

from collections.abc import Iterator

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.parser import Ast
from bpm.engine.expressions.template import compile_template


def field_read(template: str, node_id: str, start: bool = False) -> str | None:
    """The field of ``node_id``'s output that ``template`` is exactly, or None.

    Recognised: ``<id>.output.F``, ``<id>.last.data.F`` and the same under
    ``nodes.``; for the ``start`` node also ``data.F`` (the request's data
    begins as the start form's values).
    """
    if "{{" not in template:
        return None
    try:
        compiled = compile_template(template)
    except ExpressionError:
        return None
    if not compiled.single:
        return None
    names = _member_chain(compiled.expressions[0].tree)
    if names is None:
        return None
    if start and len(names) == 2 and names[0] == "data":
        return names[1]
    if names[:1] == ["nodes"]:
        names = names[1:]
    if len(names) == 3 and names[0] == node_id and names[1] == "output":
        return names[2]
    if len(names) == 4 and names[0] == node_id and names[1:3] == ["last", "data"]:
        return names[3]
    return None


def _member_chain(node: Ast | None) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None for anything else."""
    names: list[str] = []
    while node is not None and node.type == "Identifier" and not node.relative:
        names.append(node.value)
        node = node.from_
        if node is None:
            return names[::-1]
    return None


RELATIONAL = frozenset({"<", "<=", ">", ">="})


def member_chains(tree: Ast | None) -> Iterator[list[str]]:
    """Every dotted name an expression reads (``nodes.submit.last.data.price`` as its names), longest first.

    ``items[0].price`` yields ``items`` (the part before an index); relative
    names inside a filter (``items[.price > 5]``) belong to the filtered list
    and are not yielded.
    """
    if tree is None:
        return
    if tree.type == "Identifier":
        chain = None if tree.relative else _member_chain(tree)
        if chain is not None:
            yield chain
            return
        yield from member_chains(tree.from_)
        return
    if tree.type == "FilterExpression":
        yield from member_chains(tree.subject)
        if not tree.relative:
            yield from member_chains(tree.expr)
        return
    for child in _children(tree):
        yield from member_chains(child)


def numeric_comparisons(tree: Ast | None) -> Iterator[list[str]]:
    """The dotted names an expression compares with a number by ``<``, ``<=``, ``>`` or ``>=``."""
    if tree is None:
        return
    if tree.type == "BinaryExpression" and tree.operator in RELATIONAL:
        for one, other in ((tree.left, tree.right), (tree.right, tree.left)):
            if other is not None and other.type == "Literal" and isinstance(other.value, (int, float)) \
                    and not isinstance(other.value, bool) and one is not None and one.type == "Identifier":
                chain = None if one.relative else _member_chain(one)
                if chain is not None:
                    yield chain
    for child in _children(tree):
        yield from numeric_comparisons(child)


def string_literals(tree: Ast | None) -> Iterator[str]:
    """Every string literal in an expression (``x ? 'bob' : 'ann'``: the names it may give)."""
    if tree is None:
        return
    if tree.type == "Literal" and isinstance(tree.value, str):
        yield tree.value
    for child in _children(tree):
        yield from string_literals(child)


def _children(tree: Ast) -> Iterator[Ast]:
    for name in ("left", "right", "test", "consequent", "alternate", "subject", "expr", "from_"):
        child = getattr(tree, name)
        if isinstance(child, Ast):
            yield child
    for arg in tree.args or ():
        if isinstance(arg, Ast):
            yield arg
    value = tree.value
    if isinstance(value, dict):
        yield from (v for v in value.values() if isinstance(v, Ast))
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, Ast))

"""Which field of a node's result a template reads, when it is nothing but that field.

``"{{ submit.last.data.manager }}"`` puts the start form's ``manager`` into
a task's assignee. Knowing that lets the service blame the form field when
the value is wrong (an assignee who does not exist is a field error on
``manager``) and compare the form's limits with the node's at publish.
"""

from __future__ import annotations

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

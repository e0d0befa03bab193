"""Transform engines rewrite a node's data before its executor sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bpm.engine.context import Context
from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.scope import Scope
from bpm.engine.expressions.template import compile_template
from bpm.engine.undefined import UNDEFINED


class TransformEngine(Protocol):
    """One stage of the data pipeline run before every executor."""

    def transform(self, input: Any, context: Context, globals: Any = None) -> Any:
        """Return the node data to hand to the next stage; never mutate ``input``."""
        ...


class JexlTransformEngine:
    """Resolves ``{{ jexl }}`` strings anywhere in node data, returning fresh containers.

    ``globals`` stay invisible to expressions unless ``expose_globals=True``,
    so a definition cannot copy a secret into a snapshot.
    """

    def __init__(self, expose_globals: bool = False) -> None:
        self.expose_globals = expose_globals

    def transform(self, input: Any, context: Context, globals: Any = None,
                  names: Mapping[str, Any] | None = None) -> Any:
        """Resolve every expression in ``input`` against ``context`` (and ``names``: a forEach item's)."""
        scope = Scope(context, input, globals, self.expose_globals, names)  # cheap: views are built on demand
        try:
            resolved = _resolve(input, scope)
            return None if resolved is UNDEFINED else resolved
        except ExpressionError as exc:
            raise exc.nest("data") from None


def _resolve(value: Any, scope: Scope) -> Any:
    """Walk the data, as JSON.stringify would keep it: a key whose value is undefined goes, in a list it is null.

    The error path is assembled only when something fails.
    """
    kind = type(value)
    if kind is str:
        return compile_template(value).render(scope) if "{{" in value else value
    if kind is dict:
        resolved = {}
        for key, item in value.items():
            try:
                item = _resolve(item, scope)
            except ExpressionError as exc:
                raise exc.nest(f".{key}") from None
            if item is not UNDEFINED:
                resolved[key] = item
        return resolved
    if kind is list:
        items = []
        for i, item in enumerate(value):
            try:
                item = _resolve(item, scope)
                items.append(None if item is UNDEFINED else item)
            except ExpressionError as exc:
                raise exc.nest(f"[{i}]") from None
        return items
    return value

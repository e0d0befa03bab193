"""Jexl 2.3.0's parser: the same state machine, handlers and tree.

Jexl parses with a table of states and a cursor into the tree it is
building; precedence, what a ``.`` binds to, when a filter is relative and
where a sub-expression ends all fall out of that table. Porting it state for
state is what makes ``true || false && false`` and ``a[(.x)]`` mean here what
they mean in a TypeScript front end.
"""

from __future__ import annotations

import math
from typing import Any

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.lexer import BINARY_PRECEDENCE, Token, tokenize

MAX_NESTING = 64
"""Brackets, braces and parentheses inside one another; Jexl has no limit, a sandbox needs one."""


class Ast:
    """A node of Jexl's tree; the fields used depend on ``type``, as in Jexl."""

    __slots__ = ("alternate", "args", "consequent", "expr", "from_", "grouped", "left", "name", "operator",
                 "parent", "pool", "relative", "right", "subject", "test", "type", "value")

    def __init__(self, type: str, **fields: Any) -> None:
        self.type = type
        for slot in Ast.__slots__:
            if slot != "type":
                setattr(self, slot, fields.get(slot))

    def __repr__(self) -> str:
        shown = {s: getattr(self, s) for s in Ast.__slots__ if s not in ("parent", "type")
                 and getattr(self, s) is not None}
        return f"{self.type}({shown})"


def _precedence(node: Ast) -> float:
    return math.inf if node.type == "UnaryExpression" else BINARY_PRECEDENCE[node.operator]


# Jexl's parser/states.js: per state, the token types it accepts -> (handler, next state);
# "completable" states may end the expression; "sub" states hand tokens to a sub-parser until
# one of its "ends" tokens (or, without "ends", the parent's) closes it.
_STATES: dict[str, dict[str, Any]] = {
    "expectOperand": {"tokens": {
        "literal": ("literal", "expectBinOp"), "identifier": ("identifier", "identifier"),
        "unaryOp": ("unary_op", None), "openParen": (None, "subExpression"),
        "openCurl": ("obj_start", "expectObjKey"), "dot": ("dot", "traverse"),
        "openBracket": ("array_start", "arrayVal")}},
    "expectBinOp": {"completable": True, "tokens": {
        "binaryOp": ("binary_op", "expectOperand"), "pipe": (None, "expectTransform"),
        "dot": ("dot", "traverse"), "question": ("ternary_start", "ternaryMid")}},
    "expectTransform": {"tokens": {"identifier": ("transform", "postTransform")}},
    "expectObjKey": {"tokens": {"identifier": ("obj_key", "expectKeyValSep"), "closeCurl": (None, "expectBinOp")}},
    "expectKeyValSep": {"tokens": {"colon": (None, "objVal")}},
    "postTransform": {"completable": True, "tokens": {
        "openParen": (None, "argVal"), "binaryOp": ("binary_op", "expectOperand"), "dot": ("dot", "traverse"),
        "openBracket": (None, "filter"), "pipe": (None, "expectTransform")}},
    "postArgs": {"completable": True, "tokens": {
        "binaryOp": ("binary_op", "expectOperand"), "dot": ("dot", "traverse"),
        "openBracket": (None, "filter"), "pipe": (None, "expectTransform")}},
    "identifier": {"completable": True, "tokens": {
        "binaryOp": ("binary_op", "expectOperand"), "dot": ("dot", "traverse"),
        "openBracket": (None, "filter"), "openParen": ("function_call", "argVal"),
        "pipe": (None, "expectTransform"), "question": ("ternary_start", "ternaryMid")}},
    "traverse": {"tokens": {"identifier": ("identifier", "identifier")}},
    "filter": {"sub": "filter", "ends": {"closeBracket": "identifier"}},
    "subExpression": {"sub": "sub_expression", "ends": {"closeParen": "expectBinOp"}},
    "argVal": {"sub": "arg_val", "ends": {"comma": "argVal", "closeParen": "postArgs"}},
    "objVal": {"sub": "obj_val", "ends": {"comma": "expectObjKey", "closeCurl": "expectBinOp"}},
    "arrayVal": {"sub": "array_val", "ends": {"comma": "arrayVal", "closeBracket": "expectBinOp"}},
    "ternaryMid": {"sub": "ternary_mid", "ends": {"colon": "ternaryEnd"}},
    "ternaryEnd": {"sub": "ternary_end", "completable": True},
}


class Parser:
    """Builds a tree token by token; a sub-parser handles each bracketed part."""

    def __init__(self, stop_map: dict[str, str] | None = None, depth: int = 0) -> None:
        self._state = "expectOperand"
        self._tree: Ast | None = None
        self._cursor: Ast | None = None
        self._relative = False
        self._stop_map = stop_map or {}
        self._sub: Parser | None = None
        self._parent_stop = False
        self._depth = depth
        self._next_ident_encapsulate = False
        self._next_ident_relative = False
        self._current_key: str | None = None

    def add_token(self, token: Token) -> str | None:
        """Feed one token; returns the parent's next state when this sub-expression ends."""
        state = _STATES[self._state]
        sub = state.get("sub")
        if sub is not None:
            if self._sub is None:
                self._start_sub(state)
            stop = self._sub.add_token(token)  # type: ignore[union-attr]
            if stop is not None:
                self._end_sub()
                if self._parent_stop:
                    return stop
                self._state = stop
            return None
        accepted = state["tokens"].get(token.type)
        if accepted is not None:
            handler, next_state = accepted
            if handler is not None:
                getattr(self, "_" + handler)(token)
            if next_state is not None:
                self._state = next_state
            return None
        stop = self._stop_map.get(token.type)
        if stop is not None:
            return stop
        raise ExpressionError(f"unexpected '{token.raw.strip()}'")

    def complete(self) -> Ast | None:
        """Finish the expression; None if it had no tokens."""
        if self._cursor is not None and not _STATES[self._state].get("completable"):
            raise ExpressionError("unexpected end of expression")
        if self._sub is not None:
            self._end_sub()
        self._state = "complete"
        return self._tree if self._cursor is not None else None

    def is_relative(self) -> bool:
        """True if this (sub-)expression reads the item being filtered (``.name``)."""
        return self._relative

    def _start_sub(self, state: dict[str, Any]) -> None:
        if self._depth >= MAX_NESTING:
            raise ExpressionError(f"nested more than {MAX_NESTING} levels deep")
        ends = state.get("ends")
        if ends is None:
            self._parent_stop = True
            ends = self._stop_map
        self._sub = Parser(ends, self._depth + 1)

    def _end_sub(self) -> None:
        ast = self._sub.complete()  # type: ignore[union-attr]
        getattr(self, "_sub_" + _STATES[self._state]["sub"])(ast)
        self._sub = None

    def _place_at_cursor(self, node: Ast) -> None:
        if self._cursor is None:
            self._tree = node
        else:
            self._cursor.right = node
            node.parent = self._cursor
        self._cursor = node

    def _place_before_cursor(self, node: Ast) -> None:
        self._cursor = self._cursor.parent  # type: ignore[union-attr]
        self._place_at_cursor(node)

    # token handlers (Jexl's parser/handlers.js)
    def _binary_op(self, token: Token) -> None:
        precedence = BINARY_PRECEDENCE[token.value]
        parent = self._cursor.parent  # type: ignore[union-attr]
        while parent is not None and parent.operator is not None and _precedence(parent) >= precedence:
            self._cursor = parent
            parent = parent.parent
        node = Ast("BinaryExpression", operator=token.value, left=self._cursor)
        self._cursor.parent = node  # type: ignore[union-attr]
        self._cursor = parent
        self._place_at_cursor(node)

    def _dot(self, token: Token) -> None:
        cursor = self._cursor
        self._next_ident_encapsulate = bool(
            cursor is not None and cursor.type != "UnaryExpression"
            and (cursor.type != "BinaryExpression" or cursor.right is not None))
        self._next_ident_relative = cursor is None or not self._next_ident_encapsulate
        if self._next_ident_relative:
            self._relative = True

    def _identifier(self, token: Token) -> None:
        node = Ast("Identifier", value=token.value)
        if self._next_ident_encapsulate:
            node.from_ = self._cursor
            self._place_before_cursor(node)
            self._next_ident_encapsulate = False
        else:
            if self._next_ident_relative:
                node.relative = True
                self._next_ident_relative = False
            self._place_at_cursor(node)

    def _literal(self, token: Token) -> None:
        self._place_at_cursor(Ast("Literal", value=token.value))

    def _unary_op(self, token: Token) -> None:
        self._place_at_cursor(Ast("UnaryExpression", operator=token.value))

    def _obj_start(self, token: Token) -> None:
        self._place_at_cursor(Ast("ObjectLiteral", value={}))

    def _obj_key(self, token: Token) -> None:
        self._current_key = token.value

    def _array_start(self, token: Token) -> None:
        self._place_at_cursor(Ast("ArrayLiteral", value=[]))

    def _function_call(self, token: Token) -> None:
        self._place_before_cursor(Ast("FunctionCall", name=self._cursor.value, args=[], pool="functions"))  # type: ignore[union-attr]

    def _transform(self, token: Token) -> None:
        self._place_before_cursor(Ast("FunctionCall", name=token.value, args=[self._cursor], pool="transforms"))

    def _ternary_start(self, token: Token) -> None:
        self._tree = Ast("ConditionalExpression", test=self._tree)
        self._cursor = self._tree

    # sub-expression handlers
    def _sub_filter(self, ast: Ast | None) -> None:
        subject = self._cursor
        self._place_before_cursor(Ast("FilterExpression", expr=ast, relative=self._sub.is_relative(),  # type: ignore[union-attr]
                                      subject=subject))

    def _sub_sub_expression(self, ast: Ast | None) -> None:
        if ast is None:
            raise ExpressionError("empty parentheses")
        ast.grouped = True  # not Jexl's: lets the portability check see written parentheses
        self._place_at_cursor(ast)

    def _sub_arg_val(self, ast: Ast | None) -> None:
        if ast is not None:
            self._cursor.args.append(ast)  # type: ignore[union-attr]

    def _sub_obj_val(self, ast: Ast | None) -> None:
        self._cursor.value[self._current_key] = ast  # type: ignore[union-attr]

    def _sub_array_val(self, ast: Ast | None) -> None:
        if ast is not None:
            self._cursor.value.append(ast)  # type: ignore[union-attr]

    def _sub_ternary_mid(self, ast: Ast | None) -> None:
        self._cursor.consequent = ast  # type: ignore[union-attr]

    def _sub_ternary_end(self, ast: Ast | None) -> None:
        self._cursor.alternate = ast  # type: ignore[union-attr]


def parse(source: str) -> Ast | None:
    """Parse Jexl source into its tree (None for no tokens), or raise ExpressionError."""
    parser = Parser()
    for token in tokenize(source):
        parser.add_token(token)
    return parser.complete()

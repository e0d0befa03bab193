"""A hostile definition cannot reach Python objects, leak reprs, or exhaust the host."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpm.engine import Context, ExpressionError, JexlTransformEngine, NodeRun
from bpm.engine.jsonvalue import to_json_value

CONTEXT = Context.from_runs({
    "submit": [NodeRun({"amount": 5, "tags": ["a"], "__class__": "just a key"}, 1)],
    "review": [NodeRun({"ok": True}, 2)],
})
ENGINE = JexlTransformEngine()
LEAKS = re.compile(r"<|0x[0-9a-f]+|object at|class '|function|method|module|builtins|Traceback|__")

HOSTILE = [
    "''.__class__", "'abc'.__class__.__mro__", "submit.__dict__", "submit.__class__.__init__.__globals__",
    "submit.last.data.__class__", "input.__init__", "nodes.__class__", "nodes._scope", "nodes._scope._context",
    "submit.all._log", "submit.all._log._items", "submit.all.__len__", "review.all.count", "'abc'.upper",
    "submit.last.data.keys", "[].append", "{}.get", "'x'.format", "input.__globals__", "upper", "length",
    "submit.all.index", "submit.last.data.tags.pop", "submit.all[0].__class__", "nodes.submit.__class__",
    "globals", "globals.token", "__import__", "submit['__class__']", "submit.last.data['__class__']",
    "nodes|keys", "submit.all", "submit", "nodes", "input",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expressions_yield_only_plain_json(expression):
    for template in (f"{{{{ {expression} }}}}", f"text {{{{ {expression} }}}}"):
        try:
            value = ENGINE.transform({"v": template}, CONTEXT, {"token": "s3cret"}).get("v")
        except ExpressionError as error:
            assert not LEAKS.search(error.detail), error.detail
            continue
        assert to_json_value(value) == value
        rendered = str(value)
        assert "s3cret" not in rendered
        assert not re.search(r"object at|0x[0-9a-f]{6,}|<(function|class|bound|built-in)", rendered), rendered


@pytest.mark.parametrize("expression", [
    "__import__('os')", "submit.constructor('return this')()", "open('/etc/passwd')", "lambda: 1",
    "[x for x in submit]", "submit; 1", "`id`", "input = 1",
])
def test_code_execution_syntax_does_not_parse(expression):
    with pytest.raises(ExpressionError, match=r"syntax error|unknown function"):
        ENGINE.transform({"v": f"{{{{ {expression} }}}}"}, CONTEXT)


@pytest.mark.parametrize("expression", ["'a' * 1000000000", "(2 ^ 64) ^ 64", "2 ^ 100000", "2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2"])
def test_numbers_are_doubles_so_no_expression_can_build_a_huge_one(expression):
    value = ENGINE.transform({"v": f"{{{{ {expression} }}}}"}, CONTEXT)["v"]
    assert value is None or type(value) in (int, float)  # NaN and Infinity are stored as null, as JSON.stringify does


@pytest.mark.parametrize("expression, message", [
    ("(" * 3000 + "1" + ")" * 3000, "nested more than 64"),
    ("[" * 100 + "]" * 100, "nested more than 64"),
    ("1" + " + 1" * 20000, "longer than"),
])
def test_resource_exhaustion_is_refused(expression, message):
    with pytest.raises(ExpressionError, match=message):
        ENGINE.transform({"v": f"{{{{ {expression} }}}}"}, CONTEXT)


def test_text_cannot_grow_without_bound():
    big = "x" * 600_000
    context = Context.from_runs({"s": [NodeRun({"big": big}, 1)]})
    with pytest.raises(ExpressionError, match="text longer than"):
        ENGINE.transform({"v": "{{ s.last.data.big + s.last.data.big }}"}, context)


TOKENS = st.sampled_from([
    "submit", "review", "nodes", "input", "globals", ".", "last", "data", "all", "amount", "tags", "[", "]",
    "(", ")", "{", "}", ":", ",", "|", "length", "upper", "join", "default", "+", "-", "*", "/", "^", "%",
    "==", "!=", "<", ">=", "&&", "||", "!", "?", "in", "'s'", "1", "0", "2.5", "true", "null", " ", "__class__",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=12))
def test_random_token_soup_only_ever_raises_expression_errors(tokens):
    template = "{{ " + "".join(tokens) + " }}"
    try:
        value = ENGINE.transform({"v": template}, CONTEXT).get("v")
    except ExpressionError:
        return
    assert to_json_value(value) == value

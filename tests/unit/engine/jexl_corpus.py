"""The expressions we evaluate with our engine and with jexl@2.3.0 side by side.

Built systematically (every operator on every pair of value kinds, every
pair of operators for precedence, member and filter access on every JSON
type, numbers at the edges) plus a grammar that hypothesis draws from in
``test_jexl_differential``. Everything reads one context, ``CONTEXT``.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from hypothesis import strategies as st

from bpm.engine.expressions import values as v
from bpm.engine.undefined import UNDEFINED

CONTEXT: dict[str, Any] = {
    "n": 7, "f": 2.5, "z": 0, "neg": -3, "big": 9007199254740993, "huge": 1e300, "tiny": 5e-324,
    "s": "abc", "e": "", "num": "42", "sp": " 12 ", "hex": "0x1F", "uni": "é😀z",
    "t": True, "no": False, "nil": None,
    "list": [1, 2, 3], "empty": [], "one": [5], "nested": [[1, 2], [3]], "strs": ["b", "a"],
    "rows": [{"v": 1, "k": "a"}, {"v": 2, "k": "b"}, {"v": 3, "k": "a"}],
    "users": [{"id": 1, "name": "ann"}, {"id": 3, "name": "bob"}],
    "mixed": [0, "", None, 1, "x", False, [], {}],
    "obj": {"k": 1, "length": 9, "inner": {"deep": "yes"}, "list": [4, 5]},
    "o": {}, "nodes": {"review": {"output": {"outcome": "approve", "comment": None},
                                 "last": {"data": {"outcome": "approve"}, "timestamp": 1}}},
}

# One operand of each kind, written as Jexl source.
OPERANDS = [
    "0", "1", "-1", "2.5", "-0", "0.1", "1000000000000000000000", "n", "f", "z", "big", "huge",
    "'7'", "''", "'abc'", "' 12 '", "'0x1F'", "'1e3'", "'Infinity'", "true", "false", "nil", "missing",
    "[]", "[1]", "[1,2]", "['a']", "{}", "{a:1}", "list", "obj", "s", "num", "t",
]
BINARY = ["+", "-", "*", "/", "//", "%", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]


def _operator_pairs() -> list[str]:
    return [f"{a} {op} {b}" for op in BINARY for a, b in itertools.product(OPERANDS, OPERANDS)]


def _precedence() -> list[str]:
    out = []
    for op1, op2 in itertools.product(BINARY, BINARY):
        for a, b, c in (("2", "3", "4"), ("true", "false", "false"), ("10", "'2'", "3"), ("0", "1", "7")):
            out.append(f"{a} {op1} {b} {op2} {c}")
    out += ["!true == false", "!0 + 1", "!'' && 1", "-2 ^ 2", "2 ^ -1", "1 - -1", "-n", "3 - 1 - 1",
            "2 ^ 3 ^ 2", "16 / 4 / 2", "8 // 3 // 2", "1 ? 2 : 3 ? 4 : 5", "0 ? 2 : 0 ? 4 : 5",
            "n > 5 ? 'big' : 'small'", "nil ?: 'fallback'", "(1 + 2) * 3", "1 + (2 * 3)", "!(1 == 1)"]
    return out


def _members() -> list[str]:
    names = ["v", "k", "length", "id", "name", "deep", "inner", "missing", "0"]
    subjects = ["rows", "users", "list", "empty", "one", "nested", "mixed", "obj", "o", "s", "e", "uni",
                "n", "z", "t", "no", "nil", "missing", "obj.inner", "obj.list", "nodes.review",
                "nodes.review.output", "nodes.absent", "{a:1}", "'text'"]
    out = [f"{s}.{name}" for s in subjects for name in names if name != "0"]
    keys = ["0", "1", "-1", "1.5", "'0'", "'01'", "'length'", "'k'", "'v'", "true", "false", "nil",
            "missing", "'missing'", "[0]", "2 - 1", "'1,2'"]
    out += [f"{s}[{key}]" for s in subjects for key in keys]
    filters = [".v > 1", ".k == 'a'", ".id == 3", ".length", ".missing", "!.v", ".v", "1", "0", "n",
               ".v > 1 && .k == 'a'", ".inner.deep == 'yes'", "(.v) > 1", ".0"]
    out += [f"{s}[{f}]" for s in subjects for f in filters]
    out += ["users[.id == 3].name", "rows[.k == 'a'].v", "rows[.k == 'a'][1].v", "rows[.v > 5].v",
            "nested[.length > 1]", "mixed[.]", "mixed[true]", "obj[.k == 1]", "obj[.k == 2]",
            "missing[.x]", "nil[.x]", "s[.length]", "list[. > 1]", "rows[.v > 1].length",
            "nodes.review.output.outcome == 'approve'", "nodes.review.last.data.outcome",
            "'k' in obj", "'a' in strs", "1 in list", "'1' in list", "1 in 'a1'", "nil in 'anull'",
            "missing in 'undefined'", "[1] in nested", "obj in [obj]", "{} in [{}]", "'b' in 'abc'",
            "list == list", "obj == obj", "[1] == [1]", "obj != obj", "{a: n, b: [s, t]}", "[n, [s], {}]"]
    return out


def _numbers() -> list[str]:
    literals = ["0", "-0", "9007199254740991", "9007199254740992", "9007199254740993", "1000000000000000000000",
                "100000000000000000000", "0.0000001", "0.000001", "123456789012345680000", "1.5", "0.1 + 0.2",
                "1 / 3", "2 ^ 53 + 1", "2 ^ 70", "2 ^ 1024", "-(2 ^ 1024)", "0 / 0", "1 / 0", "-1 / 0",
                "1 / -0", "0 * -1", "-0 + 0", "-0 - 0", "5 % 0", "-5 % 3", "5.5 % 2", "5 // 0", "-7 // 2",
                "7 // -2", "0 ^ -1", "-0 ^ -1", "-8 ^ (1/3)", "1 ^ (1/0)", "(0/0) ^ 0", "huge * huge",
                "tiny / 2", "tiny * 1", "big", "big + 1", "big == 9007199254740992", "1000",
                ".5", "007", "2 ^ 0.5", "10 / 4", "3 * 1.1", "1.0", "5 / 5", "0.1 * 3", "100 / 3"]
    out = list(literals)
    out += [f"{x} + ''" for x in literals]
    out += [f"{x} == {x}" for x in literals]
    out += [f"'{x}' * 1" for x in ("1e3", " 12 ", "0x1F", "0b11", "0o7", "-0x1", "1_000", "Infinity", "-Infinity",
                                   "infinity", "1e", ".5", "5.", "+5", "", " ", "\\t7", "1,5", "nan", "12px")]
    return out


def _interpolation() -> list[str]:
    return [f"{x} + ''" for x in OPERANDS] + [f"'<' + {x} + '>'" for x in OPERANDS] + [
        "[1, [2, 3], nil, missing, 'a'] + ''", "[{}] + ''", "[[]] + ''", "rows + ''", "obj + 1", "[] + []",
        "{} + {}", "[] + {}", "t + 1", "t + t", "nil + 1", "missing + 1", "nil + nil", "'a' + nil",
        "'a' + missing", "[1] * 2", "[1, 2] * 2", "[] * 2", "'3' - 1", "'3' + 1", "true - '1'",
    ]


def _syntax() -> list[str]:
    return ["", " ", "()", "1 +", "+ 1", "a b", "[1,]", "[,1]", "[,]", "{a:1,}", "{'a': 1}", "{a}", "a.",
            ".a", "a..b", "a[", "a]", "1 ? 2", "1 ? : 3", "f(1)", "a.b(1)", "a|", "'unterminated",
            "\"dq\" + 'sq'", "'it\\'s'", "'a\\\\b\\\\c'", "'a\\\\'", "$x", "_y", "привет", "émile",
            "true_x", "truex", "intent", "in", "a in", "!", "!!1", "1 2", "-", "1 -", "- 1", "--1",
            "-'a'", "- n", "n-1", "n -1", "n - -1", "1..2", "1.2.3", "a#b", "a ?? b", "a === b", "a = 1",
            "[1,2][0]", "(list)[0]", "{a:1}.a", "{a:1}['a']", "'abc'.length", "'abc'[1]", "list.0"]


def systematic_corpus() -> list[str]:
    """Every systematic expression, duplicates removed, in a stable order."""
    seen: dict[str, None] = {}
    for expression in (*_operator_pairs(), *_precedence(), *_members(), *_numbers(), *_interpolation(),
                       *_syntax()):
        seen.setdefault(expression, None)
    return list(seen)


# The grammar hypothesis draws from: Jexl's constructs over CONTEXT's names.
_NAMES = ["n", "f", "z", "s", "e", "num", "t", "no", "nil", "list", "empty", "rows", "obj", "mixed", "missing",
          "users", "nested", "uni", "big"]
_LEAVES = st.one_of(
    st.sampled_from(_NAMES),
    st.sampled_from(["0", "1", "2", "-1", "0.5", "-0", "3.75", "10", "1000000000000000000000", "'a'", "''",
                     "'7'", "' 1 '", "'abc'", "true", "false", "[]", "{}"]),
)


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", children, st.sampled_from(BINARY), children),
        st.builds(lambda a: f"({a})", children),
        st.builds(lambda a: f"!{a}", children),
        st.builds(lambda a, b, c: f"{a} ? {b} : {c}", children, children, children),
        st.builds(lambda a, name: f"{a}.{name}", st.sampled_from([*_NAMES, "obj.inner"]),
                  st.sampled_from(["v", "k", "length", "id", "name", "inner", "deep", "list"])),
        st.builds(lambda a, b: f"{a}[{b}]", st.sampled_from(_NAMES), children),
        st.builds(lambda a, b: f"{a}[.{b}]", st.sampled_from(_NAMES),
                  st.sampled_from(["v > 1", "k == 'a'", "id", "length", "v", "name == 'bob'"])),
        st.builds(lambda items: "[" + ", ".join(items) + "]", st.lists(children, max_size=3)),
        st.builds(lambda a, b: f"{{x: {a}, y: {b}}}", children, children),
    )


EXPRESSIONS = st.recursive(_LEAVES, _grow, max_leaves=8)


def encode(value: Any) -> Any:
    """Our value in the oracle's tagged form (see tests/jexl_oracle/oracle.js)."""
    if value is UNDEFINED:
        return {"$": "undefined"}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) in (int, float):
        if value == 0 and math.copysign(1, value) < 0:
            return {"n": "-0"}
        return {"n": v.to_string(value)}
    if isinstance(value, dict):
        return {"o": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return {"$": type(value).__name__}


def request_line(expression: str) -> str:
    """One request for the oracle."""
    return json.dumps({"expr": expression, "context": CONTEXT}, ensure_ascii=True)

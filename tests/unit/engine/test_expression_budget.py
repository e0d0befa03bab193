"""One expression evaluation has a budget of items its filters look at (issue 23): a filter inside a filter
multiplies, and one evaluation must not hold the request that runs it."""

from __future__ import annotations

import pytest

from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.compiler import MAX_VISITS, compile_expression


def test_a_filter_inside_a_filter_over_a_big_list_stops_at_the_budget_with_a_plain_reason():
    big = [{"a": i % 7} for i in range(2_000)]  # 2,000 x 2,000 looks: four million
    nested = compile_expression("big[.a == big[.a == 1][0].a]")
    with pytest.raises(ExpressionError, match=f"more than {MAX_VISITS:,} items"):
        nested.evaluate({"big": big})


def test_the_same_filter_once_is_fine_and_the_budget_is_per_evaluation():
    big = [{"a": i % 7} for i in range(2_000)]
    once = compile_expression("big[.a == 1]")
    for _ in range(600):  # 1.2 million looks over many evaluations: each has its own budget
        assert len(once.evaluate({"big": big})) == 286

"""When a vote with several voters is decided, as a table."""

from __future__ import annotations

import pytest

from bpm.nodes.votes import decide

OUTCOMES = ["approve", "reject"]


@pytest.mark.parametrize(("cast", "voters", "completion", "policy", "decided"), [
    ([], 3, {"atLeast": 2}, "first-rejects", None),
    (["approve"], 3, {"atLeast": 2}, "first-rejects", None),
    (["approve", "approve"], 3, {"atLeast": 2}, "first-rejects", "approve"),
    (["approve", "reject"], 3, {"atLeast": 2}, "first-rejects", "reject"),
    (["approve", "reject"], 3, {"atLeast": 2}, "majority", None),
    (["reject", "reject"], 3, {"atLeast": 2}, "majority", "reject"),
    (["approve", "reject", "reject"], 3, {"atLeast": 2}, "majority", "reject"),
    (["approve", "reject", "approve"], 3, {"atLeast": 2}, "majority", "approve"),
    (["approve"], 3, "any", "first-rejects", "approve"),
    (["reject"], 3, "any", "majority", None),
    (["reject", "reject"], 3, "any", "majority", "reject"),
    (["approve", "approve"], 3, "all", "majority", None),
    (["approve", "approve", "approve"], 3, "all", "majority", "approve"),
    (["approve", "reject"], 3, "all", "majority", "reject"),  # "all" can no longer be reached
    (["reject"], 2, "all", "majority", "reject"),
    (["approve"], 4, {"atLeast": 9}, "first-rejects", None),  # at least more than there are: all of them
])
def test_when_a_vote_is_decided(cast, voters, completion, policy, decided):
    assert decide(cast, voters, completion, policy, OUTCOMES) == decided


def test_a_vote_without_a_rejecting_outcome_ends_only_by_approvals():
    assert decide(["ok"], 2, "all", "first-rejects", ["ok"]) is None
    assert decide(["ok", "ok"], 2, "all", "first-rejects", ["ok"]) == "ok"

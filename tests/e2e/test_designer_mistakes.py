"""The mistakes a process designer makes that a run would not show until too late, each caught by validation at
its JSON path: one definition that breaks the rule, and the same definition put right."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.accounts import add_member, create_group

PURCHASE = {
    "id": "purchase", "name": "Purchase request",
    "nodes": [
        {"id": "submit", "type": "start", "data": {"form": "expense-request"}},
        {"id": "manager", "type": "human-task", "metadata": {"label": "Manager review"},
         "data": {"title": "Approve {{ data.amount }}", "form": "approval-decision", "assignee": "bob",
                  "outcomes": ["approve", "reject"],
                  "escalations": [{"after": "P2D", "action": "reassign", "to": "dave"}]}},
        {"id": "big", "type": "decision", "metadata": {"label": "Above 5000?"},
         "data": {"rules": [{"when": "{{ submit.last.data.amount > 5000 }}", "handle": "high"}],
                  "default": "low"}},
        {"id": "director", "type": "human-task", "metadata": {"label": "Director review"},
         "data": {"title": "Approve {{ data.amount }}", "form": "approval-decision", "assignee": "dave",
                  "outcomes": ["approve", "reject"]}},
        {"id": "approved", "type": "end", "data": {"outcome": "approved"}},
        {"id": "rejected", "type": "end", "data": {"outcome": "rejected"}},
    ],
    "edges": [
        {"id": "e1", "source": "submit", "target": "manager"},
        {"id": "e2", "source": "manager", "target": "big", "sourceHandle": "approve"},
        {"id": "e3", "source": "manager", "target": "rejected", "sourceHandle": "reject"},
        {"id": "e4", "source": "big", "target": "director", "sourceHandle": "high"},
        {"id": "e5", "source": "big", "target": "approved", "sourceHandle": "low"},
        {"id": "e6", "source": "director", "target": "approved", "sourceHandle": "approve"},
        {"id": "e7", "source": "director", "target": "rejected", "sourceHandle": "reject"},
    ],
}


def _problems(api, body):
    report = api.as_("dana").post("/api/definitions/validate", json=body)
    assert report.status_code == 200, report.json
    return [(p["path"], p["severity"], p["message"]) for p in report.json["problems"]
            if "not portable" not in p["message"] and "not runnable by Refluxo" not in p["message"]]


def _changed(change):
    body = copy.deepcopy(PURCHASE)
    change(body)
    return body


def test_the_purchase_process_as_drawn_has_no_problem(api):
    assert _problems(api, PURCHASE) == []


def test_an_assignee_who_is_not_a_user_is_an_error_at_the_assignee(api):
    body = _changed(lambda b: b["nodes"][3]["data"].update(assignee="davee"))
    assert _problems(api, body) == [("$.nodes[3].data.assignee", "error",
                                     "'Director review' is assigned to 'davee', who is not an active user")]
    saved = api.as_("dana").post("/api/definitions", json=body)
    assert saved.status_code == 422 and api.as_("dana").get("/api/definitions/purchase").status_code == 404


def test_an_escalation_to_someone_who_is_not_a_user_is_an_error_at_its_target(api):
    body = _changed(lambda b: b["nodes"][1]["data"]["escalations"][0].update(to="nobody-here"))
    assert _problems(api, body) == [("$.nodes[1].data.escalations[0].to", "error",
                                     "'Manager review' escalates to 'nobody-here', who is not an active user")]


def test_a_condition_on_a_field_the_form_does_not_have_is_an_error_at_the_condition(api):
    body = _changed(lambda b: b["nodes"][2]["data"]["rules"][0].update(when="{{ submit.last.data.amout > 5000 }}"))
    [(path, severity, message)] = _problems(api, body)
    assert (path, severity) == ("$.nodes[2].data.rules[0].when", "error")
    assert message.startswith("'Above 5000?' reads field 'amout' of 'submit', whose form has no such field")
    assert "amount" in message, "the fields it does have are listed"


def test_groups_candidates_and_voters_are_looked_up_too(api):
    body = _changed(lambda b: b["nodes"][3]["data"].pop("assignee") and None)
    body["nodes"][3]["data"].update(candidateGroups=["finance", "purchasing"], candidateUsers=["carol", "karl"])
    body["nodes"][1]["data"].pop("assignee")
    body["nodes"][1]["data"]["approvers"] = ["bob", "group:finance", "group:board"]
    assert [(p, s) for p, s, _ in _problems(api, body)] == [
        ("$.nodes[1].data.approvers[2]", "error"), ("$.nodes[3].data.candidateUsers[1]", "error"),
        ("$.nodes[3].data.candidateGroups[1]", "error")]


def test_a_name_an_expression_may_give_is_a_warning_and_a_computed_one_is_left_to_the_run(api):
    body = _changed(lambda b: b["nodes"][3]["data"].update(
        assignee="{{ submit.last.data.amount > 9000 ? 'ceo-office' : 'dave' }}"))
    assert _problems(api, body) == [("$.nodes[3].data.assignee", "warning", (
        "'Director review' is assigned to 'ceo-office', who is not an active user: the expression may give this "
        "name, and then the task would wait for nobody"))]
    computed = _changed(lambda b: b["nodes"][3]["data"].update(assignee="{{ submit.last.data.manager }}"))
    assert _problems(api, computed) == []


def test_with_single_sign_on_an_unknown_user_is_a_warning(api, rt, monkeypatch):
    monkeypatch.setattr(rt, "settings", replace(
        rt.settings, oidc_issuer="https://login.example.com", oidc_client_id="bpm", oidc_client_secret="s3cret"))
    body = _changed(lambda b: b["nodes"][3]["data"].update(assignee="newcomer"))
    assert [(p, s) for p, s, _ in _problems(api, body)] == [("$.nodes[3].data.assignee", "warning")]


def test_reading_the_request_data_checks_the_start_form_and_what_steps_write(api):
    body = _changed(lambda b: b["nodes"][3]["data"].update(title="Approve {{ data.price }}"))
    [(path, severity, message)] = _problems(api, body)
    assert (path, severity) == ("$.nodes[3].data.title", "error") and "'price'" in message
    body["nodes"][1]["data"]["writeBack"] = {"comment": "price"}  # the manager's form writes it into the data
    assert _problems(api, body) == []


def test_reading_a_node_that_cannot_have_run_yet_or_does_not_exist_is_an_error(api):
    later = _changed(lambda b: b["nodes"][1]["data"].update(title="{{ director.last.data.data.comment }}"))
    [(path, severity, message)] = _problems(api, later)
    assert (path, severity) == ("$.nodes[1].data.title", "error")
    assert "'Director review' cannot have run before it" in message
    missing = _changed(lambda b: b["nodes"][3]["data"].update(title="{{ nodes.managr.last.data.outcome }}"))
    assert _problems(api, missing)[0][2].endswith("but the process has no node 'managr'")
    earlier = _changed(lambda b: b["nodes"][3]["data"].update(title="{{ manager.last.data.data.comment }}"))
    assert _problems(api, earlier) == []
    wrong_field = _changed(lambda b: b["nodes"][3]["data"].update(title="{{ manager.last.data.data.coment }}"))
    assert "whose form has no such field" in _problems(api, wrong_field)[0][2]


def test_comparing_a_text_field_with_a_number_is_a_warning(api):
    body = _changed(lambda b: b["nodes"][2]["data"]["rules"][0].update(
        when="{{ submit.last.data.description > 5000 }}"))
    assert [(p, s) for p, s, _ in _problems(api, body)] == [("$.nodes[2].data.rules[0].when", "warning")]


def test_a_decision_without_a_default_exit_is_a_warning_at_its_default(api):
    body = _changed(lambda b: b["nodes"][2]["data"].pop("default"))
    body["edges"] = [e for e in body["edges"] if e["id"] != "e5"]
    problems = _problems(api, body)
    assert ("$.nodes[2].data.default", "warning") in [(p, s) for p, s, _ in problems]
    assert "'Above 5000?' has no default exit" in problems[0][2]


def test_an_exit_no_edge_leaves_by_is_a_warning_at_the_outcome(api):
    body = _changed(lambda b: b.update(edges=[e for e in b["edges"] if e["id"] != "e7"]))
    assert _problems(api, body) == [("$.nodes[3].data.outcomes[1]", "warning", (
        "'Director review' can leave by 'reject', but no edge leaves by it: a request that goes that way stops "
        "there without reaching an end"))]


def test_a_loop_with_no_way_to_an_end_is_an_error_at_each_of_its_nodes(api):
    body = _changed(lambda b: None)
    body["edges"] = [e for e in body["edges"] if e["id"] not in ("e6", "e7")] + [
        {"id": "back", "source": "director", "target": "manager", "sourceHandle": "approve"},
        {"id": "back2", "source": "director", "target": "big", "sourceHandle": "reject"}]
    body["edges"] = [e for e in body["edges"] if e["id"] != "e5"] + [
        {"id": "e5", "source": "big", "target": "director", "sourceHandle": "low"}]
    body["edges"] = [e for e in body["edges"] if e["id"] not in ("e2", "e3")] + [
        {"id": "e2", "source": "manager", "target": "big", "sourceHandle": "approve"},
        {"id": "e3", "source": "manager", "target": "big", "sourceHandle": "reject"}]
    problems = [(p, s) for p, s, m in _problems(api, body) if "cannot reach an end" in m]
    assert problems == [(f"$.nodes[{i}]", "error") for i in range(4)], "the start leads only into the loop"


def test_an_edge_no_exit_takes_is_an_error(api):
    body = _changed(lambda b: b["edges"][1].update(sourceHandle="approved"))
    paths = [(p, s) for p, s, _ in _problems(api, body)]
    assert ("$.edges[1].sourceHandle", "error") in paths and ("$.nodes[1].data.outcomes[0]", "warning") in paths


@pytest.fixture
def lone_buyer(rt):
    create_group(rt, SYSTEM_ACTOR, "buyers", "Buyers")
    add_member(rt, SYSTEM_ACTOR, "buyers", "carol")


def test_a_task_only_the_requester_could_do_is_a_warning_unless_they_cannot_start_it(api, lone_buyer):
    body = _changed(lambda b: b["nodes"][3]["data"].pop("assignee") and None)
    body["nodes"][3]["data"]["candidateGroups"] = ["buyers"]
    assert _problems(api, body) == [("$.nodes[3].data", "warning", (
        "only carol can act on 'Director review', and four-eyes bars them from a request they started themselves: "
        "such a request would wait there forever; offer the task to someone else too, or say fourEyes: false if "
        "that is meant"))]
    assert _problems(api, {**body, "startableBy": {"users": ["ann"]}}) == [], "carol never starts one"
    body["nodes"][3]["data"]["fourEyes"] = False
    assert _problems(api, body) == []

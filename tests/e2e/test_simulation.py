"""Try it: a designer runs a draft in the pure engine — start, decide, move the clock — and nothing is written."""

from __future__ import annotations

import copy

from ..conftest import database_dump
from .test_designer_mistakes import PURCHASE

START = {"data": {"manager": "bob", "amount": 7200, "currency": "EUR", "spentOn": "2026-12-01",
                  "description": "A new press"}, "by": "ann"}


def _purchase_with_mail():
    body = copy.deepcopy(PURCHASE)
    body["nodes"].append({"id": "tell", "type": "notify", "data": {
        "channel": "email", "to": ["{{ data.requester }}"], "subject": "Approved",
        "body": "{{ data.description }} for {{ data.amount }} {{ data.currency }} was approved."}})
    body["edges"] = [e for e in body["edges"] if e["id"] != "e6"] + [
        {"id": "e6", "source": "director", "target": "tell", "sourceHandle": "approve"},
        {"id": "e8", "source": "tell", "target": "approved"}]
    return body


def _simulate(api, body, **kwargs):
    return api.as_("dana").post("/api/definitions/simulate", json={"definition": body, **kwargs})


def test_a_big_purchase_goes_to_the_director_and_the_requester_is_told(api, rt):
    before = database_dump(rt)
    answer = _simulate(api, _purchase_with_mail(), start=START, steps=[
        {"node": "manager", "outcome": "approve", "by": "bob"},
        {"node": "director", "outcome": "approve", "by": "dave"}])
    assert answer.status_code == 200, answer.json
    run = answer.json
    assert (run["status"], run["outcome"], run["waitingAt"]) == ("completed", "approved", [])
    assert run["path"] == ["submit", "manager", "big", "director", "tell", "approved"]
    tasks = [(e["node"], e["assignee"]) for e in run["effects"] if e["kind"] == "task"]
    assert tasks == [("manager", "bob"), ("director", "dave")]
    [mail] = [e for e in run["effects"] if e["kind"] == "email"]
    assert mail["to"] == ["ann"] and mail["body"] == "A new press for 7200 EUR was approved."
    assert run["data"]["requester"] == "ann", "the start form's current-user field is the one who starts"
    assert database_dump(rt) == before, "a test run writes nothing"


def test_a_small_purchase_skips_the_director_and_a_rejection_ends_rejected(api):
    small = _simulate(api, PURCHASE, start={**START, "data": {**START["data"], "amount": 300}},
                      steps=[{"node": "manager", "outcome": "approve"}]).json
    assert small["path"] == ["submit", "manager", "big", "approved"] and small["outcome"] == "approved"
    rejected = _simulate(api, PURCHASE, start=START, steps=[
        {"node": "manager", "outcome": "reject", "data": {"comment": "Too dear"}}]).json
    assert (rejected["status"], rejected["outcome"]) == ("completed", "rejected")


def test_the_run_waits_where_the_steps_stop(api):
    run = _simulate(api, PURCHASE, start=START).json
    assert (run["status"], run["path"], run["waitingAt"]) == ("waiting", ["submit", "manager"], ["manager"])


def test_moving_the_clock_fires_the_escalation_that_reassigns_the_task(api):
    run = _simulate(api, PURCHASE, start=START, advance="P3D").json
    escalation = [e for e in run["effects"] if e["kind"] == "escalation"]
    assert [(e["action"], e["to"]) for e in escalation] == [("reassign", "dave")]
    assert run["waitingAt"] == ["manager"], "reassigned, still waiting for a decision"
    quiet = _simulate(api, PURCHASE, start=START, advance="P1D").json
    assert not [e for e in quiet["effects"] if e["kind"] == "escalation"], "not due after one day"


def test_a_timeout_escalation_leaves_by_its_handle_and_a_timer_waits_its_time(api):
    body = copy.deepcopy(PURCHASE)
    body["nodes"][1]["data"]["escalations"] = [{"after": "P2D", "action": "timeout", "handle": "late"}]
    body["nodes"].append({"id": "cool_off", "type": "timer", "data": {"duration": "P1D"}})
    body["edges"] += [{"id": "e9", "source": "manager", "target": "cool_off", "sourceHandle": "late"},
                      {"id": "e10", "source": "cool_off", "target": "rejected"}]
    waiting = _simulate(api, body, start=START, advance="P2DT1H").json
    assert waiting["path"] == ["submit", "manager", "cool_off"] and waiting["waitingAt"] == ["cool_off"]
    done = _simulate(api, body, start=START, advance="P4D").json
    assert done["path"] == ["submit", "manager", "cool_off", "rejected"] and done["outcome"] == "rejected"
    assert [e["kind"] for e in done["effects"]] == ["task", "escalation", "timer"]


def test_a_step_at_a_node_that_does_not_wait_is_a_422_naming_the_step(api):
    answer = _simulate(api, PURCHASE, start=START, steps=[{"node": "director", "outcome": "approve"}])
    assert answer.status_code == 422
    assert answer.json["errors"] == {"steps[0].node": ["it waits at: manager"]}


def test_an_outcome_the_task_lacks_or_data_its_form_refuses_is_a_422_naming_the_step(api):
    unknown = _simulate(api, PURCHASE, start=START, steps=[{"node": "manager", "outcome": "maybe"}])
    assert unknown.status_code == 422 and unknown.json["errors"] == {"steps[0].outcome": ["one of: approve, reject"]}
    long = _simulate(api, PURCHASE, start=START, steps=[
        {"node": "manager", "outcome": "reject", "data": {"comment": "x" * 5000}}])
    assert long.status_code == 422 and list(long.json["errors"]) == ["steps[0].data.comment"]
    bad_start = _simulate(api, PURCHASE, start={"data": {"amount": "lots"}})
    assert bad_start.status_code == 422 and "start.data.amount" in bad_start.json["errors"]


def test_a_definition_with_errors_is_not_run(api):
    broken = copy.deepcopy(PURCHASE)
    broken["nodes"][3]["data"]["assignee"] = "davee"
    answer = _simulate(api, broken, start=START)
    assert answer.status_code == 422 and "davee" in str(answer.json)


def test_only_designers_and_admins_may_test_run(api):
    assert api.as_("ann").post("/api/definitions/simulate",
                               json={"definition": PURCHASE, "start": START}).status_code == 403
    assert api.as_("admin").post("/api/definitions/simulate",
                                 json={"definition": PURCHASE, "start": START}).status_code == 200


def test_a_bad_advance_is_a_422(api):
    answer = _simulate(api, PURCHASE, start=START, advance="soon")
    assert answer.status_code == 422 and list(answer.json["errors"]) == ["advance"]


BIG_ONE = {"name": "a big purchase goes to the director", "start": START,
           "steps": [{"node": "manager", "outcome": "approve", "by": "bob"},
                     {"node": "director", "outcome": "approve", "by": "dave"}],
           "expect": {"status": "completed", "outcome": "approved"}}


def test_a_saved_scenario_runs_again_at_publish_and_a_failing_one_blocks_it(api, rt):
    designer = api.as_("dana")
    assert designer.post("/api/definitions", json=PURCHASE).status_code == 201
    saved = designer.post("/api/definitions/purchase/scenarios", json=BIG_ONE)
    assert saved.status_code == 201 and saved.json["expect"] == {"status": "completed", "outcome": "approved"}
    assert [s["name"] for s in designer.get("/api/definitions/purchase/scenarios").json] == [BIG_ONE["name"]]
    skipping = copy.deepcopy(PURCHASE)  # a typo in the limit: 7,200 no longer reaches the director
    skipping["nodes"][2]["data"]["rules"][0]["when"] = "{{ submit.last.data.amount > 50000 }}"
    assert designer.post("/api/definitions", json=skipping).status_code == 201
    before = database_dump(rt)
    refused = designer.post("/api/definitions/purchase/versions/1/publish")
    assert refused.status_code == 422, refused.json
    assert "scenario 'a big purchase goes to the director' cannot run" in str(refused.json)
    assert "does not wait at 'director'" in str(refused.json)
    assert database_dump(rt) == before, "not published"
    assert designer.post("/api/definitions", json=PURCHASE).status_code == 201
    assert designer.post("/api/definitions/purchase/versions/1/publish").status_code == 200


def test_a_scenario_whose_end_changed_says_what_it_expected_and_got(api):
    designer = api.as_("dana")
    designer.post("/api/definitions", json=PURCHASE)
    designer.post("/api/definitions/purchase/scenarios", json={
        **BIG_ONE, "name": "rejected by the manager",
        "steps": [{"node": "manager", "outcome": "reject", "data": {"comment": "Too dear"}}],
        "expect": {"status": "completed", "outcome": "rejected"}})
    lenient = copy.deepcopy(PURCHASE)
    lenient["edges"] = [e for e in lenient["edges"] if e["id"] != "e3"] + [
        {"id": "e3", "source": "manager", "target": "approved", "sourceHandle": "reject"}]
    designer.post("/api/definitions", json=lenient)
    refused = designer.post("/api/definitions/purchase/versions/1/publish")
    assert refused.status_code == 422
    assert "expected outcome 'rejected' but got 'approved'" in str(refused.json)


def test_scenarios_are_for_designers_and_bad_ones_are_refused(api):
    api.as_("dana").post("/api/definitions", json=PURCHASE)
    assert api.as_("ann").post("/api/definitions/purchase/scenarios", json=BIG_ONE).status_code == 403
    assert api.as_("ann").get("/api/definitions/purchase/scenarios").status_code == 403
    bad = api.as_("dana").post("/api/definitions/purchase/scenarios", json={**BIG_ONE, "expect": {"status": "?"}})
    assert bad.status_code == 422
    assert api.as_("dana").post("/api/definitions/nothing/scenarios", json=BIG_ONE).status_code == 404
    api.as_("dana").post("/api/definitions/purchase/scenarios", json=BIG_ONE)
    name = BIG_ONE["name"].replace(" ", "%20")
    assert api.as_("dana").delete(f"/api/definitions/purchase/scenarios/{name}").status_code == 204
    assert api.as_("dana").get("/api/definitions/purchase/scenarios").json == []

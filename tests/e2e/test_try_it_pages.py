"""Try it on the designer's pages: start the draft as a requester would, act on its tasks, move the clock past
escalations, keep the run as a scenario — and nothing is written but the scenario."""

from __future__ import annotations

import json

from ..conftest import database_dump

START = {"do": "start", "manager": "bob", "amount": "2500", "currency": "EUR", "description": "A laptop"}


def _post(client, url: str, data: dict, htmx: bool = True):
    headers = {"X-BPM-User": "dana", "Accept": "text/html"}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data, headers=headers)


def _run(html: str) -> str:
    """The run so far, as the page carries it to the next post."""
    marker = 'name="run" value="'
    raw = html.split(marker, 1)[1].split('"', 1)[0]
    return raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&").replace("&#39;", "'")


def test_a_test_run_goes_step_by_step_and_writes_nothing(client, rt):
    before = database_dump(rt)
    started = _post(client, "/designer/expense-approval/try", START).get_data(as_text=True)
    assert "Waits at Manager review" in started and "for bob" in started
    assert 'data-path="[&#34;submit&#34;, &#34;manager_review&#34;]"' in started or "manager_review" in started
    run = _run(started)
    approved = _post(client, "/designer/expense-approval/try",
                     {"do": "act", "run": run, "node": "manager_review", "outcome": "approve", "by": "bob",
                      "form": "approval-decision"}).get_data(as_text=True)
    assert "Waits at Finance review" in approved and "for group finance" in approved
    assert json.loads(_run(approved))["steps"] == [{"node": "manager_review", "outcome": "approve", "by": "bob",
                                                     "data": {}}]
    late = _post(client, "/designer/expense-approval/try",
                 {"do": "advance", "run": _run(started), "advance": "P4D"}).get_data(as_text=True)
    assert "remind" in late and "Waits at Escalation" in late, "reminded after a day, timed out after three"
    assert json.loads(_run(late))["steps"][-1] == {"advance": "P4D"}
    assert database_dump(rt) == before


def test_a_step_the_form_refuses_is_said_and_the_run_stays_where_it_was(client):
    started = _post(client, "/designer/expense-approval/try", START).get_data(as_text=True)
    refused = _post(client, "/designer/expense-approval/try",
                    {"do": "act", "run": _run(started), "node": "manager_review", "outcome": "reject",
                     "by": "bob", "form": "approval-decision"}).get_data(as_text=True)
    assert "Not done" in refused and "steps[0]" in refused
    assert "Waits at Manager review" in refused and json.loads(_run(refused))["steps"] == []


def test_a_run_kept_as_a_scenario_runs_again_at_publish(client, api):
    started = _post(client, "/designer/expense-approval/try", START).get_data(as_text=True)
    saved = _post(client, "/designer/expense-approval/try/scenario",
                  {"run": _run(started), "name": "A laptop waits for the manager"}).get_data(as_text=True)
    assert "Scenario “A laptop waits for the manager” saved" in saved
    [scenario] = api.as_("dana").get("/api/definitions/expense-approval/scenarios").json
    assert scenario["expect"] == {"status": "waiting", "waitingAt": ["manager_review"]}


def test_the_start_form_refuses_what_a_requester_could_not_send(client):
    page = _post(client, "/designer/expense-approval/try", {**START, "amount": "lots"}, htmx=False)
    assert page.status_code == 422 and "&#39;lots&#39; is not a number" in page.get_data(as_text=True)


def test_the_api_takes_a_clock_move_between_steps(api):
    body = api.as_("dana").get("/api/definitions/expense-approval/versions/1").json["definition"]
    answer = api.as_("dana").post("/api/definitions/simulate", json={
        "definition": body, "start": {"data": {k: v for k, v in START.items() if k != "do"} | {"amount": 2500}},
        "steps": [{"advance": "P3D"}]})
    assert answer.status_code == 200, answer.json
    assert any(e["kind"] == "escalation" for e in answer.json["effects"])
    both = api.as_("dana").post("/api/definitions/simulate", json={
        "definition": body, "start": {"data": {}}, "steps": [{"node": "x", "advance": "P1D"}]})
    assert both.status_code == 422


def test_a_test_run_counts_escalations_in_the_process_calendar(api):
    """2 working days from New Year's Day 2026 (a holiday; then a short Friday and the weekend): the reminder
    comes on Monday the 5th, not on Saturday the 3rd as plain time would have it."""
    body = {"id": "slow", "name": "Slow", "calendar": "de-office", "nodes": [
        {"id": "s", "type": "start"},
        {"id": "t", "type": "human-task", "data": {"title": "T", "assignee": "bob", "escalations": [
            {"after": "P2D", "action": "remind"}]}},
        {"id": "e", "type": "end"}],
        "edges": [{"id": "a", "source": "s", "target": "t"},
                  {"id": "b", "source": "t", "target": "e", "sourceHandle": "complete"}]}
    early = api.as_("dana").post("/api/definitions/simulate", json={"definition": body, "advance": "P4D"}).json
    assert "effects" in early, early
    assert not any(e["kind"] == "escalation" for e in early["effects"]), early["effects"]
    late = api.as_("dana").post("/api/definitions/simulate", json={"definition": body, "advance": "P7D"}).json
    [reminder] = [e for e in late["effects"] if e["kind"] == "escalation"]
    assert reminder["at"].startswith("2026-01-05"), reminder

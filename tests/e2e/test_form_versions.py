"""Forms are data: drafts, published versions and retirement through the API, no restart; a published process
pins the form versions it uses, so a running request keeps the form it started with."""

from __future__ import annotations

import copy

from ..conftest import EXPENSE, database_dump

PURCHASE_FORM = {"id": "purchase-request", "title": "Purchase request", "schema": {
    "type": "object", "required": ["item", "price"],
    "properties": {"item": {"type": "string", "title": "Item", "minLength": 1},
                   "price": {"type": "number", "title": "Price", "exclusiveMinimum": 0},
                   "supplier": {"type": "string", "title": "Supplier"}}}}
PURCHASE = {"id": "purchase", "name": "Purchase", "nodes": [
    {"id": "submit", "type": "start", "data": {"form": "purchase-request"}},
    {"id": "manager", "type": "human-task", "data": {"title": "Approve {{ submit.last.data.item }}",
                                                     "assignee": "bob", "form": "purchase-request",
                                                     "outcomes": ["approve", "reject"]}},
    {"id": "done", "type": "end"}],
    "edges": [{"id": "e1", "source": "submit", "target": "manager"},
              {"id": "e2", "source": "manager", "target": "done", "sourceHandle": "approve"},
              {"id": "e3", "source": "manager", "target": "done", "sourceHandle": "reject"}]}


def _publish_form(designer, body) -> int:
    saved = designer.post("/api/forms", json=body)
    assert saved.status_code == 201, saved.json
    version = saved.json["version"]
    assert designer.post(f"/api/forms/{body['id']}/versions/{version}/publish").status_code == 200
    return version


def test_a_designer_creates_and_publishes_a_form_and_a_process_uses_it_without_a_restart(api):
    designer = api.as_("dana")
    draft = designer.post("/api/forms", json=PURCHASE_FORM)
    assert draft.status_code == 201 and draft.json["version"] == 1 and draft.json["status"] == "draft"
    assert draft.headers["ETag"] == '"1"'
    unpublished = designer.post("/api/definitions", json=PURCHASE)
    assert unpublished.status_code == 422 and "purchase-request" in str(unpublished.json), "a draft form is not usable"
    assert designer.post("/api/forms/purchase-request/versions/1/publish").json["status"] == "published"
    assert designer.post("/api/definitions", json=PURCHASE).status_code == 201
    assert designer.post("/api/definitions/purchase/versions/1/publish").status_code == 200
    refused = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk"}})
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["price"]
    started = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk", "price": 300}})
    assert started.status_code == 201, started.json
    listed = {line["id"]: line for line in designer.get("/api/forms").json}
    assert listed["purchase-request"]["published"] == 1 and listed["expense-request"]["published"] == 1


def test_a_running_request_keeps_the_form_it_started_with(api):
    designer = api.as_("dana")
    _publish_form(designer, PURCHASE_FORM)
    designer.post("/api/definitions", json=PURCHASE)
    designer.post("/api/definitions/purchase/versions/1/publish")
    started = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk", "price": 300}})
    task_id = started.json["openTasks"][0]["id"]
    stricter = copy.deepcopy(PURCHASE_FORM)  # version 2 asks for a supplier too
    stricter["schema"]["required"] = ["item", "price", "supplier"]
    assert _publish_form(designer, stricter) == 2
    assert api.get("/api/forms/purchase-request").json["version"] == 2
    shown = api.as_("bob").get(f"/api/tasks/{task_id}").json
    assert shown["form"]["version"] == 1 and shown["form"]["schema"]["required"] == ["item", "price"]
    done = api.as_("bob").post(f"/api/tasks/{task_id}/complete",
                               json={"outcome": "approve", "data": {"item": "desk", "price": 300}})
    assert done.status_code == 200, done.json
    again = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk", "price": 300}})
    assert again.status_code == 201, "version 1 of the process still starts with form version 1"
    designer.post("/api/definitions", json=PURCHASE)
    designer.post("/api/definitions/purchase/versions/2/publish")
    newer = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk", "price": 300}})
    assert newer.status_code == 422 and list(newer.json["errors"]) == ["supplier"], "version 2 pins form version 2"


def test_a_seed_form_gets_a_second_version_after_its_file(api):
    designer = api.as_("dana")
    seed = api.get("/api/forms/expense-request").json
    assert seed["version"] == 1
    changed = {**{k: seed[k] for k in ("id", "title", "schema", "rules", "ui")}, "title": "Expense claim (new)"}
    assert _publish_form(designer, changed) == 2
    versions = designer.get("/api/forms/expense-request/versions").json
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "published")]
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    assert started.status_code == 201, "the published expense process keeps its pinned version 1"


def test_a_bad_form_is_a_422_with_the_path_of_each_problem_and_writes_nothing(api, rt):
    designer = api.as_("dana")
    bad = {"id": "Bad Id", "title": "", "schema": {"type": "object", "properties": {
        "price": {"type": "number", "minimum": "zero"}}}, "rules": [{"require": ["ghost"]}],
        "ui": {"money": {"price": "nothing"}}}
    before = database_dump(rt)
    refused = designer.post("/api/forms", json=bad)
    assert refused.status_code == 422
    errors = refused.json["errors"]
    assert "$.schema.properties.price.minimum" in errors, errors
    assert "$.title" in errors and "$.id" in errors
    assert database_dump(rt) == before


def test_a_rule_and_a_money_pair_that_cannot_work_are_each_at_their_path(api):
    bad = copy.deepcopy(PURCHASE_FORM)
    bad["rules"] = [{"field": "price", "atLeast": {"field": "ghost"}, "message": "m"}]
    bad["ui"] = {"money": {"price": "item", "item": "supplier"}}
    errors = api.as_("dana").post("/api/forms", json=bad).json["errors"]
    assert "$.rules[0]" in errors and "$.ui.money.item" in errors, errors


def test_two_saves_of_one_draft_with_the_same_revision_one_wins(api):
    designer = api.as_("dana")
    first = designer.post("/api/forms", json=PURCHASE_FORM)
    etag = first.headers["ETag"]
    mine = designer.post("/api/forms", json={**PURCHASE_FORM, "title": "Mine"}, headers={"If-Match": etag})
    theirs = designer.post("/api/forms", json={**PURCHASE_FORM, "title": "Theirs"}, headers={"If-Match": etag})
    assert (mine.status_code, theirs.status_code) == (201, 412)
    assert designer.get("/api/forms/purchase-request/versions/1").json["title"] == "Mine"


def test_only_designers_change_forms_and_a_refusal_changes_nothing(api, rt):
    before = database_dump(rt)
    assert api.as_("ann").post("/api/forms", json=PURCHASE_FORM).status_code == 403
    assert api.as_("audrey").post("/api/forms/expense-request/versions/1/retire").status_code == 403
    assert database_dump(rt) == before
    api.as_("dana").post("/api/forms", json=PURCHASE_FORM)
    assert api.as_("ann").get("/api/forms/purchase-request/versions/1").status_code == 403, "drafts are designers'"


def test_a_retired_form_serves_the_processes_that_pinned_it_but_no_new_one(api):
    designer = api.as_("dana")
    _publish_form(designer, PURCHASE_FORM)
    designer.post("/api/definitions", json=PURCHASE)
    designer.post("/api/definitions/purchase/versions/1/publish")
    assert designer.post("/api/forms/purchase-request/versions/1/retire").json["status"] == "retired"
    started = api.post("/api/instances", json={"definition": "purchase", "payload": {"item": "desk", "price": 3}})
    assert started.status_code == 201, started.json
    assert designer.post("/api/definitions", json=PURCHASE).status_code == 422, "no published version to pin"
    again = designer.post("/api/forms/purchase-request/versions/1/retire")
    assert again.status_code == 409

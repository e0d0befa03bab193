"""The designer's pages: the catalogue (new, from an example, duplicate, import, export), a process's page and the
node reference; designers and admins only."""

from __future__ import annotations

import io
import json

import pytest

from ..conftest import database_dump
from .test_designer_mistakes import PURCHASE


def _page(client, user: str, url: str):
    return client.get(url, headers={"X-BPM-User": user, "Accept": "text/html"})


def _post(client, user: str, url: str, data: dict, **kwargs):
    return client.post(url, data=data, headers={"X-BPM-User": user, "Accept": "text/html"},
                       follow_redirects=True, **kwargs)


@pytest.mark.parametrize("url", ["/designer", "/designer/expense-approval", "/designer/nodes",
                                 "/designer/expense-approval/versions/1/export"])
def test_the_designer_pages_do_not_exist_for_employees_and_auditors(client, url):
    assert _page(client, "ann", url).status_code == 404
    assert _page(client, "audrey", url).status_code == 404
    assert _page(client, "dana", url).status_code == 200
    assert _page(client, "admin", url).status_code == 200


def test_only_designers_see_design_in_the_menu(client):
    assert 'href="/designer"' in _page(client, "dana", "/inbox").get_data(as_text=True)
    assert 'href="/designer"' not in _page(client, "ann", "/inbox").get_data(as_text=True)


def test_the_catalogue_lists_each_process_with_its_versions_and_running_requests(client, api):
    api.post("/api/instances", json={"definition": "expense-approval", "payload": {
        "manager": "bob", "amount": 20, "currency": "EUR", "spentOn": "2026-12-01", "description": "Taxi"}})
    page = _page(client, "dana", "/designer").get_data(as_text=True)
    row = page.split('id="p-expense-approval"', 1)[1].split("</tr>", 1)[0]
    assert "v1 published" in row and "1 running" in row
    assert 'href="/designer/expense-approval/versions/1/export"' in row


def test_a_new_process_from_an_example_is_a_draft_of_its_own(client, api):
    done = _post(client, "dana", "/designer/new", {"key": "expenses-emea", "name": "Expenses EMEA",
                                                   "example": "expense-approval"})
    assert done.status_code == 200 and "Process Expenses EMEA created as a draft." in done.get_data(as_text=True)
    [draft] = api.as_("dana").get("/api/definitions/expenses-emea").json
    assert (draft["status"], draft["version"], draft["name"]) == ("draft", 1, "Expenses EMEA")
    example = api.as_("dana").get("/api/definitions/expense-approval/versions/1").json["definition"]
    mine = api.as_("dana").get("/api/definitions/expenses-emea/versions/1").json["definition"]
    assert mine["nodes"] == example["nodes"] and mine["id"] == "expenses-emea"


def test_a_blank_process_is_a_start_joined_to_an_end(client, api):
    _post(client, "dana", "/designer/new", {"key": "blank-one", "name": "Blank one"})
    body = api.as_("dana").get("/api/definitions/blank-one/versions/1").json["definition"]
    assert [n["type"] for n in body["nodes"]] == ["start", "end"] and len(body["edges"]) == 1


def test_a_taken_or_bad_key_creates_nothing_and_says_why(client, rt):
    before = database_dump(rt)
    taken = _post(client, "dana", "/designer/new", {"key": "expense-approval", "name": "Mine"}).get_data(as_text=True)
    assert "a process &#39;expense-approval&#39; exists already" in taken
    bad = _post(client, "dana", "/designer/new", {"key": "Not A Key", "name": "x"}).get_data(as_text=True)
    assert "Not created" in bad
    reserved = _post(client, "dana", "/designer/new", {"key": "nodes", "name": "Nodes"}).get_data(as_text=True)
    assert "taken by the designer" in reserved
    assert database_dump(rt) == before


def test_a_process_is_duplicated_under_a_new_key(client, api):
    _post(client, "dana", "/designer/expense-approval/versions/1/duplicate", {"key": "expense-copy",
                                                                             "name": "Expense copy"})
    assert api.as_("dana").get("/api/definitions/expense-copy").json[0]["status"] == "draft"


def test_an_export_imports_back_and_a_broken_file_is_refused_with_the_reason(client, api, rt):
    exported = _page(client, "dana", "/designer/expense-approval/versions/1/export")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="expense-approval-v1.json"'
    body = json.loads(exported.data)
    body["name"] = "Expense approval, reworked"
    done = _post(client, "dana", "/designer/import", {"file": (io.BytesIO(json.dumps(body).encode()), "e.json")},
                 content_type="multipart/form-data")
    assert "Imported Expense approval, reworked as draft version 2." in done.get_data(as_text=True)
    before = database_dump(rt)
    broken = {**PURCHASE, "id": "broken-buy"}
    broken["nodes"] = [dict(n) for n in PURCHASE["nodes"]]
    broken["nodes"][3] = {**broken["nodes"][3], "data": {**broken["nodes"][3]["data"], "assignee": "davee"}}
    refused = _post(client, "dana", "/designer/import",
                    {"file": (io.BytesIO(json.dumps(broken).encode()), "b.json")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert "Not imported" in refused and "davee" in refused
    junk = _post(client, "dana", "/designer/import", {"file": (io.BytesIO(b"{nope"), "j.json")},
                 content_type="multipart/form-data").get_data(as_text=True)
    assert "not JSON" in junk
    assert database_dump(rt) == before


def test_a_process_page_shows_its_problems_in_plain_words_and_its_steps_in_order(client, api):
    body = json.loads(json.dumps(PURCHASE))
    body["nodes"][2]["data"]["rules"][0]["when"] = "{{ submit.last.data.prize > 5000 }}"
    assert api.as_("dana").post("/api/definitions", json=body).status_code == 422, "an error is not saved"
    body["nodes"][2]["data"]["rules"][0]["when"] = "{{ submit.last.data.amount > 5000 }}"
    body["edges"] = [e for e in body["edges"] if e["id"] != "e7"]  # a warning: saved, and shown
    assert api.as_("dana").post("/api/definitions", json=body).status_code == 201
    page = _page(client, "dana", "/designer/purchase").get_data(as_text=True)
    assert "&#39;Director review&#39; can leave by &#39;reject&#39;, but no edge leaves by it" in page
    outline = page.split('class="outline"', 1)[1]
    assert outline.index("Manager review") < outline.index("Above 5000?") < outline.index("Director review")
    assert "leads nowhere" in outline
    assert "<svg" in page and "&lt;svg" not in page


def test_the_node_reference_lists_every_registered_type(client, rt):
    page = _page(client, "dana", "/designer/nodes").get_data(as_text=True)
    for name in rt.node_types:
        assert f'id="type-{name}"' in page
    assert "Task for a person" in page and "escalations" in page


def test_publishing_shows_what_changes_and_who_is_stranded_then_records_the_comment(client, api, rt):
    api.post("/api/instances", json={"definition": "expense-approval", "payload": {
        "manager": "bob", "amount": 20, "currency": "EUR", "spentOn": "2026-12-01", "description": "Taxi"}})
    body = api.as_("dana").get("/api/definitions/expense-approval/versions/1").json["definition"]
    body.pop("version")
    body["nodes"][1]["id"] = "line_manager"  # the manager's step under a new id: running requests wait at the old
    body["nodes"][1]["metadata"]["label"] = "Line manager"
    for edge in body["edges"]:
        edge["source"] = "line_manager" if edge["source"] == "manager_review" else edge["source"]
        edge["target"] = "line_manager" if edge["target"] == "manager_review" else edge["target"]
    body["nodes"][3]["data"]["dueIn"] = "P5D"
    assert api.as_("dana").post("/api/definitions", json=body).status_code == 201
    page = _page(client, "dana", "/designer/expense-approval").get_data(as_text=True)
    publish = page.split('id="publish-title"', 1)[1].split("</section>", 1)[0]
    assert "Against version 1" in publish
    assert "added</span> step <code>line_manager</code>" in publish
    assert "removed</span> step <code>manager_review</code>" in publish
    assert "Finance review: dueIn" in publish
    assert "1 on version 1 at <code>manager_review</code>" in publish
    done = _post(client, "dana", "/designer/expense-approval/versions/2/publish",
                 {"comment": "Line managers approve now"}).get_data(as_text=True)
    assert "Version 2 published" in done
    with rt.uow() as uow:
        [published] = uow.audit_events.about("definition:expense-approval:2")
    assert published.details["comment"] == "Line managers approve now" and published.actor == "dana"


def test_publishing_through_the_api_takes_an_optional_comment(api):
    draft = {**PURCHASE}
    assert api.as_("dana").post("/api/definitions", json=draft).status_code == 201
    too_long = api.as_("dana").post("/api/definitions/purchase/versions/1/publish", json={"comment": "x" * 2001})
    assert too_long.status_code == 422
    assert api.as_("dana").post("/api/definitions/purchase/versions/1/publish").status_code == 200

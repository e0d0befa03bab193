"""File fields: a quote uploaded with the purchase request is kept as an attachment of the request in the same
transaction as the start (the field's value is its id); a refused form keeps no file; a client cannot point a
file field at a file of its choosing."""

from __future__ import annotations

import io

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import database_dump

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
FORM = {"id": "quote-request", "title": "Purchase with a quote", "schema": {
    "type": "object", "required": ["item", "quote"],
    "properties": {"item": {"type": "string", "title": "Item", "minLength": 2},
                   "quote": {"type": "string", "title": "The supplier's quote", "x-bpm-file": True}}}}
PROCESS = {"id": "quoted", "name": "Quoted purchase", "nodes": [
    {"id": "ask", "type": "start", "data": {"form": "quote-request"}},
    {"id": "ok", "type": "human-task", "data": {"title": "Check {{ data.item }}", "assignee": "bob"}},
    {"id": "done", "type": "end"}],
    "edges": [{"id": "a", "source": "ask", "target": "ok"},
              {"id": "b", "source": "ok", "target": "done", "sourceHandle": "complete"}]}


def _publish(api, rt) -> None:
    designer = api.as_("dana")
    version = designer.post("/api/forms", json=FORM).json["version"]
    designer.post(f"/api/forms/quote-request/versions/{version}/publish")
    import_definition(rt, SYSTEM_ACTOR, PROCESS)


def _start(client, data: dict):
    return client.post("/start/quoted", data=data, content_type="multipart/form-data",
                       headers={"X-BPM-User": "ann", "Accept": "text/html"})


def test_a_file_field_keeps_the_upload_as_an_attachment_of_the_request(client, api, rt):
    _publish(api, rt)
    page = client.get("/start/quoted", headers={"X-BPM-User": "ann"}).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file" id="f-quote"' in page
    started = _start(client, {"item": "Desk", "quote": (io.BytesIO(PDF), "quote.pdf")})
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    [instance] = api.get("/api/instances?definitionKey=quoted").json
    files = api.get(f"/api/instances/{instance['id']}/attachments").json
    assert [(f["filename"], f["size"]) for f in files] == [("quote.pdf", len(PDF))]
    [task] = [t for t in api.as_("bob").get("/api/tasks").json if t["instanceId"] == instance["id"]]
    shown = client.get(f"/tasks/{task['id']}", headers={"X-BPM-User": "bob"}).get_data(as_text=True)
    assert f'href="/attachments/{files[0]["id"]}"' in shown, "the request's data links the file"
    assert client.get(f"/attachments/{files[0]['id']}", headers={"X-BPM-User": "bob"}).data == PDF


def test_a_refused_form_keeps_no_file(client, api, rt):
    _publish(api, rt)
    before = database_dump(rt)
    refused = _start(client, {"item": "D", "quote": (io.BytesIO(PDF), "quote.pdf")})
    assert refused.status_code == 422 and database_dump(rt) == before
    wrong = _start(client, {"item": "Desk", "quote": (io.BytesIO(b"MZ\x90\x00binary"), "quote.exe")})
    assert wrong.status_code == 422 and "quote.exe" in wrong.get_data(as_text=True)
    assert database_dump(rt) == before


def test_a_file_field_cannot_be_pointed_at_a_file_by_its_id(api, rt):
    _publish(api, rt)
    sneaky = api.post("/api/instances", json={"definition": "quoted", "payload": {
        "item": "Desk", "quote": "00000000-0000-4000-8000-000000000000"}})
    assert sneaky.status_code == 422 and list(sneaky.json["errors"]) == ["quote"], "only an upload fills it"


def test_a_file_of_the_start_form_stays_with_the_request_and_a_test_run_takes_the_field_as_filled(client, api, rt):
    _publish(api, rt)
    _start(client, {"item": "Desk", "quote": (io.BytesIO(PDF), "quote.pdf")})
    [instance] = api.get("/api/instances?definitionKey=quoted").json
    [file] = api.get(f"/api/instances/{instance['id']}/attachments").json
    assert api.delete(f"/api/attachments/{file['id']}").status_code == 409
    tried = api.as_("dana").post("/api/definitions/simulate", json={"definition": PROCESS,
                                                                     "start": {"data": {"item": "Desk"}}})
    assert tried.status_code == 200 and tried.json["status"] == "waiting", tried.json

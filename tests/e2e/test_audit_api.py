"""The auditor's search and exports: the right instances found and counted, bad filters named, exports equal to
the history row for row, recorded in the admin chain, and a JSON export that verifies offline (and not once
it is altered)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bpm.runtime.audit_export import verify_export
from bpm.runtime.instances import cancel_instance, start_instance
from bpm.runtime.tasks import claim_task, complete_task

from ..conftest import EXPENSE


def _expense(rt, amount: int, description: str, business_key: str | None = None, approve: bool | None = None,
             finance: bool = False):
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval",
                                   {**EXPENSE, "amount": amount, "description": description}, business_key)
    if approve is not None:
        _, _, run = complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "approve" if approve else "reject",
                                  {"comment": "seen"})
    if finance:
        task = run.created_tasks[0]
        claim_task(rt, rt.actor("carol"), task.id)
        complete_task(rt, rt.actor("carol"), task.id, "approve", {})
    return instance.id


@pytest.fixture
def world(rt, clock):
    """Five expenses over three days: small and large, approved, rejected, open, withdrawn."""
    ids = {"laptop": _expense(rt, 1500, "new laptop", "EXP-1", approve=True, finance=True)}
    clock.advance(86_400_000)
    ids["pens"] = _expense(rt, 40, "pens", "EXP-2", approve=False)
    clock.advance(60_000)
    ids["chair"] = _expense(rt, 300, "Office chair", "EXP-3")
    clock.advance(86_400_000)
    ids["desk"] = _expense(rt, 900, "standing desk", "EXP-4")
    cancel_instance(rt, rt.actor("ann"), ids["desk"])
    clock.advance(60_000)
    ids["screen"] = _expense(rt, 2500, "screen", "EXP-5", approve=True)
    return ids


def _found(api, query: str) -> tuple[list[str], int]:
    response = api.as_("audrey").get(f"/api/audit/search?{query}")
    assert response.status_code == 200, response.json
    return [row["id"] for row in response.json], json.loads(response.headers["X-Pagination"])["total"]


def test_the_search_finds_by_every_filter_and_counts(api, world, rt):
    w = world
    assert _found(api, "process=expense-approval")[1] == 5
    assert set(_found(api, "status=cancelled")[0]) == {w["desk"]}
    assert _found(api, "businessKey=EXP-3")[0] == [w["chair"]]
    assert set(_found(api, "process=expense-approval&data.amount.min=900")[0]) == {w["laptop"], w["desk"],
                                                                                  w["screen"]}
    assert set(_found(api, "process=expense-approval&data.amount.min=300&data.amount.max=900")[0]) == {
        w["chair"], w["desk"]}
    assert _found(api, "process=expense-approval&data.description=office%20CHAIR")[0] == [w["chair"]], \
        "text is matched whole, case aside"
    assert set(_found(api, "process=expense-approval&data.comment=seen")[0]) == {w["laptop"], w["pens"],
                                                                               w["screen"]}, "a decision's form"
    assert set(_found(api, "node=finance_review")[0]) == {w["laptop"], w["screen"]}, "the nodes it passed"
    assert _found(api, "person=bob&role=assigned")[1] == 5, "the manager of every one"
    assert set(_found(api, "person=bob&role=acted")[0]) == {w["laptop"], w["pens"], w["screen"]}
    assert set(_found(api, "person=carol")[0]) == {w["laptop"]}
    assert _found(api, "person=bob&role=started")[1] == 0
    assert _found(api, "person=ann")[1] == 5
    day_two = rt.now().date().fromordinal(rt.now().date().toordinal() - 1).isoformat()
    assert set(_found(api, f"from={day_two}&to={day_two}")[0]) == {w["pens"], w["chair"]}
    assert _found(api, "outcome=nothing-like-this")[1] == 0
    page = api.as_("audrey").get("/api/audit/search?process=expense-approval&page=2&page_size=2")
    assert [r["id"] for r in page.json] == [w["chair"], w["pens"]], "newest first, two a page"
    assert json.loads(page.headers["X-Pagination"])["total"] == 5


@pytest.mark.parametrize(("query", "field"), [
    ("status=sleeping", "status"), ("version=first", "version"), ("version=%C2%B9", "version"),
    ("from=yesterday", "from"),
    ("from=2026-02-02&to=2026-01-01", "to"), ("data.amount.min=1000", "process"),
    ("process=expense-approval&data.amount.min=lots", "data.amount.min"), ("colour=red", "colour"),
    ("node=a%22b", "node"), ("role=boss&person=bob", "role"),
])
def test_a_search_that_cannot_run_says_which_field_and_why(api, query, field):
    response = api.as_("audrey").get(f"/api/audit/search?{query}")
    assert response.status_code == 422 and field in response.json["errors"], response.json


def test_only_auditors_and_admins_search_and_export(api, world):
    for user in ("ann", "bob", "dana"):
        assert api.as_(user).get("/api/audit/search").status_code == 403
        assert api.as_(user).get("/api/audit/export?format=csv").status_code == 403
    assert api.as_("admin").get("/api/audit/search").status_code == 200


def _history(rt, instance_id: str):
    with rt.uow() as uow:
        return uow.history.chain(instance_id)


def test_a_csv_export_is_the_history_row_for_row_and_is_recorded(api, world, rt):
    response = api.as_("audrey").get("/api/audit/export?format=csv&process=expense-approval&status=completed")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = [e for key in ("laptop", "pens") for e in _history(rt, world[key])]
    assert len(rows) == len(expected)
    by_hash = {row["entryHash"]: row for row in rows}
    for entry in expected:
        row = by_hash[entry.entry_hash]
        assert (row["instance"], row["actor"], row["cause"], int(row["position"])) == (
            entry.instance_id, entry.actor, entry.cause, entry.position)
        assert json.loads(row["delta"]) == entry.delta
    with rt.uow() as uow:
        (made,) = [e for e in uow.audit_events.chain() if e.cause == "export_made"]
    assert made.actor == "audrey" and made.subject == "search"
    assert made.details == {"format": "csv", "query": "process=expense-approval&status=completed",
                            "instances": 2}


def test_a_json_export_verifies_offline_and_not_once_altered(api, world, rt, tmp_path):
    response = api.as_("audrey").get(f"/api/audit/export?format=json&instanceId={world['laptop']}")
    assert response.status_code == 200
    document = json.loads(response.get_data())
    (chain,) = document["chains"]
    entries = _history(rt, world["laptop"])
    assert [e["hash"] for e in chain["entries"]] == [e.entry_hash for e in entries]
    assert chain["head"] == [entries[-1].position, entries[-1].entry_hash]
    found = verify_export(io.BytesIO(response.get_data()))
    assert found.intact and found.chains == 2 and found.entries == len(entries) + len(document["admin"]["entries"])
    chain["entries"][1]["actor"] = "mallory"
    altered = verify_export(io.BytesIO(json.dumps(document).encode()))
    assert [(b.chain, b.position) for b in altered.broken] == [(world["laptop"], 2)]
    assert "edited" in altered.broken[0].problem


def test_bpm_audit_verify_file_checks_an_export_with_the_signing_key(signing_api, world, tmp_path):
    from click.testing import CliRunner

    from bpm.cli import main
    from bpm.runtime.anchors import make_anchor, new_key

    api, rt, public_pem = signing_api
    make_anchor(rt)
    response = api.as_("audrey").get("/api/audit/export?format=json&process=expense-approval")
    export = tmp_path / "export.json"
    export.write_bytes(response.get_data())
    assert len(json.loads(response.get_data())["anchors"]) == 1
    key = tmp_path / "audit.pub"
    key.write_bytes(public_pem)
    ok = CliRunner().invoke(main, ["audit", "verify", "--file", str(export), "--public-key", str(key)])
    assert ok.exit_code == 0 and "intact: 6 chains" in ok.output, ok.output
    from cryptography.hazmat.primitives import serialization

    from bpm.runtime.anchors import load_key

    other = load_key(new_key()).public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    key.write_bytes(other)
    forged = CliRunner().invoke(main, ["audit", "verify", "--file", str(export), "--public-key", str(key)])
    assert forged.exit_code == 1 and "its signature is not the audit key's" in forged.output


@pytest.fixture
def signing_api(api, rt, monkeypatch):
    from dataclasses import replace

    from cryptography.hazmat.primitives import serialization

    from bpm.runtime.anchors import load_key, new_key

    pem = new_key()
    monkeypatch.setattr(rt, "settings", replace(rt.settings, audit_signing_key=pem))
    public = load_key(pem).public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    return api, rt, public


@pytest.mark.parametrize("instance_id", ["no-such-instance", "x\r\nSet-Cookie: a=b", "%00"])
def test_an_export_of_an_unknown_instance_is_a_404_and_records_nothing(api, rt, instance_id):
    from urllib.parse import quote

    from ..conftest import database_dump

    before = database_dump(rt)
    response = api.as_("audrey").get(f"/api/audit/export?format=csv&instanceId={quote(instance_id)}")
    assert response.status_code == 404 and "Set-Cookie" not in response.headers
    assert database_dump(rt) == before

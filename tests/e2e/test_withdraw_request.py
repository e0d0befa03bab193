"""Withdrawing a request is asked first, takes an optional reason, and records it."""

from __future__ import annotations

from ..conftest import EXPENSE, database_dump

HTML = {"X-BPM-User": "ann", "Accept": "text/html"}


def _started(api) -> str:
    return api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json["id"]


def test_one_click_never_withdraws_the_confirmation_does_with_its_reason(api, client, rt):
    instance_id = _started(api)
    listing = client.get("/requests", headers=HTML).get_data(as_text=True)
    assert f'href="/requests/{instance_id}/withdraw"' in listing
    before = database_dump(rt)
    unconfirmed = client.post(f"/requests/{instance_id}/cancel", headers=HTML, data={})
    assert unconfirmed.status_code == 303 and unconfirmed.headers["Location"] == f"/requests/{instance_id}/withdraw"
    assert database_dump(rt) == before, "a post without the confirmation changes nothing"

    asked = client.get(f"/requests/{instance_id}/withdraw", headers=HTML).get_data(as_text=True)
    assert "Withdraw this request?" in asked and "Expense approval" in asked and "bob" in asked

    too_long = client.post(f"/requests/{instance_id}/cancel", headers=HTML,
                           data={"confirm": "yes", "reason": "x" * 1001})
    assert too_long.status_code == 422 and "at most 1,000 characters" in too_long.get_data(as_text=True)
    assert database_dump(rt) == before, "a refused withdrawal changes nothing"

    done = client.post(f"/requests/{instance_id}/cancel", headers=HTML,
                       data={"confirm": "yes", "reason": "  Bought it myself after all  "})
    assert done.status_code == 303 and done.headers["Location"] == "/requests"
    instance = api.get(f"/api/instances/{instance_id}").json
    assert instance["status"] == "cancelled"
    assert instance["error"] == "withdrawn by the requester: Bought it myself after all"
    [cancelled] = [e for e in api.get(f"/api/instances/{instance_id}/history").json if e["cause"] == "cancelled"]
    assert cancelled["actor"] == "ann"
    assert cancelled["changes"]["reason"] == [None, "withdrawn by the requester: Bought it myself after all"]
    assert client.get(f"/requests/{instance_id}/withdraw", headers=HTML).status_code == 404, "nothing left to withdraw"


def test_without_a_reason_it_says_who_withdrew_it(api, client):
    instance_id = _started(api)
    client.post(f"/requests/{instance_id}/cancel", headers=HTML, data={"confirm": "yes", "reason": " "})
    assert api.get(f"/api/instances/{instance_id}").json["error"] == "withdrawn by the requester"

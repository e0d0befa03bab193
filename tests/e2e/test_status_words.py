"""Pages say a status's word from the vocabulary; the API keeps the value."""

from __future__ import annotations

from ..conftest import EXPENSE


def test_the_pages_say_the_word_not_the_value(client, api):
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    assert started["status"] == "paused", "the API keeps the value"
    for user, url in (("ann", "/requests"), ("audrey", "/audit"), ("audrey", f"/audit/instances/{started['id']}")):
        page = client.get(url, headers={"X-BPM-User": user}).get_data(as_text=True)
        assert ">in progress</span>" in page and ">paused</span>" not in page, url

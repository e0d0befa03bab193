"""The hot path's SQL, counted: a start and a completion of an approval through the API cost a known number of
round trips to PostgreSQL and a known list of statements.

Not a timed test: a change that adds a query (or a round trip) fails here
with the statements listed, and either removes it or says here why the
approval needs it (issue 25). Counted at the driver, after a warm-up (the
first use of a connection PREPAREs the hot statements, once).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

APPROVAL = {
    "id": "round-trips", "name": "Round trips",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "approve", "type": "human-task",
               "data": {"title": "Approve {{ ask.last.data.n }}", "assignee": "bob", "outcomes": ["approve"]}},
              {"id": "done", "type": "end", "data": {"outcome": "approved"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "approve"},
              {"id": "e2", "source": "approve", "target": "done", "sourceHandle": "approve"}],
}

# A statement's kind: its first words, and the table it reads.
_EXECUTE = re.compile(r"EXECUTE (\w+)")
_WHAT = re.compile(r"\s*(SELECT|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|WITH)")


def _what(sql: str) -> str:
    """``INSERT INTO history_entry``, ``SELECT process_definition``, ``WITH`` (a statement of several)…"""
    if "bpm_expect_one_row" in sql:  # an optimistic lock PostgreSQL checks in the batch (bpm.store.direct)
        dml = re.match(r"WITH changed AS\s*\(\s*(UPDATE \w+|INSERT INTO \w+|DELETE FROM \w+)", sql)
        return f"checked: {dml[1] if dml else 'WITH'}"
    match = _WHAT.match(sql)
    if match is None:
        return sql.split()[0].upper()
    if match[1] == "SELECT":
        tables = re.findall(r"\b(?:FROM|JOIN) (\w+)", sql) or re.findall(r"SELECT (\w+)\(", sql)
        return " ".join(["SELECT", *dict.fromkeys(tables)])
    return match[1]


class Wire:
    """Every query psycopg sends, as round trips of statements (EXECUTEs named by what they prepared)."""

    def __init__(self) -> None:
        self.round_trips: list[list[tuple[psycopg.Connection, str]]] = []

    def sent(self, connection: psycopg.Connection, query: str) -> None:
        statements = [(connection, part.strip()) for part in query.split(";\n") if part.strip()]
        if statements and not all(sql.startswith("PREPARE ") for _, sql in statements):  # (once per connection)
            self.round_trips.append(statements)

    def take(self, execute) -> list[list[str]]:
        """The round trips so far, each statement named, and forget them."""
        prepared: dict[tuple[int, str], str] = {}
        for connection in {id(c): c for trip in self.round_trips for c, _ in trip}.values():
            cursor = connection.cursor()
            execute(cursor, "SELECT name, statement FROM pg_prepared_statements")
            prepared.update({(id(connection), name): re.sub(r"^PREPARE \w+ AS\s+", "", sql, flags=re.S)
                             for name, sql in cursor.fetchall()})
            connection.rollback()  # leave the pooled connection as it was (outside a transaction)
        named = [[_what(prepared.get((id(c), m[1]), sql) if (m := _EXECUTE.match(sql)) else sql)
                  for c, sql in trip] for trip in self.round_trips]
        self.round_trips = []
        return named


@contextmanager
def watching(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Wire, object]]:
    wire = Wire()
    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def counted_execute(self, query, params=None, **kwargs):
        wire.sent(self.connection, query if isinstance(query, str) else query.as_string(self))
        return execute(self, query, params, **kwargs)

    def counted_commit(self):
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            wire.sent(self, "COMMIT")  # (with nothing open, psycopg sends nothing)
        return commit(self)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", counted_commit)
    yield wire, execute


@pytest.fixture
def approvals(rt, api, monkeypatch):
    if rt.db.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's cost (SQLite runs in the process)")
    import_definition(rt, SYSTEM_ACTOR, APPROVAL)

    def start_and_complete(n: int) -> tuple[list[list[str]], list[list[str]]]:
        with watching(monkeypatch) as (wire, execute):
            started = api.post("/api/instances", json={"definition": "round-trips", "payload": {"n": n}})
            assert started.status_code == 201, started.json
            start = wire.take(execute)
            task_id = started.json["openTasks"][0]["id"]
            done = api.as_("bob").post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
            assert done.status_code == 200 and done.json["status"] == "completed", done.json
            return start, wire.take(execute)

    for n in range(3):  # warm up: the connections' PREPAREs, the engine and actor caches
        start_and_complete(n)
    return start_and_complete


def test_a_start_is_two_round_trips(approvals):
    start, _ = approvals(10)
    assert start == [
        ["SELECT process_definition"],  # the newest published version (its engine is cached)
        ["BEGIN", "INSERT INTO process_instance", "INSERT INTO history_entry",  # the chain's first entry
         "INSERT INTO audit_chain_head",  # its head, once, where the task's entry below leaves it
         "INSERT INTO task", "INSERT INTO history_entry",  # the task and its creation, on record
         "INSERT INTO outbox_message",  # the assignee's notice, sent by the worker
         # (no instance_text: the start form's words for the audit search, and this one has none)
         "SELECT pg_notify",  # wakes a worker for the notice (delivered at commit)
         "COMMIT"],  # rides along: nothing in the batch is an optimistic lock
    ], "a start's SQL changed: remove the new query, or say here why an approval needs it"


def test_a_completion_is_two_round_trips(approvals):
    _, complete = approvals(11)
    assert complete == [
        ["SELECT task process_instance"],  # the task and its instance, one read
        ["BEGIN", "checked: UPDATE task",  # version-checked by PostgreSQL (bpm_expect_one_row): else the batch stops
         "INSERT INTO instance_participant",  # bob took part (My requests, the audit's people filter)
         "checked: UPDATE process_instance",  # version-checked
         "checked: WITH",  # the chain's append: head locked and moved, entry written, in one statement
         "INSERT INTO outbox_message",  # the requester hears the request finished
         "SELECT pg_notify",  # wakes a worker for it
         "COMMIT"],  # rides along: a failed lock stops the batch before it
    ], "a completion's SQL changed: remove the new query, or say here why an approval needs it"

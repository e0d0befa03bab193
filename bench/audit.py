"""The history at volume: ``python -m bench.audit`` prints search, export and verify figures on PostgreSQL.

It fills a scratch database with ``--instances`` instances of ``--entries`` chained history entries each
(default 50,000 x 20 = 1,000,000) of the three example processes: start-form data in each snapshot,
people among ``--people`` starting and deciding, a task per decision, participants, statuses and start
times spread over a year; written by COPY with hashes computed exactly as the service computes them
(``bpm.store.chain``). Then it times:

- the auditor's search (``audit_search.search``: the page of 25 and its count) for a set of filters, p50/p95;
- an export of about ``--export-rows`` rows as CSV and as JSON through the real generators, in a fresh
  process (rows/s, and that process's peak memory: what streaming costs, not what filling did);
- an anchor of every head, then ``verify`` over everything (entries/s) and over one instance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import resource
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.service import scratch_database
from bpm.runtime.search_words import words_of
from bpm.store.chain import GENESIS, HistoryEvent, entry_body, entry_hash

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PROCESSES = Path(__file__).resolve().parents[1] / "processes"
KEYS = ("expense-approval", "vacation-request", "content-approval")
STATUSES = ("completed", "completed", "completed", "paused", "cancelled")


def _definitions(conn: psycopg.Connection) -> dict[str, tuple[int, str, str]]:
    """The three example processes as version 1: key -> (id, start node, first task node)."""
    found = {}
    for number, key in enumerate(KEYS, 1):
        body = json.loads((PROCESSES / f"{key}.json").read_text())
        conn.execute("INSERT INTO process_definition (id, key, version, status, name, body, checksum, created_by,"
                     " created_at, updated_at) VALUES (%s, %s, 1, 'published', %s, %s, 'x', 'dana', %s, %s)",
                     (number, key, body["name"], json.dumps(body), NOW, NOW))
        start = next(n["id"] for n in body["nodes"] if n["type"] == "start")
        task = next(n["id"] for n in body["nodes"] if n["type"] == "human-task")
        found[key] = (number, start, task)
    return found


def _months_of_the_year(url: str) -> None:
    """PostgreSQL: a partition for each month the instances start in, as the worker would have made them."""
    from bpm.store.db import make_engine
    from bpm.store.partitions import make_months

    engine = make_engine(url)
    try:
        make_months(engine, (NOW - dt.timedelta(days=1)).date(), ahead=13)  # January to January
    finally:
        engine.dispose()


def _say_partitions(url: str) -> None:
    """How the history is kept: one table, or a partition per month (and how full the fullest is)."""
    from bpm.store.db import make_engine
    from bpm.store.partitions import listing

    engine = make_engine(url)
    try:
        months = [row for row in listing(engine) if row.table == "history_entry"]
    finally:
        engine.dispose()
    if months:
        fullest = max(months, key=lambda row: row.rows)
        print(f"history kept in {len(months)} partitions by the month instances started; the fullest, "
              f"{fullest.name}, ~{fullest.rows:,} entries")


def fill(url: str, instances: int, entries: int, people: int = 2_000, seed: int = 7) -> list[str]:
    """Instances with snapshots, tasks, participants and chained histories, by COPY; their ids."""
    from bpm.store.migrate import upgrade

    upgrade(url)
    _months_of_the_year(url)
    rng = random.Random(seed)
    ids = [str(uuid.uuid4()) for _ in range(instances)]
    with psycopg.connect(url) as conn:
        definitions = _definitions(conn)
        rows, tasks, participants, history, heads, words = [], [], [], [], [], []
        for number, instance_id in enumerate(ids):
            key = KEYS[number % 3]
            definition_id, start, task_node = definitions[key]
            status = rng.choice(STATUSES)
            started_at = NOW + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            requester, manager = f"user{rng.randrange(people)}", f"user{rng.randrange(people)}"
            amount = rng.randrange(10, 5_000)
            output = {"requester": requester, "manager": manager, "amount": amount, "currency": "EUR",
                      "description": rng.choice(("laptop", "train ticket", "hotel", "books", "chair"))}
            decided = {"outcome": rng.choice(("approve", "reject")), "data": {"comment": "ok"},
                       "completedBy": manager}
            context = {start: [{"output": output, "timestamp": 0, "attempt": 1}]}
            if status != "paused":
                context[task_node] = [{"output": decided, "timestamp": 0, "attempt": 1}]
            snapshot = {"workflowId": instance_id, "status": status, "currentNodeId": task_node, "context": context,
                        "version": entries, "metadata": {}}
            ended = started_at + dt.timedelta(days=2) if status != "paused" else None
            rows.append((instance_id, definition_id, key, 1, f"BK-{number:07d}", status, task_node,
                         orjson.dumps(snapshot).decode(), entries, requester, started_at, started_at, ended,
                         decided["outcome"] if status == "completed" else None))
            task_id = str(uuid.uuid4())
            tasks.append((task_id, instance_id, task_node, key, f"Decide {key} of {requester}", manager,
                          "[]", "[]", '["approve","reject"]', 50, "open" if status == "paused" else "completed",
                          1, started_at, manager if status != "paused" else None, ended,
                          decided["outcome"] if status != "paused" else None,
                          '{"comment": "ok"}' if status != "paused" else None))
            participants.append((instance_id, manager, started_at))
            words.append((instance_id, words_of(f"BK-{number:07d}", output)))
            prev = GENESIS
            for n in range(1, entries + 1):
                at = started_at + dt.timedelta(minutes=n)
                delta = ({"header": {"status": status}, "appended": {start: [{"output": output}]}} if n == 1 else
                         {"appended": {task_node: [{"output": {"amount": amount, "note": f"step {n}"}}]}})
                changes = {"comment": [None, f"note {n}"]} if n % 3 == 0 else None
                actor = requester if n == 1 else manager
                body = entry_body(HistoryEvent(instance_id, n, at, actor, "task_completed", task_node, status, n,
                                               delta, changes=changes), n, prev)
                digest = entry_hash(body)
                history.append((instance_id, started_at, n, at, actor, "task_completed", task_node, status, n,
                                orjson.dumps(delta).decode(), None, None,
                                orjson.dumps(changes).decode() if changes else None, n, prev, digest))
                prev = digest
            heads.append((instance_id, entries, prev))
            if len(history) >= 50_000:
                _copy(conn, rows, tasks, participants, history, heads, words)
                rows, tasks, participants, history, heads, words = [], [], [], [], [], []
        _copy(conn, rows, tasks, participants, history, heads, words)
        conn.execute("ANALYZE")
    return ids


def _copy(conn: psycopg.Connection, rows: list, tasks: list, participants: list, history: list, heads: list,
          words: list) -> None:
    statements = (
        ("COPY process_instance (id, definition_id, definition_key, definition_version, business_key, status,"
         " current_node_id, snapshot, revision, started_by, started_at, updated_at, ended_at, outcome) FROM STDIN",
         rows),
        ("COPY task (id, instance_id, node_id, definition_key, title, assignee, candidate_users, candidate_groups,"
         " outcomes, priority, status, revision, created_at, completed_by, completed_at, outcome, data) FROM STDIN",
         tasks),
        ("COPY instance_participant (instance_id, username, since) FROM STDIN", participants),
        ("COPY history_entry (instance_id, instance_started_at, revision, at, actor, cause, node_id, status,"
         " snapshot_version, delta, task_id, on_behalf_of, changes, position, prev_hash, entry_hash) FROM STDIN",
         history),
        ("COPY audit_chain_head (chain, position, entry_hash) FROM STDIN", heads),
        ("COPY instance_text (instance_id, words) FROM STDIN", words),
    )
    for statement, values in statements:
        with conn.cursor().copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    conn.commit()


SEARCHES = {
    "one process, completed": "process=expense-approval&status=completed",
    "a person, any part": "person=user17",
    "a person who started": "person=user17&role=started",
    "a business key": "businessKey=BK-0012345",
    "amount at least 4,000 (form data)": "process=expense-approval&data.amount.min=4000",
    "a description (form data, text)": "process=expense-approval&data.description=Hotel",
    "a step passed": "node=manager_review",
    "a month": "from=2026-03-01&to=2026-03-31",
    "process, month, outcome": "process=vacation-request&from=2026-06-01&to=2026-06-30&outcome=approve",
    "words: part of a word people wrote": "q=aptop",
    "words: part of a reference": "q=0012345",
    "words: a step's title, with a process": "q=decide vac&process=vacation-request",
    "everything, page 40": "",
}


def time_searches(rt: Any, repeat: int) -> list[tuple[str, float, float, int]]:
    """(name, p50 ms, p95 ms, matches) of each search, page 1 (the last one page 40)."""
    from bpm.runtime import SYSTEM_ACTOR, audit_search

    found = []
    for name, query_string in SEARCHES.items():
        query = audit_search.parse(dict(pair.split("=", 1) for pair in query_string.split("&") if pair))
        page = 40 if name.startswith("everything") else 1
        times, total = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            with rt.uow() as uow:
                _, total = audit_search.search(rt, uow, SYSTEM_ACTOR, query, page, 25)
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        found.append((name, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], total))
    return found


def _export_in_child(url: str, query_string: str, export_format: str, out: Any) -> None:
    """Run one export through the service's generator in this (fresh) process; report rows, bytes, peak RSS."""
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime, audit_export, audit_search

    rt = Runtime.build(Settings(database_url=url), SystemClock())
    query = audit_search.parse(dict(pair.split("=", 1) for pair in query_string.split("&") if pair))
    before = _peak_mb()
    began = time.perf_counter()
    size = lines = 0
    generator = audit_export.csv_lines if export_format == "csv" else audit_export.json_chunks
    for chunk in generator(rt, SYSTEM_ACTOR, query, None):
        size += len(chunk)
        lines += chunk.count(b"\n") if export_format == "csv" else chunk.count(b'"hash":')
    seconds = time.perf_counter() - began
    rt.close()
    out.put((lines, size, seconds, before, _peak_mb()))


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it starts afresh at exec, so a spawned
    child does not inherit its parent's), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_export(url: str, query_string: str, export_format: str) -> tuple[int, int, float, float, float]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_export_in_child, args=(url, query_string, export_format, out))
    child.start()
    result = out.get()
    child.join()
    return result


def report_searches(rt: Any, repeat: int) -> None:
    print(f"\nsearch (page of 25 and its count, {repeat} runs each)        p50        p95   matches")
    for name, p50, p95, matches in time_searches(rt, repeat):
        print(f"  {name:<52} {p50:7.1f} ms {p95:7.1f} ms {matches:>9,}")


def report_exports(url: str, instances: int, entries: int, rows: int) -> None:
    per_instance = max(1, rows // entries)
    wanted = f"from=2026-01-01&to={(NOW + dt.timedelta(days=365 * per_instance / instances)).date()}"
    print(f"\nexport ({wanted}; a fresh process each)")
    for export_format in ("csv", "json"):
        count, size, seconds, rss_before, rss_peak = time_export(url, wanted, export_format)
        print(f"  {export_format:<5} {count:>9,} rows  {size / 1e6:7.1f} MB in {seconds:5.1f} s "
              f"({count / seconds:,.0f} rows/s)   peak memory {rss_peak:.0f} MB (at start {rss_before:.0f} MB)")


def _verify_each(rt: Any, ids: list[str], key: Any) -> list[float]:
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.audit import verify

    times = []
    for instance_id in ids:
        began = time.perf_counter()
        with rt.uow() as uow:
            assert verify(uow, SYSTEM_ACTOR, instance_id, audit_key=key).intact
        times.append((time.perf_counter() - began) * 1000)
    return sorted(times)


def report_verify(rt: Any, ids: list[str], entries: int) -> None:
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.anchors import make_anchor
    from bpm.runtime.audit import audit_public_key, verify

    total = len(ids) * entries
    began = time.perf_counter()
    anchor = make_anchor(rt)
    print(f"\nanchor of {len(anchor.heads) if anchor else 0:,} heads in {time.perf_counter() - began:.1f} s")
    key = audit_public_key(rt.settings.audit_signing_key)
    began = time.perf_counter()
    with rt.uow() as uow:
        found = verify(uow, SYSTEM_ACTOR, audit_key=key)
    seconds = time.perf_counter() - began
    assert found.intact and found.entries >= total, found.broken[:3]
    print(f"verify everything       {total:,} entries in {seconds:.1f} s ({total / seconds:,.0f} entries/s)")
    times = _verify_each(rt, ids[: min(50, len(ids))], key)
    print(f"verify one instance     median {times[len(times) // 2]:.1f} ms   max {times[-1]:.1f} ms "
          f"({entries} entries; its newest anchor is the first one, of every head)")
    moved = ids[:100]
    with rt.uow() as uow:
        for instance_id in moved:
            state = uow.instances.state(instance_id)
            uow.history.append(HistoryEvent(instance_id, entries, rt.now(), "bob", "task_commented", None,
                                            "completed", task_id=str(uuid.uuid4()),
                                            changes={"comment": [None, "checked"]},
                                            instance_started_at=state.started_at if state else None))
        uow.commit()
    began = time.perf_counter()
    anchor = make_anchor(rt)
    print(f"then {len(moved)} instances moved: anchor of {len(anchor.heads) if anchor else 0:,} heads in "
          f"{(time.perf_counter() - began) * 1000:.0f} ms")
    times = _verify_each(rt, moved[:50], key)
    print(f"verify one of them      median {times[len(times) // 2]:.1f} ms   max {times[-1]:.1f} ms")


def main() -> None:
    """Fill, search, export, anchor, verify, print."""
    from dataclasses import replace

    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime
    from bpm.runtime.anchors import new_key

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=20, help="history entries per instance")
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each search")
    parser.add_argument("--export-rows", type=int, default=100_000, help="about how many rows to export")
    args = parser.parse_args()
    with scratch_database() as url:
        began = time.perf_counter()
        ids = fill(url, args.instances, args.entries, args.people)
        print(f"filled: {args.instances:,} instances x {args.entries} entries = {args.instances * args.entries:,} "
              f"chained entries in {time.perf_counter() - began:.0f} s")
        _say_partitions(url)
        rt = Runtime.build(replace(Settings(database_url=url), audit_signing_key=new_key()), SystemClock())
        try:
            report_searches(rt, args.repeat)
            report_exports(url, args.instances, args.entries, args.export_rows)
            report_verify(rt, ids, args.entries)
        finally:
            rt.close()


if __name__ == "__main__":
    main()

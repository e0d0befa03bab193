"""The history at volume: ``python -m bench.audit`` prints how fast the hash chains verify on PostgreSQL.

It fills a scratch database with ``--instances`` instances of ``--entries``
chained history entries each (default 10,000 x 100 = 1,000,000), written by
COPY with hashes computed exactly as the service computes them
(``bpm.store.chain``), then times ``verify`` over everything and over one
instance. (Search and export, the rest of the audit issue, add their figures
here when they land.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid

import orjson
import psycopg

from bench.service import scratch_database
from bpm.store.chain import GENESIS, entry_body, entry_hash

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def fill(url: str, instances: int, entries: int) -> list[str]:
    """Instances with chained histories, by COPY; their ids."""
    from bpm.store.migrate import upgrade

    upgrade(url)
    ids = [str(uuid.uuid4()) for _ in range(instances)]
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO process_definition (id, key, version, status, name, body, checksum, created_by,"
                     " created_at, updated_at) VALUES (1, 'p', 1, 'published', 'P', '{}', 'x', 'a', %s, %s)",
                     (NOW, NOW))
        with conn.cursor().copy("COPY process_instance (id, definition_id, definition_key, definition_version,"
                                " status, snapshot, revision, started_by, started_at, updated_at) FROM STDIN") as copy:
            for instance_id in ids:
                copy.write_row((instance_id, 1, "p", 1, "completed", "{}", entries, "ann", NOW, NOW))
        heads = []
        with conn.cursor().copy("COPY history_entry (instance_id, revision, at, actor, cause, node_id, status,"
                                " snapshot_version, delta, task_id, on_behalf_of, changes, position, prev_hash,"
                                " entry_hash) FROM STDIN") as copy:
            for instance_id in ids:
                prev = GENESIS
                for n in range(1, entries + 1):
                    at = NOW + dt.timedelta(minutes=n)
                    delta = {"appended": {f"step{n}": [{"output": {"amount": n * 1.5, "ok": True}}]}}
                    changes = {"comment": [None, f"note {n}"]} if n % 3 == 0 else None
                    body = entry_body(instance_id, n, prev, at=at, actor="bob", cause="task_completed",
                                      node_id=f"step{n}", status="paused", revision=n, snapshot_version=n,
                                      task_id=None, on_behalf_of=None, delta=delta, changes=changes)
                    digest = entry_hash(body)
                    copy.write_row((instance_id, n, at, "bob", "task_completed", f"step{n}", "paused", n,
                                    orjson.dumps(delta).decode(), None, None,
                                    orjson.dumps(changes).decode() if changes else None, n, prev, digest))
                    prev = digest
                heads.append((instance_id, entries, prev))
        with conn.cursor().copy("COPY audit_chain_head (chain, position, entry_hash) FROM STDIN") as copy:
            for head in heads:
                copy.write_row(head)
    return ids


def main() -> None:
    """Fill, verify, print."""
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.audit import verify

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100, help="history entries per instance")
    args = parser.parse_args()
    with scratch_database() as url:
        began = time.perf_counter()
        ids = fill(url, args.instances, args.entries)
        total = args.instances * args.entries
        print(f"filled: {args.instances:,} instances x {args.entries} entries = {total:,} chained entries in "
              f"{time.perf_counter() - began:.0f} s")
        rt = Runtime.build(Settings(database_url=url), SystemClock())
        try:
            began = time.perf_counter()
            with rt.uow() as uow:
                found = verify(uow, SYSTEM_ACTOR)
            seconds = time.perf_counter() - began
            assert found.intact and found.entries == total, found.broken[:3]
            print(f"verify everything       {total:,} entries in {seconds:.1f} s ({total / seconds:,.0f} entries/s)")
            times = []
            for instance_id in ids[: min(50, len(ids))]:
                began = time.perf_counter()
                with rt.uow() as uow:
                    assert verify(uow, SYSTEM_ACTOR, instance_id).intact
                times.append((time.perf_counter() - began) * 1000)
            times.sort()
            print(f"verify one instance     median {times[len(times) // 2]:.1f} ms   max {times[-1]:.1f} ms "
                  f"({args.entries} entries)")
        finally:
            rt.close()


if __name__ == "__main__":
    main()

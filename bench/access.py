"""What knowing who asks costs: ``python -m bench.access`` prints its figures (PostgreSQL, in process).

- one policy decision (pure: a task completion's rules), in µs;
- a request's identity by each way in: development header, API token,
  session cookie (the same cheap read, ``GET /api/health`` is public, so
  ``GET /api/definitions/<key>`` of a small process stands in), in µs per request;
- a password sign-in (argon2id, by design the slow one), in ms;
- "instances I may read" for an employee over a company's history
  (``--instances`` instances by ``--people`` people, each related to a few),
  against the same list for an auditor, who reads them all, in ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid

import orjson
import psycopg

from bench.service import DEFINITION, scratch_database


def _median_us(action, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def policy_decision_us(repeat: int) -> float:
    """``require`` for a completion by the assignee, four-eyes and distinctFrom in force."""
    from bpm.runtime.actors import Actor
    from bpm.runtime.policy import Action, ApprovalRules, InstanceFacts, TaskFacts, require
    from bpm.store.models import ProcessInstanceRecord, TaskRecord

    task = TaskRecord.model_construct(id="t", assignee="bob", candidate_users=[], candidate_groups=["g"],
                                      status="open", completed_by=None, delegated_by=None)
    instance = ProcessInstanceRecord.model_construct(id="i", started_by="ann", status="paused")
    facts = TaskFacts(task, InstanceFacts(instance, lambda: [task], lambda: False),
                      ApprovalRules(True, frozenset({"ann"}), {"carol": "first"}))
    bob = Actor("bob", frozenset({"employee"}), frozenset({"g"}))
    started = time.perf_counter()
    for _ in range(repeat):
        require(bob, Action.TASK_COMPLETE, facts)
    return (time.perf_counter() - started) / repeat * 1e6


def _fill(url: str, instances: int, people: int) -> None:
    """Instances of the bench process started by ``people`` people; a tenth of them acted on by others."""
    with psycopg.connect(url) as conn:
        definition_id = conn.execute("SELECT id FROM process_definition WHERE key = %s",
                                     (DEFINITION["id"],)).fetchone()[0]
        conn.execute("INSERT INTO bpm_user (username, display_name, roles, active, created_at) "
                     "SELECT 'p' || n, 'p' || n, '[\"employee\"]', true, now() FROM generate_series(0, %s) n",
                     (people - 1,))
        snapshot = orjson.dumps({"workflowId": "", "status": "completed", "currentNodeId": "done", "version": 2,
                                 "context": {}, "lastStartedAt": 0, "totalExecutionTime": 1,
                                 "metadata": {}}).decode()
        now = dt.datetime.now(dt.UTC)
        with conn.cursor().copy("COPY process_instance (id, definition_id, definition_key, definition_version, "
                                "status, snapshot, revision, started_by, started_at, updated_at) FROM STDIN") as copy:
            for n in range(instances):
                copy.write_row((str(uuid.UUID(int=n)), definition_id, DEFINITION["id"], 1, "completed", snapshot, 1,
                                f"p{n % people}", now - dt.timedelta(minutes=n), now))
        with conn.cursor().copy("COPY instance_participant (instance_id, username, since) FROM STDIN") as copy:
            for n in range(0, instances, 10):
                copy.write_row((str(uuid.UUID(int=n)), f"p{(n * 7 + 3) % people}", now))
        conn.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    from bpm.app import create_app
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.accounts import create_token, create_user, sign_in_with_password
    from bpm.runtime.definitions import import_definition
    from bpm.store.migrate import upgrade

    print(f"policy decision (complete, four-eyes and distinctFrom): {policy_decision_us(100_000):.2f} µs")
    with scratch_database() as url:
        upgrade(url)
        app = create_app({"database_url": url, "dev_identity": True, "log_level": "WARNING"})
        rt = app.extensions["bpm"]
        create_user(rt, SYSTEM_ACTOR, "bench", password="bench-password", roles=["employee", "auditor"])
        import_definition(rt, SYSTEM_ACTOR, DEFINITION)  # after its assignee exists: the checks look them up
        token = create_token(rt, SYSTEM_ACTOR, "bench", "bench", ["read", "write"]).text
        client = app.test_client()
        path = f"/api/definitions/{DEFINITION['id']}"
        ways = {"development header": {"X-BPM-User": "bench"}, "API token": {"Authorization": f"Bearer {token}"}}
        for name, headers in ways.items():
            median = _median_us(lambda h=headers: client.get(path, headers=h), args.repeat)
            print(f"identity by {name:<20} {median:8.0f} µs per request")
        browser = app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post("/login", data={"username": "bench", "password": "bench-password", "csrf_token": csrf})
        print(f"identity by {'session cookie':<20} {_median_us(lambda: browser.get(path), args.repeat):8.0f}"
              " µs per request")
        sign_in = _median_us(lambda: sign_in_with_password(rt, "bench", "bench-password", None), 10)
        print(f"password sign-in (argon2id)      {sign_in / 1000:8.1f} ms")

        _fill(url, args.instances, args.people)
        employee = {"X-BPM-User": "p42"}
        auditor = {"X-BPM-User": "bench"}
        for label, headers in (("employee (own and acted on)", employee), ("auditor (all)", auditor)):
            for query in ("", "?status=completed"):
                median = _median_us(lambda h=headers, q=query: client.get(f"/api/instances{q}", headers=h), 30)
                print(f"instances list {query or '(newest first)':<20} {label:<28} {median / 1000:7.2f} ms "
                      f"over {args.instances:,} instances")
        rt.close()


if __name__ == "__main__":
    main()

"""Inbox and list queries at a company's size: ``python -m bench.inbox`` prints their latencies on PostgreSQL.

It fills a scratch database with years of work (by default 2,000 people in
50 groups, 250,000 tasks of which 40 %, 100,000, are open, one instance per task), then
times, through the WSGI app in process, the pages people open all day (one person in ten away this week, with a
substitute who sees their work too, and is timed apart): my
inbox (``scope=available``: assigned to me, or offered to me or my groups
and unclaimed), only mine, only offered, "my requests" (instances I
started) and the same with a status filter; then the same lists as HTML pages, as the htmx fragments a
filter, sort or page change swaps in, a task's page and a decision posted from it. The rows go in by COPY, not
through the runtime: the benchmark is about reading.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
import uuid
from collections.abc import Iterator

import orjson
import psycopg

from bench.service import DEFINITION, prepare, scratch_database

OUTCOMES = orjson.dumps(["approve", "reject"]).decode()
SNAPSHOT = orjson.dumps({"workflowId": "", "status": "completed", "currentNodeId": "done", "version": 3,
                         "context": {}, "lastStartedAt": 0, "totalExecutionTime": 1, "metadata": {}}).decode()


class Company:
    """Who is in which group; group sizes are uneven, as in a real company (a few big teams, many small)."""

    def __init__(self, people: int, groups: int, rng: random.Random) -> None:
        self.people = [f"user{i:05d}" for i in range(people)]
        self.groups = [f"group{i:02d}" for i in range(groups)]
        self.weights = [1 / (rank + 1) for rank in range(groups)]
        self.members: dict[str, list[str]] = {}
        self.by_group: dict[str, list[str]] = {group: [] for group in self.groups}
        for person in self.people:
            self.members[person] = sorted(set(rng.choices(self.groups, self.weights, k=rng.randint(1, 3))))
            for group in self.members[person]:
                self.by_group[group].append(person)

    def group_of_a_task(self, rng: random.Random) -> str:
        """The group a task is offered to: big teams get more."""
        return rng.choices(self.groups, self.weights)[0]


def _task_rows(company: Company, tasks: int, open_share: float, rng: random.Random,
               definition_id: int) -> Iterator[tuple[tuple, tuple, list[tuple]]]:
    """(instance row, task row, candidate rows) per task, spread over three years, oldest first."""
    now = dt.datetime.now(dt.UTC)
    for n in range(tasks):
        created = now - dt.timedelta(days=3 * 365 * (1 - n / tasks), seconds=rng.random() * 3600)
        is_open = rng.random() < open_share * 2 * n / tasks  # open work is recent work
        instance_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
        requester = rng.choice(company.people)
        if rng.random() < 0.5:  # assigned to one person
            assignee, users, groups = rng.choice(company.people), [], []
        else:  # offered to a group (and now and then to two named people as well)
            group = company.group_of_a_task(rng)
            users = rng.sample(company.people, 2) if rng.random() < 0.1 else []
            groups = [group]
            claimed = not is_open or rng.random() < 0.3
            assignee = rng.choice(company.by_group[group] or [requester]) if claimed else None
        status = "open" if is_open else rng.choice(("completed",) * 19 + ("cancelled",))
        done_at = None if is_open else created + dt.timedelta(hours=rng.random() * 48)
        instance = (instance_id, definition_id, DEFINITION["id"], 1, f"REQ-{n}", "paused" if is_open else "completed",
                    "approve" if is_open else None, SNAPSHOT, 2, requester, created, done_at or created, done_at,
                    None if is_open else "approved")
        priority, due_at = rng.choice((20, 50, 50, 80)), created + dt.timedelta(days=2)
        task = (task_id, instance_id, "approve", DEFINITION["id"], f"Approve request {n}", None, assignee,
                orjson.dumps(users).decode(), orjson.dumps(groups).decode(), OUTCOMES, priority, due_at, status,
                1 if is_open else 2, created, None if is_open else assignee, done_at,
                None if is_open else "approve", None)
        # Offers exist while a task is open and unclaimed (bpm.runtime.offers); the task row keeps its candidates.
        urgency = (DEFINITION["id"], priority, due_at, created)
        offered = is_open and assignee is None
        named = [("user", u) for u in users] + [("group", g) for g in groups]
        candidates = [(task_id, kind, name, *urgency) for kind, name in named] if offered else []
        yield instance, task, candidates


INSTANCE_COLUMNS = ("id, definition_id, definition_key, definition_version, business_key, status, current_node_id,"
                    " snapshot, revision, started_by, started_at, updated_at, ended_at, outcome")
TASK_COLUMNS = ("id, instance_id, node_id, definition_key, title, form_id, assignee, candidate_users,"
                " candidate_groups, outcomes, priority, due_at, status, revision, created_at, completed_by,"
                " completed_at, outcome, data")
STATUS_AT = [column.strip() for column in TASK_COLUMNS.split(",")].index("status")  # in a task row


def fill(url: str, company: Company, tasks: int, open_share: float, seed: int) -> int:
    """COPY the company and its work into the database; return how many tasks are open."""
    rng = random.Random(seed)
    opened = 0
    with psycopg.connect(url) as conn:
        definition_id = conn.execute("SELECT id FROM process_definition WHERE key = %s",
                                     (DEFINITION["id"],)).fetchone()[0]
        now = dt.datetime.now(dt.UTC)
        with conn.cursor().copy("COPY bpm_user (username, display_name, roles, active, created_at) FROM STDIN") as cp:
            for person in company.people:
                cp.write_row((person, person.title(), '["employee"]', True, now))
            cp.write_row(("admin", "Admin", '["admin"]', True, now))
        with conn.cursor().copy("COPY bpm_group (name, display_name) FROM STDIN") as cp:
            for group in company.groups:
                cp.write_row((group, group.title()))
        with conn.cursor().copy("COPY membership (username, group_name) FROM STDIN") as cp:
            for person, groups in company.members.items():
                for group in groups:
                    cp.write_row((person, group))
        rows = list(_task_rows(company, tasks, open_share, rng, definition_id))
        with conn.cursor().copy(f"COPY process_instance ({INSTANCE_COLUMNS}) FROM STDIN") as cp:
            for instance, _, _ in rows:
                cp.write_row(instance)
        with conn.cursor().copy(f"COPY task ({TASK_COLUMNS}) FROM STDIN") as cp:
            for _, task, _ in rows:
                cp.write_row(task)
                opened += task[STATUS_AT] == "open"
        with conn.cursor().copy("COPY task_candidate (task_id, kind, name, definition_key, priority, due_at,"
                                " created_at) FROM STDIN") as cp:
            for _, _, candidates in rows:
                for candidate in candidates:
                    cp.write_row(candidate)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return opened


def record_absences(url: str, company: Company, share: float, rng: random.Random) -> dict[str, str]:
    """``share`` of the people away this week, each with a substitute who is not away; {substitute: absent}."""
    away = rng.sample(company.people, int(len(company.people) * share))
    present = sorted(set(company.people) - set(away))
    today, now = dt.date.today(), dt.datetime.now(dt.UTC)
    standing: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        with conn.cursor().copy("COPY absence (id, person, substitute, starts_on, ends_on, processes, existing_tasks,"
                                " created_by, created_at) FROM STDIN") as cp:
            for person in away:
                substitute = rng.choice(present)
                standing[substitute] = person
                cp.write_row((str(uuid.uuid4()), person, substitute, today - dt.timedelta(days=2),
                              today + dt.timedelta(days=5), None, True, person, now))
        conn.commit()
    return standing


def timed(client, path: str, user: str, repeat: int, headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds per GET of ``path`` as ``user``; each answer must be a 200."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path, headers={"X-BPM-User": user, **(headers or {})})
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return times


PAGES = {
    "my inbox (assigned or offered to me)": "/api/tasks?page_size=20",
    "assigned to me": "/api/tasks?scope=mine&page_size=20",
    "offered to me, unclaimed": "/api/tasks?scope=candidate&page_size=20",
    "my requests": "/api/instances?startedBy={user}&page_size=20",
    "my running requests": "/api/instances?startedBy={user}&status=paused&page_size=20",
}
HTML_PAGES = {  # the same work as the people see it: the inbox pages, rendered
    "page: My tasks (HTML)": "/inbox?view=mine",
    "page: Group tasks (HTML)": "/inbox?view=group",
}
HTMX = {"HX-Request": "true", "HX-Target": "results"}
FRAGMENTS = {  # a filter, sort or page change made in the page: the results alone, swapped in by htmx
    "fragment: My tasks, by due date": "/inbox?view=mine&sort=due",
    "fragment: Group tasks, above normal": "/inbox?view=group&priority=raised",
    "fragment: Group tasks, page 2": "/inbox?view=group&page=2",
}
ADMIN_PAGES = {  # what an operator opens now and then, over everything
    "admin: every instance": "/api/instances?page_size=20",
    "admin: instances in error": "/api/instances?status=error&page_size=20",
    "admin: every open task": "/api/tasks?scope=all&page_size=20",
}


def task_pages(client, url: str, users: list[str], repeat: int) -> None:
    """The task page of an open task of each timed person (assigned to them, or offered to their groups)."""
    times = []
    with psycopg.connect(url) as conn:
        for user in users:
            row = conn.execute("SELECT id FROM task WHERE status = 'open' AND assignee = %s LIMIT 1",
                               (user,)).fetchone()
            if row is not None:
                times.extend(timed(client, f"/tasks/{row[0]}", user, repeat))
    cuts = statistics.quantiles(times, n=100)
    print(f"{'page: a task (HTML)':<40} p50 {cuts[49]:6.1f} ms   p95 {cuts[94]:6.1f} ms   max {max(times):6.1f} ms")


def decisions(app, client, count: int) -> None:
    """A decision submitted from the task page's form, answered with the redirect back to the list."""
    from bench.service import USER
    from bpm.runtime.instances import start_instance

    rt = app.extensions["bpm"]
    actor = rt.actor(USER)
    ids = [start_instance(rt, actor, DEFINITION["id"], {"n": n})[1].created_tasks[0].id for n in range(count)]
    times = []
    for task_id in ids:
        began = time.perf_counter()
        response = client.post(f"/tasks/{task_id}", data={"outcome": "approve", "back": "/inbox"},
                               headers={"X-BPM-User": USER})
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
    cuts = statistics.quantiles(times, n=100)
    print(f"{'page: submit a decision (form post)':<40} p50 {cuts[49]:6.1f} ms   p95 {cuts[94]:6.1f} ms   "
          f"max {max(times):6.1f} ms")


def main() -> None:
    """Fill, measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=250_000)
    parser.add_argument("--open-share", type=float, default=0.4)
    parser.add_argument("--users", type=int, default=40, help="people whose pages are timed")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page and person")
    parser.add_argument("--away-share", type=float, default=0.1, help="people away this week, with a substitute")
    args = parser.parse_args()

    from bpm.app import create_app

    company = Company(args.people, args.groups, random.Random(1))
    with scratch_database() as url:
        prepare(url)
        began = time.perf_counter()
        opened = fill(url, company, args.tasks, args.open_share, seed=2)
        print(f"filled: {args.people:,} people in {args.groups} groups, {args.tasks:,} tasks and instances "
              f"({opened:,} open) in {time.perf_counter() - began:.0f} s")
        standing = record_absences(url, company, args.away_share, random.Random(4))
        print(f"away this week: {int(args.people * args.away_share):,} people of {args.people:,} "
              f"({args.away_share:.0%}), each with a substitute who is here ({len(standing):,} substitutes)")
        biggest = company.groups[0]
        with psycopg.connect(url) as conn:
            waiting = conn.execute("SELECT count(*) FROM task_candidate WHERE kind = 'group' AND name = %s",
                                   (biggest,)).fetchone()[0]
        print(f"biggest group: {len(company.by_group[biggest]):,} people, {waiting:,} unclaimed tasks offered to it;"
              f" timed: {args.users // 2} of its people and {args.users // 2} people at random")
        app = create_app({"database_url": url, "dev_identity": True})
        client = app.test_client()
        # The biggest group's members see the most offered work: time them and a random sample.
        users = (company.by_group[biggest][:args.users // 2]
                 + random.Random(3).sample(company.people, args.users // 2))
        for user in users[:3]:  # warm up: actor cache, connection pool
            timed(client, "/api/tasks", user, 1)
        for label, page in PAGES.items():
            times = [t for user in users for t in timed(client, page.format(user=user), user, args.repeat)]
            cuts = statistics.quantiles(times, n=100)
            print(f"{label:<40} p50 {cuts[49]:6.1f} ms   p95 {cuts[94]:6.1f} ms   max {max(times):6.1f} ms")
        for label, page in [*HTML_PAGES.items(), *FRAGMENTS.items()]:
            headers = HTMX if label.startswith("fragment") else None
            times = [t for user in users for t in timed(client, page, user, args.repeat, headers)]
            cuts = statistics.quantiles(times, n=100)
            print(f"{label:<40} p50 {cuts[49]:6.1f} ms   p95 {cuts[94]:6.1f} ms   max {max(times):6.1f} ms")
        # The same inbox for people who stand in for someone away: their own work and the absent person's.
        substitutes = random.Random(5).sample(sorted(standing), min(args.users, len(standing)))
        for label, page in [("standing in: my inbox", PAGES["my inbox (assigned or offered to me)"]),
                            ("standing in: My tasks (HTML)", HTML_PAGES["page: My tasks (HTML)"]),
                            ("standing in: Group tasks (HTML)", HTML_PAGES["page: Group tasks (HTML)"])]:
            times = [t for user in substitutes for t in timed(client, page, user, args.repeat)]
            cuts = statistics.quantiles(times, n=100)
            print(f"{label:<40} p50 {cuts[49]:6.1f} ms   p95 {cuts[94]:6.1f} ms   max {max(times):6.1f} ms")
        task_pages(client, url, users, args.repeat)
        decisions(app, client, max(args.repeat * 4, 10))
        for label, page in ADMIN_PAGES.items():
            times = timed(client, page, "admin", args.repeat * 4)
            print(f"{label:<40} p50 {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")
        app.extensions["bpm"].close()


if __name__ == "__main__":
    main()

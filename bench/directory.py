"""The pickers' source: ``python -m bench.directory [--database sqlite|postgresql]`` prints p50/p95 in ms of
``GET /api/people?q=`` and ``GET /api/groups?q=`` over 2,000 people in 40 groups (a few letters each time,
first page), in process. Target (issue 22): p95 under 20 ms."""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench.service import scratch_database

SYLLABLES = ("an", "be", "ca", "da", "el", "fi", "go", "ha", "in", "jo", "ka", "li", "mo", "ne", "ol", "pa", "ri",
             "sa", "to", "ul", "vi", "wa", "ye", "zo")


def _fill(url: str, people: int) -> None:
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime
    from bpm.store.migrate import upgrade
    from bpm.store.models import Group, Membership, User

    upgrade(url)
    rt = Runtime.build(Settings(database_url=url), SystemClock())
    pick = random.Random(7)
    with rt.uow() as uow:
        for g in range(40):
            uow.session.add(Group(name=f"team-{g}", display_name=f"Team {g} {pick.choice(SYLLABLES)}"))
        uow.session.flush()
        for i in range(people):
            name = "".join(pick.choice(SYLLABLES) for _ in range(3)) + str(i)
            uow.session.add(User(username=name, display_name=name.title() + " " + pick.choice(SYLLABLES).title(),
                                 email=f"{name}@example.com", roles=["employee"], created_at=rt.now()))
            uow.session.flush()
            uow.session.add(Membership(username=name, group_name=f"team-{i % 40}"))
        uow.commit()
    rt.close()


def _times(client, path_of, repeat: int) -> tuple[float, float]:
    samples = []
    for i in range(repeat):
        began = time.perf_counter()
        answer = client.get(path_of(i), headers={"X-BPM-User": "zz-reader"})
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory() if args.database == "sqlite" else None
    where = scratch_database() if scratch is None else nullcontext(f"sqlite:///{Path(scratch.name) / 'd.db'}")
    with where as url:
        _fill(url, args.people)
        from bpm.app import create_app
        from bpm.runtime import SYSTEM_ACTOR
        from bpm.runtime.accounts import create_user

        app = create_app({"database_url": url, "dev_identity": True, "log_level": "WARNING"})
        create_user(app.extensions["bpm"], SYSTEM_ACTOR, "zz-reader", roles=["employee"])
        client = app.test_client()
        letters = [a + b[0] for a in SYLLABLES for b in SYLLABLES]
        print(f"{args.people:,} people in 40 groups, {args.database}")
        for what, path_of in (("people ?q=<3 letters>", lambda i: f"/api/people?q={letters[i % len(letters)]}"),
                              ("people ?q=<2 letters>", lambda i: f"/api/people?q={SYLLABLES[i % 24]}"),
                              ("groups ?q=<2 letters>", lambda i: f"/api/groups?q={SYLLABLES[i % 24]}")):
            _times(client, path_of, 20)  # warm
            p50, p95 = _times(client, path_of, args.repeat)
            print(f"{what:<24} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        app.extensions["bpm"].close()
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()

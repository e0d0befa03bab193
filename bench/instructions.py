"""Instructions per start, completion and approval, counted by Valgrind: ``python -m bench.instructions``.

On this shared 2-core VM the CPU time of the same code moves by a factor of
two within minutes (issue 25), so a change worth 5 % cannot be seen in
seconds measured, even alternating (a sitting kept a change on such a
measurement that was the machine's drift). Valgrind's cachegrind counts the
instructions a process executes instead, which the machine's other load
hardly moves: three counts of 200 approvals of the same code gave 5.21-5.23
million instructions each (within 0.2 %); four counts of 100, in two checkouts
on two databases, 2.66-2.75 million per start and 5.15-5.24 million per
approval. A completion is an approval less a start, so it carries the noise of
both: count more actions (the default, 300) to compare completions. What
still varies: how often the driver looks for an answer that has not come yet,
and caches that expire by the clock.

Each figure is the difference of two runs of the same script — warm-up only,
then warm-up and N more actions — so interpreter start-up, imports, the app's
creation and the caches' first fill cancel out. What it counts is the measured
process's user-space instructions only: not the kernel's work for its sockets,
nor PostgreSQL's (``bench.service`` reads those from /proc), and an
instruction is not a nanosecond (cache misses cost more). It is the figure to
compare a change to the runtime or the HTTP stack by: ``--against REV`` counts
a git revision's code the same way beside this tree's (bench.against).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.against import HERE, in_tree, source_tree
from bench.service import scratch_database

# Runs inside the tree being counted (this one or --against's), so it uses only what every revision of the
# service has: create_app, the runtime's start_instance/complete_task, bench.service's process and user.
CHILD = r"""
import io, sys
import orjson
from bench.service import DEFINITION, USER
from bpm.app import create_app
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import complete_task

mode, count = sys.argv[1], int(sys.argv[2])
app = create_app()
rt = app.extensions["bpm"]
actor = rt.actor(USER)

def post(path, body):
    data, status = orjson.dumps(body), []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_HOST": "127.0.0.1:5000", "HTTP_X_BPM_USER": USER, "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http",
               "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
               "wsgi.run_once": False, "wsgi.version": (1, 0), "wsgi.input_terminated": True}
    answer = app(environ, lambda s, h, e=None: status.append(s))
    body = b"".join(answer)
    getattr(answer, "close", lambda: None)()
    assert status[0].startswith("2"), (path, status, body[:300])
    return orjson.loads(body)

def start(n):
    return start_instance(rt, actor, DEFINITION["id"], {"n": n})[1].created_tasks[0].id

def approval(n):
    complete_task(rt, actor, start(n), "approve", {})

def through_app(n):
    started = post("/api/instances", {"definition": DEFINITION["id"], "payload": {"n": n}})
    assert post(f"/api/tasks/{started['openTasks'][0]['id']}/complete", {"outcome": "approve"})["status"] == "completed"

one = {"start": start, "approval": approval, "app": through_app}[mode]
for n in range(20):
    approval(n)
    through_app(n)
for n in range(count):
    one(n)
rt.close()
"""
MODES = ("start", "approval", "app")


def count_instructions(root: Path, url: str, mode: str, count: int) -> int:
    """Instructions executed by a process of ``root``'s code that warms up and then does ``count`` of ``mode``."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0", "BPM_DATABASE_URL": url,
           "BPM_DEV_IDENTITY": "1", "BPM_LOG_LEVEL": "WARNING",
           "BPM_ENGINE_SLICE_MS": "600000"}  # (under Valgrind a step is ~50 times slower: no slicing)
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-c", CHILD, mode, str(count)],
                          cwd=root, env=env, capture_output=True, text=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{mode} x {count} in {root} failed: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_action(root: Path, url: str, count: int, pool: ThreadPoolExecutor) -> dict[str, float]:
    """Instructions per start, per completion, per approval in the runtime alone, and per approval through the
    app, for ``root``'s code."""
    runs = {(mode, n): pool.submit(count_instructions, root, url, mode, n) for mode in MODES for n in (0, count)}
    each = {mode: (runs[mode, count].result() - runs[mode, 0].result()) / count for mode in MODES}
    return {"start (runtime alone)": each["start"],
            "completion (runtime alone)": each["approval"] - each["start"],
            "approval (runtime alone)": each["approval"],
            "approval through the app": each["app"],
            "the app's HTTP stack, per approval": each["app"] - each["approval"]}


def trees(revision: str | None, stack: ExitStack) -> Iterator[tuple[str, Path]]:
    """The trees to count: --against's revision first, then this one."""
    if revision:
        yield "before", stack.enter_context(source_tree(revision))
    yield "after" if revision else "this tree", HERE


def main() -> None:
    """Count and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=300, help="actions of each kind counted (after warm-up)")
    parser.add_argument("--against", metavar="REV", help="count git revision REV's code too, before/after")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench.instructions needs Valgrind (Debian: apt-get install valgrind)")
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        counted: dict[str, dict[str, float]] = {}
        for name, root in trees(args.against, stack):
            url = stack.enter_context(scratch_database())
            in_tree(root, f"from bench.service import prepare; prepare({url!r})")
            counted[name] = per_action(root, url, args.actions, pool)
    print(f"instructions per action (Valgrind; the measured process's user space only; {args.actions} of each "
          "after warm-up, the difference of two runs):")
    names = list(counted)
    print(f"  {'':<36}" + "".join(f"{name:>16}" for name in names) + ("      change" if len(names) == 2 else ""))
    for figure in counted[names[0]]:
        values = [counted[name][figure] for name in names]
        change = f"{(values[1] - values[0]) / values[0]:+11.1%}" if len(values) == 2 else ""
        print(f"  {figure:<36}" + "".join(f"{value:16,.0f}" for value in values) + change)


if __name__ == "__main__":
    main()

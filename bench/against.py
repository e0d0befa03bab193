"""Before and after on one machine: ``python -m bench.service --against REV`` runs this tree and revision REV in turn.

On this shared 2-core VM the same code measures 309-458 processes/s within
one hour (issue 25), so a change's effect is only seen when the two versions
take turns under the same load, each beside a floor measured in the same
round. This module does what earlier sessions did by hand with a second
checkout: REV's files come out of git (``git archive``) into a scratch
directory, each side migrates its own scratch database with its own code and
serves it with its own ``bpm serve``, and the rounds alternate which side goes
first. The load client, the floor and the Python environment are this tree's,
so only the service's code differs (a revision that needs other packages
needs them installed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.service import Level, drive, measure_level, scratch_database, server

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Side:
    """One version of the service under comparison, and what its rounds measured."""

    name: str
    root: Path
    url: str = ""
    rates: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    p95s: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    database_cpu: list[float] = field(default_factory=list)
    runtime_cpu: list[tuple[float, float]] = field(default_factory=list)


@contextmanager
def source_tree(revision: str) -> Iterator[Path]:
    """The files of ``revision`` of this repository in a scratch directory, removed afterwards."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=HERE,
                            capture_output=True, text=True)
    if commit.returncode != 0:
        raise SystemExit(f"--against: {revision!r} is not a commit of this repository")
    with tempfile.TemporaryDirectory(prefix="bpm-against-") as scratch:
        archive = Path(scratch) / "tree.tar"
        subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), commit.stdout.strip()], cwd=HERE,
                       check=True)
        root = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        archive.unlink()
        yield root


def in_tree(root: Path, code: str) -> str:
    """Run ``code`` with ``root``'s packages (bpm, bench) first on the path; what it printed."""
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"in {root}: {code!r} failed: {done.stderr[-2000:]}")
    return done.stdout


def _measure(side: Side, args: argparse.Namespace, floor: Level) -> None:
    """One round of ``side``: its runtime alone in-process, then its server under the load."""
    start_ms, complete_ms = json.loads(in_tree(side.root, "import json; from bench.service import runtime_cpu; "
                                                          f"print(json.dumps(runtime_cpu({side.url!r}, 300)))"))
    side.runtime_cpu.append((start_ms, complete_ms))
    with server(side.url, args.port, args.workers, args.threads, root=side.root) as server_pid:
        drive(args.port, 2, 1.0)  # warm up: engine cache, connection pools
        measured = measure_level(server_pid, args.port, args.clients[-1], args.seconds)
    side.rates.append(measured.level.rate)
    side.shares.append(measured.level.rate / floor.rate)
    side.p95s.append(measured.percentile_ms(95))
    side.server_cpu.append(measured.level.server_ms)
    side.database_cpu.append(measured.level.database_ms)
    print(f"  {side.name:<8} {side.rates[-1]:7.1f}/s {side.shares[-1]:5.0%} of the floor   p95 {side.p95s[-1]:6.1f} ms"
          f"   CPU per process: server {side.server_cpu[-1]:.2f} ms, PostgreSQL {side.database_cpu[-1]:.2f} ms"
          f"   runtime alone: start {start_ms:.2f} ms, completion {complete_ms:.2f} ms", flush=True)


def compare(args: argparse.Namespace) -> None:
    """Alternate this tree and ``args.against`` for ``args.rounds`` rounds at the largest number of clients."""
    from bench.http_floor import floor_rates

    clients = args.clients[-1]
    with ExitStack() as stack:
        before = Side("before", stack.enter_context(source_tree(args.against)))
        after = Side("after", HERE)
        for side in (before, after):
            side.url = stack.enter_context(scratch_database())
            in_tree(side.root, f"from bench.service import prepare; prepare({side.url!r})")
        print(f"before: {args.against}; after: this tree ({HERE}); {clients} clients, {args.seconds:g} s a side, "
              f"{args.rounds} rounds, the floor measured in each")
        for number in range(args.rounds):
            floor = floor_rates([clients], args.seconds, args.port + 1, args.workers, args.threads)[clients]
            print(f"round {number + 1}: floor {floor.rate:.1f} processes/s   CPU per process: server "
                  f"{floor.server_ms:.2f} ms, PostgreSQL {floor.database_ms:.2f} ms", flush=True)
            for side in (before, after) if number % 2 == 0 else (after, before):
                _measure(side, args, floor)
        print(f"medians of {args.rounds} rounds:")
        for side in (before, after):
            print(f"  {side.name:<8} {statistics.median(side.rates):7.1f}/s "
                  f"{statistics.median(side.shares):5.0%} of the floor   p95 {statistics.median(side.p95s):6.1f} ms"
                  f"   CPU per process: server {statistics.median(side.server_cpu):.2f} ms, PostgreSQL "
                  f"{statistics.median(side.database_cpu):.2f} ms   runtime alone: start "
                  f"{statistics.median(s for s, _ in side.runtime_cpu):.2f} ms, completion "
                  f"{statistics.median(c for _, c in side.runtime_cpu):.2f} ms")
        lower = sum(a < b for a, b in zip(after.server_cpu, before.server_cpu, strict=True))
        print(f"after's server CPU per process was the lower in {lower} of {args.rounds} rounds")

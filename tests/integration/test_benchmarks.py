"""Every benchmark still runs and prints its figures, on a tiny scale (the figures themselves are not judged here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from ..conftest import PG_ADMIN_URL, REPO, _postgres_available

needs_postgres = pytest.mark.skipif(not _postgres_available(), reason="the service benchmarks run on PostgreSQL")


def _free_port_pair() -> int:
    """A port whose successor is free too (bench.service puts the floor one port up)."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two neighbouring free ports")


def _bench(*args: str, timeout: float = 240) -> str:
    env = {**os.environ, "BPM_BENCH_DATABASE_URL": PG_ADMIN_URL}
    done = subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_the_engine_benchmark_prints_each_scenario():
    out = _bench("bench.engine", "--seconds", "0.02")
    for scenario in ("(a) linear chain", "(b)", "(c) pause -> JSON round trip -> resume", "(d) node data"):
        assert scenario in out, out


@needs_postgres
def test_the_service_benchmark_drives_the_real_server_and_the_floor():
    port = _free_port_pair()
    out = _bench("bench.service", "--seconds", "0.3", "--clients", "2", "--port", str(port))
    assert re.search(r"runtime CPU per action .* start_instance [\d.]+ ms, complete_task [\d.]+ ms", out), out
    assert re.search(r" 2 clients: +[\d.]+ approval processes/s +task completion p50 +[\d.]+ ms +p95", out), out
    assert re.search(r"CPU per process: server [\d.]+ ms, PostgreSQL [\d.]+ ms, load client [\d.]+ ms", out), out
    assert re.search(r"floor .* 2 clients: +[\d.]+ processes/s; bpm serve reaches \d+% of it", out), out
    assert re.search(r"CPU per process: floor server [\d.]+ ms, PostgreSQL [\d.]+ ms; bpm serve spends [+-][\d.]+ ms "
                     r"in its server and [+-][\d.]+ ms in PostgreSQL beyond them", out), out


@needs_postgres
def test_the_service_benchmark_compares_this_tree_with_a_revision_in_turn():
    port = _free_port_pair()
    out = _bench("bench.service", "--against", "HEAD", "--seconds", "0.3", "--clients", "2", "--rounds", "2",
                 "--port", str(port))
    assert re.search(r"round 1: floor [\d.]+ processes/s +CPU per process: server [\d.]+ ms, PostgreSQL [\d.]+ ms\n"
                     r"  before .*\n  after ", out), out
    assert re.search(r"round 2: floor [\d.]+ processes/s .*\n  after .*\n  before ", out), out  # taking turns
    for side in ("before", "after"):
        assert re.search(rf"  {side} +[\d.]+/s +\d+% of the floor +p95 +[\d.]+ ms +CPU per process: server [\d.]+ ms, "
                         r"PostgreSQL [\d.]+ ms +runtime alone: start [\d.]+ ms, completion [\d.]+ ms", out), out
    assert re.search(r"after's server CPU per process was the lower in \d of 2 rounds", out), out


def test_the_service_benchmark_refuses_a_revision_that_is_not_one():
    done = subprocess.run([sys.executable, "-m", "bench.service", "--against", "no-such-revision"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "'no-such-revision' is not a commit of this repository" in done.stderr, done


@needs_postgres
@pytest.mark.skipif(shutil.which("valgrind") is None and not os.environ.get("BPM_REQUIRE_VALGRIND"),
                    reason="bench.instructions counts with Valgrind (.ci/run installs it)")
def test_the_instructions_benchmark_counts_each_action_by_difference():
    out = _bench("bench.instructions", "--actions", "2", timeout=900)  # six runs under Valgrind, two at a time
    for figure in ("start (runtime alone)", "completion (runtime alone)", "approval (runtime alone)",
                   "approval through the app", "the app's HTTP stack, per approval"):
        assert re.search(rf"  {re.escape(figure)} +-?[\d,]+\n", out), (figure, out)


@needs_postgres
def test_the_stack_benchmark_splits_an_approval_between_runtime_and_http_stack():
    out = _bench("bench.stack", "--processes", "3", "--rounds", "2")
    for way in ("runtime alone", "bare Flask", "the app"):
        assert re.search(rf"{way}\s+\d+\.\d+ ms", out), out
    assert "the app's HTTP stack:" in out, out


def test_the_inbox_benchmark_fills_a_company_and_times_its_pages():
    out = _bench("bench.inbox", "--people", "60", "--groups", "4", "--tasks", "3000", "--users", "4", "--repeat", "1")
    assert re.search(r"filled: 60 people in 4 groups, 3,000 tasks and instances \([\d,]+ open\)", out), out
    for page in ("my inbox", "assigned to me", "offered to me, unclaimed", "my requests", "my running requests",
                 "admin: every instance", "admin: instances in error", "admin: every open task",
                 "page: My tasks (HTML)", "page: Group tasks (HTML)", "page: a task (HTML)",
                 "page: submit a decision (form post)", "fragment: My tasks, by due date",
                 "fragment: Group tasks, above normal", "fragment: Group tasks, page 2"):
        assert re.search(rf"{re.escape(page)}.* p50 +[\d.]+ ms", out), (page, out)


@needs_postgres
def test_the_access_benchmark_times_the_policy_the_ways_in_and_the_scoped_lists():
    out = _bench("bench.access", "--instances", "2000", "--people", "50", "--repeat", "3")
    assert re.search(r"policy decision .*: [\d.]+ µs", out), out
    for way in ("development header", "API token", "session cookie"):
        assert re.search(rf"identity by {way} +\d+ µs per request", out), (way, out)
    assert re.search(r"password sign-in \(argon2id\) +[\d.]+ ms", out), out
    assert len(re.findall(r"instances list .* [\d.]+ ms over 2,000 instances", out)) == 4, out


@needs_postgres
def test_the_timers_benchmark_fires_every_timer_once_with_two_workers_and_mails_each():
    out = _bench("bench.timers", "--timers", "60", "--spread", "2", "--wake", "10")
    assert re.search(r"fire lag +p50 +[\d.]+ s +p99 +[\d.]+ s", out), out
    assert "duplicates              0" in out and "misses                  0" in out, out
    assert re.search(r"e-mails delivered +60 \(60 marked sent\)", out), out
    assert re.search(r"due at once, fired +p50 +\d+ ms +p95 +\d+ ms .*\(10 timers\)", out), out


@needs_postgres
def test_the_mail_benchmark_delivers_every_message_once_through_hang_ups():
    out = _bench("bench.mail", "--messages", "120", "--drop-every", "5")
    assert re.search(r"mails delivered +120 of 120 in [\d.]+ s \([\d,]+/s", out), out
    assert re.search(r"hang-ups +[1-9]", out) and "duplicates              0" in out, out
    assert re.search(r"lost +0 +outbox: \{'sent': 120\}", out), out


@needs_postgres
def test_the_load_benchmark_runs_a_working_day_through_two_servers_and_two_workers():
    port = _free_port_pair()
    out = _bench("bench.load", "--instances", "2000", "--open", "200", "--people", "60", "--users", "3",
                 "--minutes", "0.1", "--warm-up", "2", "--timer-seconds", "1", "--port", str(port))
    for action in ("start an approval", "claim its task", "complete it", "page: Group tasks", "page: My requests",
                   "audit: search a word", "start a timer request"):
        assert re.search(rf"{re.escape(action)} +[\d,]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +0$", out, re.M), out
    assert re.search(r"memory, workers: \d+ MB after warm-up, \d+ MB at half time, \d+ MB at the end "
                     r"\([+-][\d.]+%; second half [+-][\d.]+%\)", out), out
    assert re.search(r"timers fired: [\d,]+, fire lag p50", out) and "history_entry" in out, out


@needs_postgres
def test_the_audit_benchmark_fills_chained_history_and_verifies_it():
    out = _bench("bench.audit", "--instances", "30", "--entries", "10", "--repeat", "2", "--export-rows", "100")
    assert "filled: 30 instances x 10 entries = 300 chained entries" in out, out
    assert re.search(r"amount at least 4,000 \(form data\) +[\d.]+ ms +[\d.]+ ms +\d+", out), out
    assert re.search(r"csv +[\d,]+ rows .* rows/s\) +peak memory \d+ MB", out), out
    assert re.search(r"json +[\d,]+ rows .* rows/s\) +peak memory \d+ MB", out), out
    assert re.search(r"verify everything +300 entries in [\d.]+ s \([\d,]+ entries/s\)", out), out
    assert re.search(r"verify one instance +median [\d.]+ ms", out), out

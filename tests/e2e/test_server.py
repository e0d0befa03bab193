"""The real servers: `bpm run` (the newcomer's command) and `bpm serve` (granian), over real HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from ..conftest import EXPENSE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: dict | None = None, user: str = "ann"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"X-BPM-User": user, "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


@pytest.fixture
def start_server(tmp_path):
    processes = []

    def start(*args: str, **env: str) -> int:
        port = _free_port()
        environment = {**os.environ, "BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
                       "BPM_PORT": str(port), **env}
        process = subprocess.Popen([sys.executable, "-m", "bpm.cli", *args], env=environment, cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _request(port, "GET", "/api/health")[0] == 200:
                    return port
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise AssertionError(f"server did not start: {process.stdout.read()}")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


def test_bpm_run_serves_the_demo_with_migrations_applied(start_server, tmp_path):
    port = start_server("run")
    status, body = _request(port, "POST", "/api/instances", {"definition": "expense-approval", "payload": EXPENSE})
    assert status == 201, body
    task = json.loads(body)["openTasks"][0]
    status, body = _request(port, "POST", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"}, user="bob")
    assert status == 200 and json.loads(body)["status"] == "completed"
    status, page = _request(port, "GET", "/api/docs")
    assert status == 200 and b"/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert _request(port, "GET", "/static/vendor/swagger-ui/swagger-ui-bundle.js")[0] == 200
    assert (tmp_path / "server.db").exists()


def test_bpm_serve_runs_granian_on_a_migrated_database(start_server, tmp_path):
    from click.testing import CliRunner

    from bpm.cli import main

    env = {"BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    port = start_server("serve", BPM_WORKERS="1")
    status, body = _request(port, "GET", "/api/definitions")
    assert status == 401, "production mode trusts no identity header"
    assert json.loads(body)["code"] == 401


def test_bpm_serve_signs_in_a_user_made_with_bpm_users_create_by_page_and_by_token(start_server, tmp_path):
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from click.testing import CliRunner

    from bpm.cli import main

    env = {"BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    made = runner.invoke(main, ["users", "create", "boss", "--role", "admin", "--password-stdin"],
                         input="a long secret\n", env=env)
    assert made.exit_code == 0, made.output
    issued = runner.invoke(main, ["tokens", "create", "boss", "--scope", "read"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[0]
    port = start_server("serve", BPM_WORKERS="1")
    base = f"http://127.0.0.1:{port}"

    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = browser.open(f"{base}/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": "boss", "password": "a long secret", "csrf_token": csrf,
                                   "next": "/"}).encode()
    home = browser.open(f"{base}/login", data=data)
    assert home.status == 200 and '<span class="person">boss</span>' in home.read().decode()
    assert json.loads(browser.open(f"{base}/api/tasks?scope=all").read()) == []

    with_token = urllib.request.Request(f"{base}/api/tasks?scope=all", headers={
        "Authorization": f"Bearer {token}", "X-BPM-User": "nobody"})
    assert json.loads(urllib.request.urlopen(with_token).read()) == [], "the token counts, the header is ignored"
    status, _ = _request(port, "GET", "/api/tasks", user="boss")
    assert status == 401, "X-BPM-User names nobody without BPM_DEV_IDENTITY=1"


def test_bpm_serve_with_two_workers_runs_a_process_and_enforces_the_body_limit(start_server, tmp_path):
    from click.testing import CliRunner

    from bpm.app import create_app
    from bpm.cli import main
    from bpm.runtime.demo import load_demo

    env = {"BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    app = create_app({"database_url": env["BPM_DATABASE_URL"]})
    load_demo(app.extensions["bpm"])  # people and the example processes
    app.extensions["bpm"].close()
    port = start_server("serve", BPM_WORKERS="2", BPM_THREADS="2", BPM_DEV_IDENTITY="1")
    for _ in range(4):  # keep-alive-less requests land on both workers
        status, body = _request(port, "POST", "/api/instances", {"definition": "expense-approval",
                                                                  "payload": EXPENSE})
        assert status == 201, body
        task = json.loads(body)["openTasks"][0]
        status, body = _request(port, "POST", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"},
                                user="bob")
        assert status == 200 and json.loads(body)["status"] == "completed", body
    # A sized oversized body: the server answers 413 from the headers alone and closes, so a client that sent
    # the 2 MB blindly may get a broken pipe first. Real clients ask first (Expect: 100-continue); so does this.
    huge = json.dumps({"definition": "expense-approval", "payload": {**EXPENSE, "description": "x" * 2_000_000}})
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/instances HTTP/1.1\r\nHost: x\r\nX-BPM-User: ann\r\nContent-Type: application/json"
                     b"\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % len(huge))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(body)["code"] == 413
    # An oversized body sent chunked (no Content-Length), as streaming clients do; only a little over the
    # limit, so what the server leaves unread fits in the socket buffers and the answer can be read.
    data = json.dumps({"definition": "expense-approval", "payload": {"description": "x" * 1_050_000}}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 65536]), data[i:i + 65536])
                      for i in range(0, len(data), 65536))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/instances HTTP/1.1\r\nHost: x\r\nX-BPM-User: ann\r\nContent-Type: application/json"
                     b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_bpm_run_advances_a_vacation_whose_timer_is_already_due_by_itself(start_server):
    port = start_server("run")
    today = dt.datetime.now(dt.UTC).date()  # the server's own clock: a leave from today, whose eve timer is due
    leave = {"employee": "ann", "manager": "bob", "firstDay": today.isoformat(),
             "lastDay": (today + dt.timedelta(days=4)).isoformat()}
    status, body = _request(port, "POST", "/api/instances", {"definition": "vacation-request", "payload": leave})
    assert status == 201, body
    instance = json.loads(body)
    task = instance["openTasks"][0]
    status, body = _request(port, "POST", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"}, user="bob")
    assert status == 200, body
    deadline = time.monotonic() + 15  # the embedded worker looks every second
    while time.monotonic() < deadline:
        found = json.loads(_request(port, "GET", f"/api/instances/{instance['id']}")[1])
        if found["status"] == "completed":
            break
        time.sleep(0.2)
    assert found["status"] == "completed" and found["outcome"] == "approved", found
    history = json.loads(_request(port, "GET", f"/api/instances/{instance['id']}/history")[1])
    assert [h["actor"] for h in history if h["cause"] == "timer_fired"] == ["system:timer"]

"""A built wheel runs the service on its own: templates, migrations, forms and the rest travel inside it.

Built for real (``pip wheel``), installed into a fresh virtual environment
outside the checkout (its dependencies borrowed from this one, not
downloaded), and started as ``bpm run`` from an empty folder: a person signs
in and opens the inbox.
"""

from __future__ import annotations

import os
import re
import site
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from ..conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = out.glob("refluxo_bpm-*.whl")
    return found


def test_the_wheel_carries_the_shipped_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("bpm/_bundled/templates/inbox.html", "bpm/_bundled/templates/email/notice.txt",
                   "bpm/_bundled/migrations/env.py", "bpm/_bundled/migrations/versions/0001_initial_schema.py",
                   "bpm/_bundled/forms/expense-request.json", "bpm/_bundled/processes/expense-approval.json",
                   "bpm/web/static/app.css"):
        assert needed in names, needed
    assert not any("__pycache__" in name for name in names)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_installed_wheel_serves_the_inbox_from_an_empty_folder(wheel, tmp_path):
    # Nothing of the caller's may point back at a checkout: no BPM_* settings, no PYTHONPATH (through which pip
    # would also find the checkout's metadata and call the package installed already).
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPM_") and k != "PYTHONPATH"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=env)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                               capture_output=True, text=True, timeout=300, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    own_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True, env=env).stdout.strip()
    # Dependencies come from this environment; the package itself only from the wheel (no .pth of ours is read).
    Path(own_site, "borrowed_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(python), "-c", "import bpm, bpm.resources as r; print(bpm.__file__); "
                            "print(r.shipped('templates'))"], cwd=empty, env=env, capture_output=True, text=True,
                           check=True)
    package, templates = where.stdout.split()
    assert package.startswith(own_site) and "_bundled" in templates, where.stdout
    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "bpm"), "run", "--port", str(port), "--no-worker"], cwd=empty,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        session = requests.Session()
        login = session.get(f"{base}/login", timeout=10)
        assert login.status_code == 200 and "Sign in" in login.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        signed_in = session.post(f"{base}/login", data={"username": "ann", "password": "ann-demo",
                                                          "csrf_token": token}, timeout=10)
        assert signed_in.status_code == 200 and signed_in.url.endswith("/inbox"), signed_in.url
        assert "My tasks" in signed_in.text
        assert (empty / "bpm.db").exists(), "the embedded default: SQLite in the folder it runs in"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output[-3000:]

"""A real PgBouncer (Debian's package) in transaction mode in front of a PostgreSQL database, for as long as needed:
for the tests (tests/integration/test_pgbouncer.py) and ``python -m bench.service --pgbouncer``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def available() -> bool:
    return Path(PGBOUNCER).exists()


@contextmanager
def pgbouncer(database_url: str, pool_size: int = 3) -> Iterator[str]:
    """PgBouncer pooling ``database_url`` per transaction over at most ``pool_size`` server connections; yields
    the URL that goes through it. It refuses to run as root, so as root it runs as ``postgres``."""
    target = urlsplit(database_url)
    folder = Path(tempfile.mkdtemp(prefix="bpm-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    name = target.path.lstrip("/")
    (folder / "pgbouncer.ini").write_text(f"""
[databases]
{name} = host={target.hostname} port={target.port or 5432} dbname={name} user={target.username or 'postgres'}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise RuntimeError(f"pgbouncer did not start: {process.stdout.read() if process.stdout else ''}"
                                       f"{log.read_text() if log.exists() else ''}") from None
                time.sleep(0.05)  # (a process starting, not time under test)
        yield f"postgresql://{target.username or 'postgres'}@127.0.0.1:{port}/{name}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

"""A real streaming replica of the test PostgreSQL on loopback, made with pg_basebackup, for as long as needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.mail_server import free_port


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"))
    return found[-1].parent if found else None


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Replica:
    """The replica's URL for a database of the primary, and ways to pause, resume and stop it."""

    def __init__(self, folder: Path, binaries: Path, port: int) -> None:
        self.folder, self.binaries, self.port = folder, binaries, port

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> object:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                                    "-w", "stop"), capture_output=True, timeout=60)


def available() -> bool:
    return _binaries() is not None


@contextmanager
def streaming_replica(primary_url: str) -> Iterator[Replica]:
    """A hot standby of the primary's whole cluster, streaming from it; stopped and removed afterwards."""
    binaries = _binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server programs (pg_basebackup, pg_ctl) are not installed")
    primary = urlsplit(primary_url)
    folder = Path(tempfile.mkdtemp(prefix="bpm-replica-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    made = subprocess.run(_as_postgres(str(binaries / "pg_basebackup"), "-h", primary.hostname or "127.0.0.1",
                                       "-p", str(primary.port or 5432), "-U", primary.username or "postgres",
                                       "-D", str(data), "-R", "-X", "stream", "-c", "fast"),
                          capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"pg_basebackup failed (does pg_hba.conf allow replication from 127.0.0.1?): "
                           f"{made.stderr.strip()}")
    # Debian keeps the configuration outside the data folder: the standby gets its own.
    (data / "postgresql.conf").write_text(f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
                                          f"unix_socket_directories = '{folder}'\nhot_standby = on\n"
                                          "hot_standby_feedback = on\n"
                                          "max_connections = 100\nshared_buffers = 32MB\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    for name in ("postgresql.conf", "pg_hba.conf"):
        if os.geteuid() == 0:
            shutil.chown(data / name, "postgres")
    started = subprocess.run(_as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
                                          "-w", "-t", "120", "start"), capture_output=True, text=True, timeout=180)
    replica = Replica(folder, binaries, port)
    try:
        if started.returncode != 0:
            log = folder / "log"
            raise RuntimeError(f"the replica did not start: {started.stderr}{log.read_text() if log.exists() else ''}")
        deadline = time.monotonic() + 60
        while replica.execute("SELECT pg_is_in_recovery()") != (True,):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica is not in recovery")
            time.sleep(0.1)  # (a server starting)
        yield replica
    finally:
        replica.stop()
        shutil.rmtree(folder, ignore_errors=True)

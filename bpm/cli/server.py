"""Running the service: the development server (``bpm run``), the worker, and the production server."""

from __future__ import annotations

import datetime as dt
import logging
import os

import click
from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from bpm.app import create_app
from bpm.cli.common import explained, settings_from_env
from bpm.config import Settings
from bpm.engine.clock import SystemClock
from bpm.runtime import form_versions
from bpm.runtime.demo import load_demo, people_summary
from bpm.runtime.runtime import Runtime
from bpm.scheduler import Worker
from bpm.store.migrate import upgrade


@click.command()
@click.option("--host", default=None, help="interface to listen on (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default 5000)")
@click.option("--demo/--no-demo", default=True, show_default=True, help="load demo people and example processes")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="fire timers, escalations and retries in this process too")
def run(host: str | None, port: int | None, demo: bool, worker: bool) -> None:
    """Start a development server: SQLite by default, migrations applied, demo content loaded."""
    dev_identity = None if Settings.chosen("dev_identity") else True
    settings = settings_from_env(host=host, port=port, dev_identity=dev_identity)
    with explained():
        upgrade(settings.database_url)
        app = create_app(settings)
        loaded = load_demo(app.extensions["bpm"]) if demo else []
        if not demo:
            form_versions.seed(app.extensions["bpm"])  # forms/*.json: version 1 of each form not stored yet
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Refluxo BPM on {base}  (database: {settings.database_url})")
    if loaded:
        click.echo(f"  processes: {', '.join(loaded)}")
        click.echo(f"  demo users: {people_summary()}  (anyone can be named manager in a form)")
        click.echo("  passwords:  the user name followed by -demo (ann / ann-demo); sign in at "
                   f"{base}/login")
    click.echo(f"  API docs:   {base}/api/docs")
    click.echo(f"  health:     {base}/api/health")
    if settings.dev_identity:
        click.echo(f"  try:        curl -H 'X-BPM-User: carol' {base}/api/tasks   (development identity)")
    if worker:

        Worker(app.extensions["bpm"]).start()
        click.echo("  worker:     timers, escalations and retries fire in this process")
    app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)


@click.command()
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="seconds between looks for due jobs when polling (SQLite; a transaction pooler without "
                   "BPM_DATABASE_LISTEN_URL); on PostgreSQL the worker is woken instead")
@click.option("--once", is_flag=True,
              help="one round of everything, then exit (cron): fire what is due, deliver the outbox, the digests, "
                   "the audit anchor and retention's purge")
@click.option("--lease", type=float, default=60.0, show_default=True,
              help="seconds a claimed job stays this worker's (renewed while it works); then another takes it")
@click.option("--batch", type=int, default=100, show_default=True, help="jobs claimed at a time")
def worker(interval: float, once: bool, lease: float, batch: int) -> None:
    """Fire timers, escalations, retries and continuations as they fall due (run one or more beside `bpm serve`)."""
    settings = settings_from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.worker_nice and hasattr(os, "nice"):
        # What the worker does (continuations of long runs, timers, mail) can wait a moment; what people wait for
        # cannot: on a shared machine the web server gets the CPU first.
        os.nice(settings.worker_nice)
    with explained():
        rt = Runtime.build(settings, SystemClock())
        firing = Worker(rt, batch=batch, lease=dt.timedelta(seconds=lease))
        if once:
            said = firing.tick() + firing.deliver()
            click.echo(", ".join(f"{n} {what}" for what, n in sorted(said.items())) or "nothing was due")
            if not settings.retention_minutes:
                click.echo("retention: not run here (BPM_RETENTION_MINUTES=0); run `bpm audit purge` from cron")
            rt.close()
            return
        how = "woken by PostgreSQL (LISTEN)" if firing.listen_url() else f"every {interval:g} s"
        click.echo(f"worker {firing.name} on {settings.database_url.split('@')[-1]}, {how}")
        try:
            firing.run(interval)
        finally:
            rt.close()


@click.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None, help="worker processes (default BPM_WORKERS or one per CPU)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Start the production server (granian, WSGI); run `bpm db upgrade` first."""

    settings = settings_from_env(host=host, port=port, workers=workers)
    if settings.dev_identity:
        said = ("BPM_DEV_IDENTITY=1 lets anyone act as anyone with an X-BPM-User header: it is `bpm run`'s, for a "
                "developer's machine (and the load benchmark's)")
        if settings.secure_cookies:  # served over https: a real service, reached by real people
            raise click.UsageError(f"{said}; unset it to serve {settings.public_url}")
        logging.basicConfig(level=settings.log_level)
        logging.getLogger("bpm.serve").warning("%s — never set it where people sign in", said)
        click.echo(f"WARNING: {said}", err=True)
    with explained():
        rt = create_app(settings).extensions["bpm"]  # fail here, clearly, before the workers start
        form_versions.seed(rt)  # forms/*.json: version 1 of each form the database has none of
        rt.close()
    # Each worker builds its app from the environment (bpm.app:create_app); they must share one
    # signing key, or a session cookie set by one worker would be refused by the next.
    settings.hand_down("secret_key")
    Granian("bpm.app:create_app", factory=True, interface=Interfaces.WSGI, address=settings.host,
            port=settings.port, workers=settings.workers, blocking_threads=settings.threads,
            respawn_failed_workers=True, workers_kill_timeout=30, log_access=settings.access_log,
            log_level=LogLevels(settings.log_level.lower())).serve()

"""docker-compose.yml cannot be run here (no Docker engine); check everything that can be checked."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from bpm.cli import main
from bpm.config import Settings

from ..conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SETTINGS = {f"BPM_{name.upper()}" for name in Settings.__dataclass_fields__}


def test_postgres_has_a_volume_and_a_health_check():
    db = COMPOSE["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "pgdata" in COMPOSE["volumes"]


def test_migration_runs_after_postgres_is_healthy_and_web_after_migration():
    services = COMPOSE["services"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_a_worker_fires_timers_beside_the_web_service_after_the_migration():
    worker = COMPOSE["services"]["worker"]
    assert worker["command"] == ["bpm", "worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in worker, "a worker serves nothing"


def test_every_command_exists_and_every_variable_is_a_setting():
    runner = CliRunner()
    for name in ("migrate", "web", "worker"):
        service = COMPOSE["services"][name]
        command = service["command"]
        assert command[0] == "bpm"
        assert runner.invoke(main, [*command[1:], "--help"]).exit_code == 0, command
        assert set(service["environment"]) <= SETTINGS, set(service["environment"]) - SETTINGS
        assert service["environment"]["BPM_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@db:5432/" in service["environment"]["BPM_DATABASE_URL"]


def test_the_image_installs_the_package_and_ships_what_the_service_reads():
    dockerfile = (REPO / "Dockerfile").read_text()
    for folder in ("bpm", "migrations", "forms", "calendars", "processes", "templates"):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "pip install" in dockerfile and 'CMD ["bpm", "serve"]' in dockerfile

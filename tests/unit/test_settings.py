"""Settings come from BPM_* variables; a bad value is one clear error, not a traceback later."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from bpm.cli import main
from bpm.config import Settings


def test_values_are_read_and_converted_from_the_environment():
    settings = Settings.from_env({"BPM_WORKERS": "3", "BPM_DEV_IDENTITY": "yes", "BPM_LOG_LEVEL": "warning"})
    assert (settings.workers, settings.dev_identity, settings.log_level) == (3, True, "warning")
    assert Settings().workers == (os.cpu_count() or 2)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("BPM_WORKERS", "0", "BPM_WORKERS and BPM_THREADS must be at least 1"),
    ("BPM_THREADS", "-1", "BPM_WORKERS and BPM_THREADS must be at least 1"),
    ("BPM_LOG_LEVEL", "chatty", "BPM_LOG_LEVEL must be one of"),
    ("BPM_STEPS_PER_TRANSACTION", "0", "BPM_STEPS_PER_TRANSACTION must be at least 1"),
    ("BPM_MAX_BODY_BYTES", "10", "BPM_MAX_BODY_BYTES must be at least 1024"),
])
def test_a_bad_setting_stops_the_command_with_one_line(variable, value, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        Settings.from_env({variable: value})
    result = CliRunner().invoke(main, ["serve"], env={variable: value,
                                                      "BPM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output

"""What every command shares: settings from the environment, a runtime, a password read safely, and our own
errors said in one line instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from bpm.config import Settings
from bpm.engine import SystemClock
from bpm.errors import BpmError
from bpm.runtime import Runtime


@contextmanager
def explained() -> Iterator[None]:
    """Turn our own errors (a broken form, an invalid demo process) into one clear line, not a traceback."""
    try:
        yield
    except BpmError as exc:
        fields = getattr(exc, "errors", None)  # InvalidRequest: say what is wrong with which part
        said = "; ".join(f"{name}: {m}" for name, messages in fields.items() for m in messages) if fields else ""
        raise click.ClickException(f"{exc}: {said}" if said else str(exc)) from None


def settings_from_env(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def runtime() -> Iterator[Any]:
    """A runtime for one command: our errors said in one line, its connections closed whatever happens."""
    rt = Runtime.build(settings_from_env(), SystemClock())
    try:
        with explained():
            yield rt
    finally:
        rt.close()


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)

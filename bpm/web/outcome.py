"""Doing what a form asks and saying how it went: the pattern of every page action that stays on its page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from werkzeug.wrappers import Response

from bpm.errors import BpmError, ConflictError, InvalidRequest, NotFound, PreconditionFailed

ANSWERED = (ConflictError, NotFound, PreconditionFailed, InvalidRequest)  # said on the page; others are error pages


def act_and_say(act: Callable[[], Any], said: str | Callable[[Any], str], back: str, refused: str = "Not done",
                answered: tuple[type[BpmError], ...] = ANSWERED) -> Response:
    """Run ``act``; flash ``said`` (or ``said(result)``), or why it was not done (with its field messages);
    then back to ``back``."""
    try:
        result = act()
    except answered as exc:
        details = "; ".join(m for messages in getattr(exc, "errors", {}).values() for m in messages)
        flash(f"{refused}: {exc}{' (' + details + ')' if details else ''}.", "error")
    else:
        flash(said(result) if callable(said) else said, "success")
    return redirect(back, 303)

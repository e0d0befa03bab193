"""The web pages (Jinja, ``templates/``), one blueprint per thing a person does.

Views are thin: they read the form, call one runtime function, and render
through ``pages.render_page`` (the header passed in). ``sign_in``: the
sign-in form and SSO; ``inbox``: the task lists; ``task_page``: a task and
what can be done with it; ``files``, ``drafts``, ``starting``, ``requests``,
``tokens``, ``notices``; ``audit`` and ``admin`` for auditors and admins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g, redirect, request
from werkzeug.wrappers import Response

from bpm.auth.oidc import init_oidc
from bpm.nodes.votes import rejects
from bpm.store.vocabulary import status_word
from bpm.web.pages import home_of, render_page

STATIC = Path(__file__).parent / "static"
bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> Response:
    """What people come for: the inbox for employees, the audit search for auditors, the designer's list for
    designers."""
    return redirect(home_of(g.get("bpm_actor")), 302)


@cache
def _fingerprint(path: str) -> str:
    file = STATIC / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "missing"


def asset(path: str) -> str:
    """A static file's URL with its content's fingerprint: cached for good, refetched when it changes."""
    return f"/static/{path}?v={_fingerprint(path)}"


ERROR_TITLES = {400: "That request was not understood", 401: "Please sign in", 403: "Not allowed",
                404: "Not found", 405: "Not allowed here", 409: "Someone got there first",
                413: "Too large", 422: "Please check what you entered", 429: "Too many attempts"}


def _error_page(error: Any) -> tuple[str, int]:
    """An error as a page people can act on: what happened, in words, and a way back."""
    code = error.code or 500
    if code >= 500:
        return render_page("error.html", code, counted=False, code=code, title="Something went wrong on our side",
                           detail="Please try again in a moment; if it keeps happening, tell the operator.")
    detail = error.description if code != 404 else "It does not exist, or it is not yours to see."
    if code == 413:
        detail = (f"What you sent is larger than the limit of {filesize(request.max_content_length or 0)}: "
                  "go back and choose a smaller file. Nothing was saved.")
    return render_page("error.html", code, code=code, title=ERROR_TITLES.get(code, "That did not work"),
                       detail=detail)


def page_url(path: str) -> Callable[..., str]:
    """The addresses of the pages of a list at ``path`` that takes nothing but its page number (for the pager)."""
    return lambda page: path if page == 1 else f"{path}?page={page}"


def filesize(size: int) -> str:
    """A size in bytes as people read it: 812 bytes, 14 KB, 2.5 MB."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit in ("KB", "MB", "GB"):
        size /= 1024  # type: ignore[assignment]
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}".replace(".0 ", " ") if size < 10 else f"{size:.0f} {unit}"
    raise AssertionError("unreachable")


def init_web(app: Flask) -> None:
    """Register the pages (and the SSO client, when configured)."""
    from bpm.web import (
        absences,
        admin,
        audit,
        designer,
        drafts,
        editor,
        files,
        form_designer,
        form_fields,
        inbox,
        notices,
        pickers,
        requests,
        sign_in,
        starting,
        task_page,
        tokens,
        try_it,
    )

    init_oidc(app, app.extensions["bpm"].settings)
    for pages in (sign_in, inbox, task_page, files, drafts, starting, requests, tokens, notices, admin, audit,
                  designer, editor, form_designer, try_it, absences, pickers):
        app.register_blueprint(pages.bp)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(value_at=form_fields.value_at, display=form_fields.display,
                                 row_count=form_fields.row_count, label_of=form_fields.label_of, asset=asset,
                                 has_file_field=form_fields.has_file_field,
                                 in_form_order=form_fields.in_form_order, rejects=rejects, page_url=page_url)
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["status_word"] = status_word
    app.extensions["bpm_error_page"] = _error_page

"""The service's errors, on top of the engine's ``BpmError`` root; mapped to HTTP in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bpm.engine.errors import BpmError, DefinitionError, Problem

__all__ = ["BpmError", "ConcurrentWrite", "ConflictError", "DefinitionError", "Forbidden", "FormInvalid",
           "InstanceMoved", "InvalidRequest", "MalformedRequest", "NotFound", "PreconditionFailed", "Problem",
           "ServiceUnavailable",
           "TooManyAttempts", "Unauthorized", "shown"]


class NotFound(BpmError):
    """The thing asked for does not exist (or the caller may not know it does)."""


class ConflictError(BpmError):
    """Someone else changed the same thing first; reload and try again."""


class InstanceMoved(ConflictError):
    """The instance moved on (another branch's step, a timer) while this action was being done.

    Unlike a conflict on the task itself, this is nobody's mistake: an action
    that only needs the task to be still open is tried again on the new state.
    """


class ConcurrentWrite(ConflictError):
    """Another transaction wrote the same unique row first (seen when the write is sent, not by a check)."""


class PreconditionFailed(BpmError):
    """The caller's ``If-Match`` names a version that is no longer current."""


class Unauthorized(BpmError):
    """No (valid) identity came with the request."""


class TooManyAttempts(BpmError):
    """Too many failed sign-ins for this account or address; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(BpmError):
    """A part the service needs (the database) is away for now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(BpmError):
    """The caller is known but may not do this."""


class InvalidRequest(BpmError):
    """The request is well-formed but asks for something impossible; ``errors`` by field."""

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = {k: list(v) for k, v in (errors or {}).items()}


class FormInvalid(InvalidRequest):
    """Submitted form data breaks the form's schema or rules; ``errors`` maps field to messages."""


class MalformedRequest(BpmError):
    """A body or header not in a form we accept (JSON syntax, NaN, lone surrogates, nesting, a bad If-Match)."""


def shown(value: object, limit: int = 60) -> str:
    """Caller-supplied text as an error message may echo it: quoted, and cut to ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"'{text}'"

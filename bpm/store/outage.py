"""A database that is away: a request answers 503 with Retry-After (not a 500 with a traceback), and the log
says once that the outage began and once that it ended, not once per request."""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, DisconnectionError,
                                                   psycopg.OperationalError, psycopg.InterfaceError)
"""What the database's being away (or too busy) raises: the web layers map these to 503."""


class OutageLog:
    """Whether the database is known to be away, said once when that changes."""

    def __init__(self) -> None:
        self._away = False
        self._lock = threading.Lock()

    @property
    def away(self) -> bool:
        return self._away

    def failed(self, error: BaseException) -> None:
        """A request found the database away: the first one says so."""
        with self._lock:
            if self._away:
                return
            self._away = True
        reason = getattr(error, "orig", None) or error
        logger.error("the database is unavailable (%s); answering 503 until it is back",
                     str(reason).splitlines()[0][:200] if str(reason) else type(reason).__name__)

    def recovered(self) -> None:
        """A request got through: if the database was away, say it is back."""
        if not self._away:
            return
        with self._lock:
            if not self._away:
                return
            self._away = False
        logger.warning("the database is back")


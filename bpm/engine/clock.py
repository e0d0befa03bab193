"""Time as an injected dependency: the engine never reads the wall clock itself."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time in epoch milliseconds."""

    def now_ms(self) -> int:
        """Return the current time as integer milliseconds since the epoch."""
        ...


class SystemClock:
    """The real clock, used when nothing else is injected."""

    def now_ms(self) -> int:
        """Return the wall-clock time in epoch milliseconds."""
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to, for tests and dry runs."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        """Return the time this clock was last set to."""
        return self._now

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms`` milliseconds."""
        if ms < 0:
            raise ValueError("a clock does not run backwards")
        self._now += ms

    def set(self, now_ms: int) -> None:
        """Jump to ``now_ms``."""
        self._now = now_ms

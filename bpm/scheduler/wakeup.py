"""A worker woken by PostgreSQL: it LISTENs for wake-ups (bpm.store.wakeups) and sleeps until the next due time.

Polling costs a query per tick whether or not anything is due, and a timer
due now waits for the next tick. Here each of the worker's two loops
(firing jobs, delivering the outbox) runs its step, learns from it when its
next work is due, and sleeps until then — at most ``wakeups.HORIZON``, the
safety net for anything a notification did not say — unless a notification
says something is due sooner. An idle worker thus asks the database once per
horizon per loop, and a timer due now fires as soon as its start commits.

APScheduler drives the polling mode (SQLite, or a transaction pooler in
front with no direct URL to listen on); it is not used here: its jobs skip a
run that comes while the previous one is still running, which would lose a
wake-up, while an Event cannot.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from bpm.store import wakeups

Step = Callable[[], "dt.datetime | None"]  # does the work due now; returns when more falls due (None: nothing known)
Sleep = Callable[[threading.Event, float], object]


class WokenLoop:
    """Runs ``step`` again at the earliest of: the due time it returned, a wake-up for sooner, or the horizon."""

    def __init__(self, name: str, step: Step, now: Callable[[], dt.datetime],
                 horizon: dt.timedelta = wakeups.HORIZON, sleep: Sleep | None = None) -> None:
        """``sleep(event, seconds)`` waits until the event is set or the seconds pass (a test's clock may pass
        them at once instead)."""
        self.name, self._step, self._now, self._horizon = name, step, now, horizon
        self._sleep = sleep or (lambda event, seconds: event.wait(seconds))
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._soonest: dt.datetime | None = None  # the soonest wake-up since the step began

    def wake(self, due: dt.datetime | None = None) -> None:
        """Something is due at ``due`` (None: now): run the step then, if that is sooner than planned."""
        due = due or self._now()
        with self._lock:
            if self._soonest is None or due < self._soonest:
                self._soonest = due
        self._woken.set()

    def run(self, stop: threading.Event) -> None:
        """Step and sleep until ``stop`` is set."""
        while not stop.is_set():
            with self._lock:
                self._soonest = None  # a wake-up from here on is seen below, even one during the step
            self._woken.clear()
            next_due = self._step()
            deadline = self._now() + self._horizon
            if next_due is not None and next_due < deadline:
                deadline = next_due
            while not stop.is_set():
                with self._lock:
                    if self._soonest is not None and self._soonest < deadline:
                        deadline = self._soonest
                remaining = (deadline - self._now()).total_seconds()
                if remaining <= 0:
                    break
                self._sleep(self._woken, min(remaining, 1.0))  # (and a look at ``stop`` every second)
                self._woken.clear()

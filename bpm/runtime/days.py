"""The company's days: an absence, a form's "today", are whole days where the company is (``BPM_TIME_ZONE``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bpm.engine import Clock

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class CompanyDays:
    """Today and the bounds of a day in the company's time zone, from the injected clock."""

    clock: Clock
    zone: ZoneInfo = UTC

    def now(self) -> dt.datetime:
        """The clock's time in the company's zone."""
        return dt.datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=self.zone)

    def today(self) -> dt.date:
        """The company's date now."""
        return self.now().date()

    def begins(self, day: dt.date) -> dt.datetime:
        """The moment ``day`` begins, in UTC."""
        return dt.datetime.combine(day, dt.time(), self.zone).astimezone(dt.UTC)

    def ends(self, day: dt.date) -> dt.datetime:
        """The moment ``day`` ends (the next one begins), in UTC."""
        return self.begins(day + dt.timedelta(days=1))

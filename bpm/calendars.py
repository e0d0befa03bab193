"""Business calendars: working hours per weekday, a time zone, public holidays and company days off.

A node or a process that names a calendar (``"calendar": "de-office"``)
counts its ``dueIn``, escalations and timer ``duration`` in working time:

- **Days are working days**, not 24 hours: ``P1D`` is the same time on the
  next working day (clamped to that day's hours: Friday's earlier closing).
- **Hours are working hours**: ``PT4H`` consumes only time inside the hours,
  across lunch breaks, evenings, weekends and holidays.
- **Counting starts at the next opening**: a moment outside the hours is the
  same point in working time as the last closing before it, so a request
  made on Friday evening with ``P1D`` is due at Monday's closing, with
  ``PT4H`` four hours after Monday's opening. (Others' bugs we avoid: a
  business day taken as 24 working hours, which makes P1D last three
  calendar days; and counting from the evening, which makes Friday-evening
  PT1H due at Monday 10:00 only by luck.)
- Landing exactly on a closing stays at the closing (the end of that day),
  not the next morning.
- Months and years (``P1M``) are calendar months, then moved into the hours.

Calendars are data: ``calendars/*.json``, checked when the service starts
(``CalendarRegistry.load``): an unknown country, region, time zone or a
malformed hour range stops the start with the file and the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as public_holidays
import isodate
from jsonschema import Draft202012Validator

from bpm.engine.errors import BpmError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
SCHEMA = {
    "type": "object", "required": ["id", "timeZone", "hours"], "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,59}$"},
        "name": {"type": "string", "maxLength": 200},
        "timeZone": {"type": "string", "minLength": 1},
        "hours": {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
            day: {"type": "array", "items": {"type": "array", "prefixItems": [{"type": "string", "pattern": HOUR}] * 2,
                                             "minItems": 2, "maxItems": 2}} for day in WEEKDAYS}},
        "holidays": {"type": "object", "required": ["country"], "additionalProperties": False, "properties": {
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "subdivision": {"type": "string", "minLength": 1}}},
        "daysOff": {"type": "array", "items": {"type": "string", "format": "date"}},
    },
}
SEARCH_DAYS = 800  # how far to look for a working day before giving up (a calendar with none is refused)


class CalendarsBroken(BpmError):
    """A calendar file cannot be used; the service does not start with it."""


class UnknownCalendar(BpmError):
    """A definition names a calendar that does not exist."""


def _clock(text: str) -> dt.time:
    return dt.time(23, 59, 59, 999999) if text == "24:00" else dt.time.fromisoformat(text)


@dataclass(frozen=True)
class Calendar:
    """One business calendar; ``add`` is the only thing most callers need."""

    id: str
    name: str
    zone: ZoneInfo
    hours: Mapping[int, tuple[tuple[dt.time, dt.time], ...]]  # weekday (0 = Monday) -> opening intervals
    country: str | None = None
    subdivision: str | None = None
    days_off: frozenset[dt.date] = field(default_factory=frozenset)

    def _holidays(self, year: int) -> frozenset[dt.date]:
        return _holidays_of(self.country, self.subdivision, year) if self.country else frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        """Has hours, and is neither a public holiday nor a company day off."""
        return bool(self.hours.get(day.weekday())) and day not in self.days_off and day not in self._holidays(
            day.year)

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's opening intervals as aware local datetimes (none on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(dt.datetime.combine(day, start, self.zone), dt.datetime.combine(day, end, self.zone))
                for start, end in self.hours[day.weekday()]]

    def _normalize(self, moment: dt.datetime) -> dt.datetime:
        """Inside the hours: itself; outside: the last closing before it (the same point in working time)."""
        day = moment.date()
        for _ in range(SEARCH_DAYS):
            for start, end in reversed(self.intervals(day)):
                if start <= moment < end:
                    return moment
                if end <= moment:
                    return end
            day -= dt.timedelta(days=1)
        return self._next_opening(moment)

    def _next_opening(self, moment: dt.datetime) -> dt.datetime:
        day = moment.date()
        for _ in range(SEARCH_DAYS):
            for start, _end in self.intervals(day):
                if start >= moment:
                    return start
            day += dt.timedelta(days=1)
        raise CalendarsBroken(f"calendar '{self.id}' has no working day within {SEARCH_DAYS} days")

    def _next_working_day_same_time(self, moment: dt.datetime) -> dt.datetime:
        return self._same_time_from(moment.date() + dt.timedelta(days=1), moment)

    def _same_time_from(self, day: dt.date, moment: dt.datetime) -> dt.datetime:
        """``moment``'s time of day on the first working day from ``day``, clamped into that day's hours."""
        for _ in range(SEARCH_DAYS):
            spans = self.intervals(day)
            if spans:
                wanted = dt.datetime.combine(day, moment.timetz().replace(tzinfo=None), self.zone)
                for start, end in reversed(spans):
                    if start <= wanted <= end:
                        return wanted
                    if end < wanted:
                        return end  # later than that day's closing: its closing
                return spans[0][0]  # earlier than its opening: its opening
            day += dt.timedelta(days=1)
        raise CalendarsBroken(f"calendar '{self.id}' has no working day within {SEARCH_DAYS} days")

    def _add_working_time(self, moment: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        remaining, current = amount, moment
        day = current.date()
        for _ in range(SEARCH_DAYS * 3):
            for start, end in self.intervals(day):
                if end <= current:
                    continue
                begin = max(start, current)
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                current = end
            day += dt.timedelta(days=1)
        raise CalendarsBroken(f"calendar '{self.id}' cannot count {amount} of working time")

    def add(self, start: dt.datetime, duration: str) -> dt.datetime:
        """``start`` (aware) plus an ISO 8601 duration counted in this calendar's working time (UTC result)."""
        parsed = isodate.parse_duration(duration)
        moment = self._normalize(start.astimezone(self.zone))
        if isinstance(parsed, isodate.Duration) and (parsed.years or parsed.months):
            later = moment + isodate.Duration(years=parsed.years, months=parsed.months)
            moment = self._same_time_from(later.date(), later)  # on a day off: the next working day
            parsed = parsed.tdelta
        delta = parsed if isinstance(parsed, dt.timedelta) else dt.timedelta()
        for _ in range(delta.days):
            moment = self._next_working_day_same_time(moment)
        rest = delta - dt.timedelta(days=delta.days)
        if rest:
            moment = self._add_working_time(moment, rest)
        return moment.astimezone(dt.UTC)


@lru_cache(maxsize=256)
def _holidays_of(country: str | None, subdivision: str | None, year: int) -> frozenset[dt.date]:
    return frozenset(public_holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def parse_calendar(raw: Any, expected_id: str | None = None) -> Calendar:
    """Check one calendar document; CalendarsBroken says what is wrong."""
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top)"
        raise CalendarsBroken(f"{where}: {errors[0].message}")
    if expected_id is not None and raw["id"] != expected_id:
        raise CalendarsBroken(f"id '{raw['id']}' does not match the file name '{expected_id}.json'")
    try:
        zone = ZoneInfo(raw["timeZone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarsBroken(f"timeZone: '{raw['timeZone']}' is not a time zone (e.g. Europe/Berlin)") from None
    hours: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
    for index, day in enumerate(WEEKDAYS):
        spans = tuple(sorted((_clock(a), _clock(b)) for a, b in raw["hours"].get(day, [])))
        if any(start >= end for start, end in spans) or any(a[1] > b[0] for a, b in pairwise(spans)):
            raise CalendarsBroken(f"hours/{day}: each range opens before it closes, and ranges do not overlap")
        if spans:
            hours[index] = spans
    if not hours:
        raise CalendarsBroken("hours: at least one weekday has opening hours")
    country = subdivision = None
    if "holidays" in raw:
        country, subdivision = raw["holidays"]["country"], raw["holidays"].get("subdivision")
        try:
            _holidays_of(country, subdivision, 2026)
        except NotImplementedError as exc:
            raise CalendarsBroken(f"holidays: {exc}") from None
    days_off = frozenset(dt.date.fromisoformat(day) for day in raw.get("daysOff", []))
    return Calendar(raw["id"], raw.get("name", raw["id"]), zone, hours, country, subdivision, days_off)


@dataclass(frozen=True)
class CalendarRegistry:
    """The calendars a service knows, by id."""

    calendars: Mapping[str, Calendar] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> CalendarRegistry:
        """Every ``*.json`` in ``folder`` (none: an empty registry); CalendarsBroken names the file at fault."""
        found = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                found[path.stem] = parse_calendar(json.loads(path.read_text()), path.stem)
            except (ValueError, CalendarsBroken) as exc:
                raise CalendarsBroken(f"calendar {path.name}: {exc}") from None
        return cls(found)

    def __contains__(self, calendar_id: object) -> bool:
        return calendar_id in self.calendars

    def get(self, calendar_id: str) -> Calendar:
        """The calendar ``calendar_id``; UnknownCalendar if there is none."""
        if calendar_id not in self.calendars:
            known = ", ".join(sorted(self.calendars)) or "none"
            raise UnknownCalendar(f"no calendar '{calendar_id}' (known: {known})")
        return self.calendars[calendar_id]

    def due(self, calendar_id: str | None, start: dt.datetime, duration: str) -> dt.datetime:
        """``start`` plus ``duration``: in working time with a calendar, in plain time without."""
        if calendar_id is None:
            return start + _plain(duration)
        return self.get(calendar_id).add(start, duration)


def _plain(duration: str) -> dt.timedelta:
    from bpm.engine.expressions.transforms import parse_duration

    return parse_duration(duration)

"""Business calendars: working days and hours, holidays and days off, counted the way people mean them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bpm.calendars import CalendarRegistry, CalendarsBroken, parse_calendar

from ..conftest import REPO

OFFICE = CalendarRegistry.load(REPO / "calendars").get("de-office")  # Berlin; lunch 12-13; Friday until 15:00


def berlin(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=OFFICE.zone)


@pytest.mark.parametrize(("start", "duration", "due", "why"), [
    (berlin(2026, 11, 27, 20, 0), "P1D", berlin(2026, 11, 30, 15, 0), "Friday evening + 1 day: Monday"),
    (berlin(2026, 11, 27, 20, 0), "PT4H", berlin(2026, 11, 30, 14, 0), "counting starts at Monday's opening"),
    (berlin(2026, 11, 28, 11, 0), "PT1H", berlin(2026, 11, 30, 10, 0), "a Saturday request counts from Monday"),
    (berlin(2026, 11, 27, 14, 0), "P1D", berlin(2026, 11, 30, 14, 0), "a business day is not 24 hours"),
    (berlin(2026, 11, 27, 14, 0), "PT2H", berlin(2026, 11, 30, 10, 0), "only working hours count"),
    (berlin(2026, 11, 30, 11, 0), "PT2H", berlin(2026, 11, 30, 14, 0), "the lunch break does not count"),
    (berlin(2026, 11, 30, 8, 0), "PT1H", berlin(2026, 11, 30, 10, 0), "before opening: from the opening"),
    (berlin(2026, 11, 30, 9, 0), "PT7H", berlin(2026, 11, 30, 17, 0), "a full day ends at closing, not next morning"),
    (berlin(2026, 11, 26, 16, 0), "P1D", berlin(2026, 11, 27, 15, 0), "Friday closes at 15:00: clamped to it"),
    (berlin(2026, 12, 23, 10, 0), "P1D", berlin(2026, 12, 28, 10, 0), "a day off, Christmas and a weekend skipped"),
    (berlin(2026, 12, 30, 16, 0), "P1D", berlin(2027, 1, 4, 16, 0), "New Year's Day (a public holiday) skipped"),
    (berlin(2026, 3, 6, 11, 0), "P1D", berlin(2026, 3, 9, 11, 0), "Women's Day: a holiday in Berlin only"),
    (berlin(2026, 3, 27, 16, 0), "P2D", berlin(2026, 3, 31, 15, 0),
     "two working days across the switch to summer time"),
    (berlin(2026, 11, 30, 10, 0), "P2DT3H", berlin(2026, 12, 2, 14, 0), "days, then hours"),
    (berlin(2026, 1, 30, 10, 0), "P1M", berlin(2026, 3, 2, 10, 0), "a calendar month, then onto a working day"),
])
def test_working_time_is_counted_as_people_mean_it(start, duration, due, why):
    assert OFFICE.add(start, duration) == due.astimezone(dt.UTC), why


def test_without_a_calendar_time_is_plain():
    registry = CalendarRegistry.load(REPO / "calendars")
    start = dt.datetime(2026, 11, 27, 19, 0, tzinfo=dt.UTC)
    assert registry.due(None, start, "P1D") == start + dt.timedelta(days=1)
    assert registry.due("de-office", start, "P1D") == berlin(2026, 11, 30, 15, 0).astimezone(dt.UTC)


GOOD = {"id": "x", "timeZone": "Europe/Lisbon", "hours": {"mon": [["09:00", "17:00"]]}}


@pytest.mark.parametrize(("change", "said"), [
    ({"timeZone": "Mars/Olympus"}, "is not a time zone"),
    ({"hours": {"mon": [["17:00", "09:00"]]}}, "opens before it closes"),
    ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "do not overlap"),
    ({"hours": {"mon": [["9am", "5pm"]]}}, "does not match"),
    ({"hours": {"monday": [["09:00", "17:00"]]}}, "Additional properties"),
    ({"hours": {"mon": []}}, "at least one weekday"),
    ({"holidays": {"country": "XX"}}, "Country XX not available"),
    ({"holidays": {"country": "DE", "subdivision": "ZZ"}}, "does not have subdivision ZZ"),
    ({"daysOff": ["2026-02-30"]}, "day is out of range"),
])
def test_a_calendar_that_cannot_work_is_refused_with_the_reason(change, said):
    with pytest.raises((CalendarsBroken, ValueError), match=said):
        parse_calendar({**GOOD, **change})


def test_a_broken_calendar_file_stops_the_start_and_names_itself(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({**GOOD, "id": "bad", "timeZone": "Nowhere/Else"}))
    with pytest.raises(CalendarsBroken, match=r"calendar bad\.json: timeZone"):
        CalendarRegistry.load(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**GOOD, "id": "other"}))
    with pytest.raises(CalendarsBroken, match="does not match the file name"):
        CalendarRegistry.load(tmp_path)

"""How sums and dates read for people — one rule, used by task titles (the ``money`` and ``date`` transforms)
and by every page that shows a value (``bpm.web.form_fields``), so a title never says "1500 EUR" where its page
says "1,500.00 EUR"."""

from __future__ import annotations

import datetime as dt

# ISO 4217 minor units where they are not two.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "UGX": 0, "XAF": 0, "XOF": 0,
               "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3, "IQD": 3, "LYD": 3}


def money_text(amount: int | float, currency: str) -> str:
    """A sum as people read it: digits grouped, the currency's decimals (1,500.00 EUR; 12,000 JPY)."""
    return f"{amount:,.{MINOR_UNITS.get(currency.upper(), 2)}f} {currency}".rstrip()


def date_text(day: dt.date) -> str:
    """A day as people read it: 20 Dec 2026."""
    return day.strftime("%-d %b %Y")


def moment_text(moment: dt.datetime) -> str:
    """A moment as people read it, in UTC: 20 Dec 2026, 09:30 UTC."""
    return (moment if moment.tzinfo is None else moment.astimezone(dt.UTC)).strftime("%-d %b %Y, %H:%M UTC")

"""Parsing the dates analysts write: ISO and the common forms.

A date written to the day is that day. A date written to the month or the year covers a
period; ``bound`` says which end of it is meant. Evidence of presence ("present by") takes the
period's *end* and evidence of absence ("absent after") its *start*, so a coarse date never
claims more than was seen.

>>> parse_date("2021-04-05")
datetime.date(2021, 4, 5)
>>> parse_date("April 2021", bound="end")
datetime.date(2021, 4, 30)
>>> parse_date("2021", bound="start")
datetime.date(2021, 1, 1)
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

__all__ = ["DateParseError", "from_days", "parse_date", "to_days"]

Bound = Literal["start", "end"]

_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9

_EPOCH = dt.date(1970, 1, 1)


class DateParseError(ValueError):
    """The text is not a date fenceline can read without guessing."""


def _month(name: str) -> int:
    try:
        return _MONTHS[name.lower().rstrip(".")]
    except KeyError:
        raise DateParseError(f"unknown month {name!r}") from None


def _period(year: int, month: int | None, bound: Bound) -> dt.date:
    if month is None:
        return dt.date(year, 1, 1) if bound == "start" else dt.date(year, 12, 31)
    if bound == "start":
        return dt.date(year, month, 1)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_date(
    value: object,
    *,
    bound: Bound = "start",
    day_first: bool | None = None,
) -> dt.date:
    """Read one date.

    Parameters
    ----------
    value : str, datetime.date or datetime.datetime
        ISO (``2021-04-05``, ``2021-04-05T10:00:00Z``, ``2021-04``, ``2021``), ``2021/04/05``,
        ``2021.04.05``, ``20210405``, ``5 April 2021``, ``April 5, 2021``, ``Apr 2021``,
        ``05/04/2021`` (only when unambiguous, or with ``day_first``).
    bound : {"start", "end"}
        Which end of a month or year to return when the text gives no day.
    day_first : bool, optional
        How to read ``NN/NN/YYYY`` when both numbers are 12 or less.

    Raises
    ------
    DateParseError
        When the text is not a date or is ambiguous.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return value.to_pydatetime().date()  # type: ignore[no-any-return]
    text = str(value).strip()
    if not text:
        raise DateParseError("empty date")
    try:
        return _parse(text, bound, day_first)
    except ValueError as exc:  # out-of-range day or month
        if isinstance(exc, DateParseError):
            raise
        raise DateParseError(f"not a date: {text!r} ({exc})") from None


def _parse(text: str, bound: Bound, day_first: bool | None) -> dt.date:
    # ISO date-time: keep the calendar date as written (Google Earth writes ...Z)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?", text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})", text)
    if m:
        return _period(int(m[1]), int(m[2]), bound)
    m = re.fullmatch(r"(\d{4})", text)
    if m:
        return _period(int(m[1]), None, bound)
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if m:
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        if first > 12 and second <= 12:
            return dt.date(year, second, first)
        if second > 12 and first <= 12:
            return dt.date(year, first, second)
        if day_first is None:
            raise DateParseError(
                f"ambiguous date {text!r}: day/month or month/day? "
                "write it as YYYY-MM-DD or pass --day-first / --month-first"
            )
        return dt.date(year, second, first) if day_first else dt.date(year, first, second)
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z.]+),?\s+(\d{4})", text)
    if m:
        return dt.date(int(m[3]), _month(m[2]), int(m[1]))
    m = re.fullmatch(r"([A-Za-z.]+)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
    if m:
        return dt.date(int(m[3]), _month(m[1]), int(m[2]))
    m = re.fullmatch(r"([A-Za-z.]+),?\s+(\d{4})", text)
    if m:
        return _period(int(m[2]), _month(m[1]), bound)
    raise DateParseError(f"not a date: {text!r}")


def to_days(date: dt.date) -> int:
    """Days since 1970-01-01 (the integer form the temporal model computes with)."""
    return (date - _EPOCH).days


def from_days(days: int) -> dt.date:
    """Inverse of :func:`to_days`."""
    return _EPOCH + dt.timedelta(days=int(days))

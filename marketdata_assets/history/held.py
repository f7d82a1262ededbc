"""Which sessions a dataset holds, the range a history read covers, and each session's bounds
from the NYSE calendar (calendar lookups cost milliseconds: each is cached)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import pyarrow as pa

from marketdata_assets.lake import day_key
from marketdata_assets.lake.keys import day_of_key
from marketdata_assets.market.calendar import EXCHANGE_TZ, session_bounds, sessions_in

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def span(
    present: list[date], first: date | None, last: date | None, back: int
) -> tuple[date, date]:
    """The range to read: `last` defaults to the latest session held (never before `first`),
    else the latest session up to today; `first` to the `back`th session up to `last`."""
    if last is None:
        candidates = [day for day in (present[-1] if present else None, first) if day]
        last = max(candidates) if candidates else _latest_session()
    if first is None:
        recent = _sessions_in(last - timedelta(days=7 * back + 7), last)[-back:]
        first = recent[0] if recent else last
    return first, last


@lru_cache(maxsize=64)
def days_held(name: str, keys: frozenset[str]) -> dict[date, str]:
    """The sessions whose object of `name` is among `keys`, oldest first, and their keys."""
    days = {}
    for key in keys:
        try:
            day = day_of_key(key)
        except (StopIteration, ValueError):  # not an object of a session
            continue
        if day_key(name, day) == key:
            days[day] = key
    return dict(sorted(days.items()))


@lru_cache(maxsize=64)
def sessions_held(name: str, keys: frozenset[str]) -> list[date]:
    """The NYSE sessions among the days whose object of `name` is among `keys`, oldest first."""
    days = days_held(name, keys)
    return [day for day in _sessions_in(min(days), max(days)) if day in days] if days else []


def bounds(days: list[date]) -> pa.Table:
    """Each session's day number, open and close in µs since the epoch (UTC), from the calendar."""
    found = [_session_us(day) for day in days]
    return pa.table(
        {
            "day": [(day - _EPOCH.date()).days for day in days],
            "open_us": [opened for opened, _ in found],
            "close_us": [closed for _, closed in found],
        }
    )


@lru_cache(maxsize=1024)
def _sessions_in(first: date, last: date) -> list[date]:
    """`sessions_in` (a calendar lookup costs about 1 ms); callers never change the list."""
    return sessions_in(first, last)


def _latest_session() -> date:
    today = datetime.now(ZoneInfo(EXCHANGE_TZ)).date()
    recent = sessions_in(today - timedelta(days=14), today)
    return recent[-1] if recent else today


@cache
def _session_us(day: date) -> tuple[int, int]:
    """A session's open and close in µs since the epoch (a calendar lookup costs about 2 ms)."""
    opened, closed = session_bounds(day)
    return _us(opened), _us(closed)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)

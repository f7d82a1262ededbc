"""NYSE (XNYS) sessions: whether a minute trades, which days are sessions, and their minutes.

The history's partitions are exactly these sessions (America/New_York trading days), early
closes included. No Dagster here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd

# The first session the history's partitions offer (the calendar knows 20 years back).
FIRST_SESSION = date(2010, 1, 4)
EXCHANGE_TZ = "America/New_York"
_DAY_US = 86_400_000_000
_ZONED = (-2_208_988_800_000_000, 7_258_118_400_000_000)  # 1900-01-01 and 2200-01-01, in us


@cache
def _nyse() -> Any:
    import exchange_calendars

    return exchange_calendars.get_calendar("XNYS")


def nyse_open(tick: datetime) -> bool:
    """True when `tick` (a UTC minute) lies inside a regular NYSE session."""
    import pandas as pd

    calendar = _nyse()
    minute = pd.Timestamp(tick)
    if not calendar.first_minute <= minute <= calendar.last_minute:
        return False
    return bool(calendar.is_open_on_minute(minute))


def sessions_in(start: date, end: date) -> list[date]:
    """The NYSE sessions from `start` to `end`, both included, oldest first (only within the
    calendar's span: 20 years back to one year ahead)."""
    calendar = _nyse()
    lo = max(start, calendar.first_session.date())
    hi = min(end, calendar.last_session.date())
    if hi < lo:
        return []
    return [ts.date() for ts in calendar.sessions_in_range(lo.isoformat(), hi.isoformat())]


def is_session(day: date) -> bool:
    return sessions_in(day, day) == [day]


def session_of(moment: datetime) -> date | None:
    """The session a price observed at `moment` belongs to: its New York day when that is a
    session (before the open too), else the last session before it; None before the calendar."""
    import pandas as pd

    calendar = _nyse()
    day = pd.Timestamp(moment.astimezone(_new_york()).date())
    if day < calendar.first_session:
        return None
    if day > calendar.last_session:
        return calendar.last_session.date()
    return calendar.date_to_session(day, direction="previous").date()


def previous_session(day: date) -> date | None:
    """The NYSE session before the session `day`; None when the calendar holds none before it."""
    calendar = _nyse()
    if day <= calendar.first_session.date():
        return None
    return calendar.previous_session(day.isoformat()).date()


def _new_york() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(EXCHANGE_TZ)


def last_known_day() -> date:
    """The last day the calendar knows (about a year ahead): beyond it nothing is a session."""
    return _nyse().last_session.date()


def last_ended_session(now: datetime | None = None) -> date:
    """The newest session whose New York day is over at `now` (default: the present): the
    last one a backfill can run (a history partition exists once its day has ended)."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(EXCHANGE_TZ)).date()
    for back in range(1, 15):
        if is_session(today - timedelta(days=back)):
            return today - timedelta(days=back)
    return FIRST_SESSION


def new_york_days(start_us: Any, ok: Any) -> Any:
    """Each start (epoch microseconds, where `ok`) as its New York date in epoch days (0 where
    there is no start); any year 0001-9999, through the time zone from 1900 to 2200 (beyond,
    the UTC date: far from any session, as good)."""
    import numpy as np
    import pandas as pd

    days = np.floor_divide(start_us, _DAY_US)
    zoned = ok & (start_us >= _ZONED[0]) & (start_us < _ZONED[1])
    if zoned.any():
        local = pd.DatetimeIndex(start_us[zoned].astype("datetime64[us]"), tz="UTC")
        naive = local.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
        days[zoned] = naive.to_numpy("datetime64[D]").astype(np.int64)
    return np.where(ok, days, 0)


def closed_days(start: date, end: date) -> list[date]:
    """The calendar days from `start` to `end` that are not sessions (weekends, holidays)."""
    import pandas as pd

    open_days = set(sessions_in(start, end))
    return [d.date() for d in pd.date_range(start, end, freq="D") if d.date() not in open_days]


def holidays(start: date, end: date) -> list[date]:
    """The weekdays from `start` to `end` on which NYSE does not trade."""
    return [day for day in closed_days(start, end) if day.weekday() < 5]


def session_bounds(day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The session's open and close in UTC (the close is the end of its last minute)."""
    calendar = _nyse()
    return calendar.session_open(day.isoformat()), calendar.session_close(day.isoformat())


def session_minutes(day: date) -> pd.DatetimeIndex:
    """The start of every 1-minute bar of the session, in UTC (390; 210 on an early close)."""
    return _nyse().session_minutes(day.isoformat())


def closed_reason(day: date) -> str:
    """Why NYSE does not trade on `day`, a day that is not a session: the holiday's name
    ("Thanksgiving"), "a Saturday"/"a Sunday", or "a special closure" (a day of mourning…)."""
    if day.weekday() >= 5:
        return f"a {day:%A}"
    names = _nyse().regular_holidays.holidays(day.isoformat(), day.isoformat(), return_name=True)
    return str(names.iloc[0]) if len(names) else "a special closure"

"""Whether NYSE is trading in a given minute (holidays and early closes included)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any


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

"""How many invocations a month each schedule makes, from the NYSE calendar of one year.

`session` is what `infra/schedule.tf` declares by default: every minute 09:30-15:59 New York
time on weekdays, holidays included (the handler skips a closed minute and records it);
`24x7` is `around_the_clock`, every minute of the year. The market is open for the XNYS
session minutes (`market.calendar`), early closes included: the rest are skipped invocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketdata_assets.market.calendar import session_minutes, sessions_in

SCHEDULES = ("session", "24x7")
YEAR = 2026  # the calendar year the monthly averages come from
SESSION_CLOCK_HOURS = 7  # 09:00-15:59 New York: the clock hours a session tick falls in


@dataclass(frozen=True)
class Month:
    """An average month of one schedule: invocations, and how many find the market open."""

    schedule: str
    invocations: float
    open: float  # invocations in an XNYS session minute (a full tick)
    hours_active: float  # clock hours with at least one invocation (metrics bill by the hour)

    @property
    def closed(self) -> float:
        return self.invocations - self.open


def month(schedule: str, year: int = YEAR) -> Month:
    """The average month of `schedule` over `year`."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    days = (last - first).days + 1
    weekdays = sum(1 for n in range(days) if (first + timedelta(n)).weekday() < 5)
    open_minutes = sum(len(session_minutes(day)) for day in sessions_in(first, last))
    if schedule == "session":
        return Month(
            schedule, weekdays * 390 / 12, open_minutes / 12, weekdays * SESSION_CLOCK_HOURS / 12
        )
    if schedule == "24x7":
        return Month(schedule, days * 1440 / 12, open_minutes / 12, days * 24 / 12)
    raise ValueError(f"schedule {schedule!r}: must be one of {', '.join(SCHEDULES)}")


def weekdays_per_month(year: int = YEAR) -> float:
    first = date(year, 1, 1)
    days = (date(year, 12, 31) - first).days + 1
    return sum(1 for n in range(days) if (first + timedelta(n)).weekday() < 5) / 12


def every_minute_ticks(year: int = YEAR) -> Month:
    """The seed's design: a full tick every minute of the year, open market or not."""
    around = month("24x7", year)
    return Month("24x7", around.invocations, around.invocations, around.hours_active)

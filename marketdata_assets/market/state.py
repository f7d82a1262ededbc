"""Whether NYSE trades now, as a trader reads it: the session of the day, its open and close
(early closes included), the next open, and the last close (what "as of" means when closed).
No Dagster here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from marketdata_assets.market.calendar import session_bounds, sessions_in

_LOOK_DAYS = 12  # the longest NYSE closure since 2001 (9/11) lasted 6 weekdays


@dataclass(frozen=True)
class MarketState:
    open: bool
    session: date | None  # today's session (New York), if today is one
    opens_at: datetime | None  # today's session's open (UTC)
    closes_at: datetime | None  # today's session's close (UTC)
    next_open: datetime | None  # the first open after now (None past the calendar)
    last_close: datetime | None  # the last close at or before now

    def as_dict(self) -> dict[str, object]:
        return {
            "open": self.open,
            "session": self.session.isoformat() if self.session else None,
            "opens_at": _iso(self.opens_at),
            "closes_at": _iso(self.closes_at),
            "next_open": _iso(self.next_open),
            "last_close": _iso(self.last_close),
        }


def market_state(now: datetime) -> MarketState:
    """The market at `now` (aware)."""
    from zoneinfo import ZoneInfo

    from marketdata_assets.market.calendar import EXCHANGE_TZ

    now = now.astimezone(UTC)
    today = now.astimezone(ZoneInfo(EXCHANGE_TZ)).date()
    near = sessions_in(date.fromordinal(today.toordinal() - _LOOK_DAYS), _after(today))
    bounds = {day: tuple(t.to_pydatetime() for t in session_bounds(day)) for day in near}
    opens_at, closes_at = bounds.get(today, (None, None))
    later = [opened for opened, _ in bounds.values() if opened > now]
    earlier = [closed for _, closed in bounds.values() if closed <= now]
    return MarketState(
        open=opens_at is not None and closes_at is not None and opens_at <= now < closes_at,
        session=today if today in bounds else None,
        opens_at=opens_at,
        closes_at=closes_at,
        next_open=min(later, default=None),
        last_close=max(earlier, default=None),
    )


def _after(day: date) -> date:
    return date.fromordinal(day.toordinal() + _LOOK_DAYS)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None

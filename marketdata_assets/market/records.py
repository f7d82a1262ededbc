"""The platform's typed records, one meaning per field everywhere (as OpenBB's standard models):
providers map their fields onto these; the lake's tables are frames of them.

- `Quote`: one observation of a symbol's last price (the minute tick).
- `Bar`: one interval's OHLCV of a symbol (history). `volume` is the interval's own volume,
  never a running total; `start` is the bar's first instant, in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

INTERVALS = ("1m", "5m", "15m", "1h", "1d")
# How a history read adjusts prices for corporate actions (`history.adjust`).
ADJUSTMENTS = ("none", "splits", "all")


@dataclass(frozen=True)
class Quote:
    symbol: str
    price: float
    event_ts: datetime  # UTC
    currency: str
    day_volume: int | None  # the session's cumulative volume up to event_ts
    exchange: str | None
    exchange_tz: str | None  # IANA zone of the exchange, e.g. America/New_York
    trading_day: date | None  # the exchange's session date the quote belongs to


@dataclass(frozen=True)
class Bar:
    symbol: str
    start: datetime  # UTC, the bar's first instant
    interval: str  # one of INTERVALS
    open: float
    high: float
    low: float
    close: float
    volume: int  # traded within this bar only
    source: str  # the provider (or "file") it came from

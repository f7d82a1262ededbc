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


# The `minute_bars` table: Bars of interval 1m, sorted by symbol then start.
BAR_SCHEMA: dict[str, str] = {
    "symbol": "str",
    "start": "datetime64[us, UTC]",
    "interval": "str",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "int64",
    "source": "str",
}

# What a history source's parser yields before the bars gate: one row per source row, as read.
# `row` numbers the session's source rows (conservation counts them), `raw` is the row's own
# text as received, `problem` a parse-level reason code (e.g. `unparseable_ts`) or null. Values
# that cannot be read are null; volume stays float so a fractional or negative one can be judged.
BAR_CANDIDATE_SCHEMA: dict[str, str] = {
    "row": "int64",
    "symbol": "str",
    "start": "datetime64[us, UTC]",
    "interval": "str",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "source": "str",
    "raw": "str",
    "problem": "str",
}

# `bars_quarantine`: every candidate column, plus its reason codes (a list of strings).
BARS_QUARANTINE_COLUMNS = (*BAR_CANDIDATE_SCHEMA, "reasons")

# `daily_bars`: one row per symbol and session.
DAILY_BAR_SCHEMA: dict[str, str] = {
    "symbol": "str",
    "session": "datetime64[us]",  # the trading day (a date; New York)
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "int64",
    "vwap": "float64",  # sum(typical price * volume) / sum(volume); null when no volume
    "minutes": "int64",  # 1-minute bars present
    "first_minute": "datetime64[us, UTC]",
    "last_minute": "datetime64[us, UTC]",
    "source": "str",
}

# `session_analytics`: one row per symbol and session.
SESSION_ANALYTICS_SCHEMA: dict[str, str] = {
    "symbol": "str",
    "session": "datetime64[us]",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "int64",
    "vwap": "float64",
    "return": "float64",  # log(close / previous session's close)
    "overnight_return": "float64",  # log(open / previous session's close)
    "realized_vol": "float64",  # from 5-minute log returns within the session, * sqrt(252)
    "range": "float64",  # (high - low) / close
    "close_vs_vwap": "float64",  # close / vwap - 1
    "rolling_vol_20": "float64",  # std of the last 20 close-to-close returns * sqrt(252)
}

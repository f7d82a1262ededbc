"""Flat quote records: one JSON object per line, the format a replayed JSON Lines file has too.

A flat record maps onto the Quote fields (`market.records.Quote`) by `QUOTE_FIELDS`; only
`volume` is named otherwise, and it is the day's cumulative volume, never a per-tick amount.
A payload line that is no HTTP envelope is read as a flat record.
"""

from __future__ import annotations

# Quote field -> the field of a flat record holding it.
QUOTE_FIELDS = {
    "symbol": "symbol",
    "price": "price",
    "event_ts": "event_ts",  # ISO 8601 with an offset
    "currency": "currency",
    "day_volume": "volume",  # cumulative for the trading day up to event_ts
    "exchange": "exchange",
    "exchange_tz": "exchange_tz",  # IANA name
    "trading_day": "trading_day",  # YYYY-MM-DD
}

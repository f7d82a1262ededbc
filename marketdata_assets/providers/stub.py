"""A deterministic, seeded random-walk provider with optional realistic defects.

Its records are flat JSON objects, the format a replayed JSON Lines file has too. They map onto
the Quote fields (`records.Quote`) by `QUOTE_FIELDS`; only `volume` is named otherwise, and it is
the day's cumulative volume, never a per-tick amount. The stub is no exchange's feed: its
`exchange` is `STUB`, its zone New York, its trading day the New York date of the tick, and its
day runs from New York midnight to midnight (it quotes around the clock).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

# Rough late-2026 price levels so the table looks familiar; unknown symbols get a hashed level.
BASE_PRICES = {
    "AAPL": 230.0, "MSFT": 420.0, "GOOGL": 175.0, "AMZN": 200.0, "NVDA": 140.0,
    "META": 580.0, "TSLA": 250.0, "JPM": 220.0, "V": 290.0, "KO": 64.0,
}  # fmt: skip
MINUTE_VOLATILITY = 0.0008  # about 2 % a day, like a large cap
FAULTS = ("negative_price", "missing_price", "malformed_line", "duplicate", "stale_timestamp")
EXCHANGE = "STUB"
EXCHANGE_TZ = "America/New_York"
_NEW_YORK = ZoneInfo(EXCHANGE_TZ)

# Quote field -> the field of a flat record (the stub's, or a replayed file's) holding it.
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


def _symbol_key(symbol: str) -> int:
    return zlib.crc32(symbol.encode())


def walk_price(symbol: str, tick: datetime, seed: int) -> float:
    """The symbol's price at `tick`: a walk that starts each UTC day from a seeded open."""
    day = tick.date().toordinal()
    minute_of_day = tick.hour * 60 + tick.minute
    rng = np.random.default_rng([seed, day, _symbol_key(symbol)])
    level = BASE_PRICES.get(symbol, 10.0 + _symbol_key(symbol) % 490)
    opening, *_ = rng.standard_normal(1) * 0.02
    steps = rng.standard_normal(minute_of_day + 1) * MINUTE_VOLATILITY
    return round(float(level * np.exp(opening + steps.sum())), 4)


def day_volume(symbol: str, tick: datetime, seed: int) -> int:
    """The symbol's volume on tick's New York day up to the end of tick's minute: seeded
    volumes of every minute since New York midnight, summed, so it only grows within a day."""
    day = tick.astimezone(_NEW_YORK).date()
    midnight = datetime.combine(day, time(0), _NEW_YORK)
    minutes = int((tick - midnight).total_seconds() // 60) + 1  # real minutes across DST too
    rng = np.random.default_rng([seed, day.toordinal(), _symbol_key(symbol), 1])
    return int(rng.integers(100, 50_000, size=minutes).sum())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StubProvider:
    """Seeded prices for a symbol list; the same seed and tick always give the same bytes."""

    name = "stub"

    def __init__(self, symbols: Sequence[str], *, seed: int = 7, fault_rate: float = 0.0):
        self.symbols = tuple(symbols)
        self.seed = seed
        self.fault_rate = fault_rate

    def records(self, tick: datetime) -> list[dict[str, object]]:
        """One clean quote per symbol, stamped at a seeded instant inside the tick minute."""
        rng = np.random.default_rng([self.seed, int(tick.timestamp()) // 60])
        offsets_ms = rng.integers(0, 60_000, size=len(self.symbols))
        trading_day = tick.astimezone(_NEW_YORK).date().isoformat()
        return [
            {
                "symbol": symbol,
                "price": walk_price(symbol, tick, self.seed),
                "volume": day_volume(symbol, tick, self.seed),
                "currency": "USD",
                "event_ts": _iso(tick + timedelta(milliseconds=int(offset))),
                "exchange": EXCHANGE,
                "exchange_tz": EXCHANGE_TZ,
                "trading_day": trading_day,
            }
            for symbol, offset in zip(self.symbols, offsets_ms, strict=True)
        ]

    def fetch(self, tick: datetime) -> bytes:
        rng = np.random.default_rng([self.seed, int(tick.timestamp()) // 60, 1])
        lines: list[str] = []
        for record in self.records(tick):
            fault = rng.choice(FAULTS) if rng.random() < self.fault_rate else None
            lines.extend(_with_fault(record, fault, tick))
        return "".join(line + "\n" for line in lines).encode()


def _with_fault(record: dict[str, object], fault: str | None, tick: datetime) -> list[str]:
    """The line(s) a provider would send for `record` when `fault` strikes."""
    if fault == "negative_price":
        record = {**record, "price": -abs(float(record["price"]))}  # type: ignore[arg-type]
    elif fault == "missing_price":
        record = {k: v for k, v in record.items() if k != "price"}
    elif fault == "stale_timestamp":
        record = {**record, "event_ts": _iso(tick - timedelta(days=2))}
    line = json.dumps(record, separators=(",", ":"))
    if fault == "malformed_line":
        return [line[: len(line) // 2]]
    if fault == "duplicate":
        return [line, line]
    return [line]

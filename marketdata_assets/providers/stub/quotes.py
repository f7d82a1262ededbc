"""The stub's tick: its seeded market's prices (`market`), with optional realistic defects.

Its records are flat records (`providers.flat`): `volume` is the day's cumulative volume, never
a per-tick amount. The stub is no exchange's feed: its
`exchange` is `STUB`, its zone New York, its trading day the New York date of the tick, and its
day runs from New York midnight to midnight (it quotes around the clock).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from marketdata_assets.providers.stub.market import prices_at, symbol_key

FAULTS = ("negative_price", "missing_price", "malformed_line", "duplicate", "stale_timestamp")
EXCHANGE = "STUB"
EXCHANGE_TZ = "America/New_York"
_NEW_YORK = ZoneInfo(EXCHANGE_TZ)


def day_volume(symbol: str, tick: datetime, seed: int) -> int:
    """The symbol's volume on tick's New York day up to the end of tick's minute: seeded
    volumes of every minute since New York midnight, summed, so it only grows within a day."""
    day = tick.astimezone(_NEW_YORK).date()
    midnight = datetime.combine(day, time(0), _NEW_YORK)
    minutes = int((tick - midnight).total_seconds() // 60) + 1  # real minutes across DST too
    rng = np.random.default_rng([seed, day.toordinal(), symbol_key(symbol), 1])
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
        prices = prices_at(self.symbols, tick, self.seed)
        return [
            {
                "symbol": symbol,
                "price": price,
                "volume": day_volume(symbol, tick, self.seed),
                "currency": "USD",
                "event_ts": _iso(tick + timedelta(milliseconds=int(offset))),
                "exchange": EXCHANGE,
                "exchange_tz": EXCHANGE_TZ,
                "trading_day": trading_day,
            }
            for symbol, price, offset in zip(self.symbols, prices, offsets_ms, strict=True)
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

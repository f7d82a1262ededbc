"""The latest-price table: one row per symbol, only ever replaced by a strictly newer price."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pandas as pd


@dataclass(frozen=True)
class LatestPrice:
    symbol: str
    price: float
    currency: str
    event_ts: datetime  # aware, UTC
    tick: datetime  # aware, UTC: the tick that wrote this row


@dataclass(frozen=True)
class UpsertResult:
    updated: int  # rows inserted or replaced by a newer price
    stale: int  # rows not written because the table already held an equal or newer one


class LatestPriceStore(Protocol):
    """What DynamoDB and SQLite both provide."""

    def upsert(self, prices: Iterable[LatestPrice]) -> UpsertResult:
        """Write each price unless the table holds one with an equal or newer event_ts."""
        ...

    def all(self) -> list[LatestPrice]:
        """Every row, ordered by symbol."""
        ...

    def remove(self, symbol: str) -> bool:
        """Delete `symbol`'s row; False when the table holds none."""
        ...

    def version(self) -> Hashable:
        """A token that changes whenever the table does, or None when the store cannot tell
        without reading it (a reader then keeps its rows for a fixed time)."""
        ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(when: datetime) -> int:
    """Microseconds since the epoch: an exact, comparable form of an aware datetime."""
    delta = when.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def newest_per_symbol(prices: Iterable[LatestPrice]) -> list[LatestPrice]:
    """One price per symbol, the newest; on equal event_ts the first one seen."""
    newest: dict[str, LatestPrice] = {}
    for price in prices:
        held = newest.get(price.symbol)
        if held is None or price.event_ts > held.event_ts:
            newest[price.symbol] = price
    return list(newest.values())


def prices_from_frame(validated: pd.DataFrame) -> list[LatestPrice]:
    """Latest-price rows from validated ticks."""
    return [
        LatestPrice(
            symbol=row.symbol,
            price=float(row.price),
            currency=row.currency,
            event_ts=row.event_ts.to_pydatetime(),
            tick=row.tick.to_pydatetime(),
        )
        for row in validated.itertuples(index=False)
    ]

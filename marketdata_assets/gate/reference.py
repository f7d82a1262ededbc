"""The price reference: what the `price_jump` rule knows of each symbol before a tick.

A verdict is a function of the past. The reference a tick is judged against is the as-of state
written by the newest earlier tick in the lake (`reference/date=…/minute=…/reference.parquet`),
never the serving table, so a rerun or a replay after later ticks decides the same.

Per symbol it holds the last accepted price and, when rows have jumped away from it, the level
they jumped to and how many consecutive ticks agreed on it. A new level is accepted at its
`confirmations`-th consecutive tick (the earlier ones stay quarantined as `price_jump`): a wrong
reference cannot freeze a symbol forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
import pyarrow as pa

from marketdata_assets.lake.datasets import columns_of
from marketdata_assets.lake.schemas import arrow_schema


@dataclass(frozen=True)
class PriceState:
    """One symbol's reference after a tick."""

    price: float  # the last accepted price
    pending_price: float | None = None  # the level rows jumped to, awaiting confirmation
    pending_ticks: int = 0  # consecutive ticks that agreed on that level
    pending_tick: datetime | None = None  # the last of them (one tick confirms once)


Reference = Mapping[str, PriceState | float]  # a bare float: an accepted price, nothing pending

# As objects are written: the registry's schema without its column descriptions.
REFERENCE_SCHEMA = arrow_schema(columns_of("reference"), described=False)


def state_of(value: PriceState | float) -> PriceState:
    return value if isinstance(value, PriceState) else PriceState(price=float(value))


@dataclass(frozen=True)
class Judgement:
    """The `price_jump` rule's decision on one row, and the symbol's state after it."""

    jumped: bool
    state: PriceState
    level_shift: tuple[float, float] | None = None  # (from, to) when a new level was accepted


def judge_price(
    held: PriceState | None, price: float, tick: datetime, threshold: float, confirmations: int
) -> Judgement:
    """Accept `price` when it is within `threshold` of the held price, or completes the
    confirmation of a new level; otherwise it jumped, and counts towards a new level."""
    if held is None or abs(price / held.price - 1) <= threshold:
        return Judgement(False, PriceState(price=price))
    agrees = held.pending_price is not None and abs(price / held.pending_price - 1) <= threshold
    if agrees and held.pending_tick == tick:  # a second row of the same tick confirms nothing
        return Judgement(True, replace(held, pending_price=price))
    count = held.pending_ticks + 1 if agrees else 1
    if count >= confirmations:
        return Judgement(False, PriceState(price=price), level_shift=(held.price, price))
    return Judgement(
        True, replace(held, pending_price=price, pending_ticks=count, pending_tick=tick)
    )


def reference_frame(reference: Reference) -> pd.DataFrame:
    """The reference as a frame, one row per symbol in symbol order (so its bytes are stable)."""
    states = {symbol: state_of(value) for symbol, value in sorted(reference.items())}
    table = pa.table(
        {
            "symbol": list(states),
            "price": [s.price for s in states.values()],
            "pending_price": [s.pending_price for s in states.values()],
            "pending_ticks": [s.pending_ticks for s in states.values()],
            "pending_tick": [s.pending_tick for s in states.values()],
        },
        schema=REFERENCE_SCHEMA,
    )
    return table.to_pandas()


def reference_from_frame(frame: pd.DataFrame) -> dict[str, PriceState]:
    rows = pa.Table.from_pandas(frame, schema=REFERENCE_SCHEMA, preserve_index=False).to_pylist()
    return {
        row["symbol"]: PriceState(
            price=row["price"],
            pending_price=row["pending_price"],
            pending_ticks=row["pending_ticks"],
            pending_tick=row["pending_tick"],
        )
        for row in rows
    }

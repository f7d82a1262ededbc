"""The price reference: what the `price_jump` rule knows of each symbol before a tick.

A verdict is a function of the past. The reference a tick is judged against is the as-of state
written by the newest earlier tick in the lake (`reference/date=…/minute=…/reference.parquet`),
never the serving table, so a rerun or a replay after later ticks decides the same.

Per symbol it holds the last accepted price and, when rows have jumped away from it, the level
they jumped to and how many consecutive ticks agreed on it. A new level is accepted at its
`confirmations`-th consecutive tick (the earlier ones stay quarantined as `price_jump`): a wrong
reference cannot freeze a symbol forever. It also holds the price and event time the latest
table was last given for the symbol and the tick that gave it: a later tick passing exactly
that price and event time again leaves the table alone (`latest_unchanged`), decided as-of like
every verdict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
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
    event_ts: datetime | None = None  # the event time of `price` as the latest table got it
    written_tick: datetime | None = None  # the tick that gave the table that price


Reference = Mapping[str, PriceState | float]  # a bare float: an accepted price, nothing pending

# As objects are written: the registry's schema without its column descriptions.
REFERENCE_SCHEMA = arrow_schema(columns_of("reference"), described=False)


_FIELDS = ("price", "pending_price", "pending_ticks", "pending_tick", "event_ts", "written_tick")


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAT = np.datetime64("NaT", "us")
_TIMES = ("pending_tick", "event_ts", "written_tick")


def moment(value: np.datetime64) -> datetime | None:
    """A datetime64[us] (UTC) as an aware datetime; None for NaT."""
    return None if np.isnat(value) else _EPOCH + timedelta(microseconds=int(value.astype("int64")))


def stamp(value: datetime | None) -> np.datetime64:
    """An aware datetime as datetime64[us] (UTC); NaT for None."""
    if value is None:
        return _NAT
    delta = value.astimezone(UTC) - _EPOCH
    return np.datetime64(
        (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds, "us"
    )


class States(Mapping[str, PriceState]):
    """The reference as columns, one position per symbol: what the vectorised `price_jump`
    pass reads and writes. A missing value is NaN (pending_price) or NaT (the times)."""

    def __init__(self, symbols: np.ndarray, columns: dict[str, np.ndarray]):
        self.symbols = symbols  # object array of str
        self.columns = columns  # _FIELDS -> float64 | int64 | datetime64[us] arrays
        self._positions: dict[str, int] | None = None

    @classmethod
    def of(cls, reference: Reference) -> States:
        if isinstance(reference, States):
            return reference
        states = [state_of(value) for value in reference.values()]
        columns = {
            "price": np.array([s.price for s in states], dtype="float64"),
            "pending_price": np.array(
                [np.nan if s.pending_price is None else s.pending_price for s in states],
                dtype="float64",
            ),
            "pending_ticks": np.array([s.pending_ticks for s in states], dtype="int64"),
        } | {
            name: np.array([stamp(getattr(s, name)) for s in states], dtype="datetime64[us]")
            for name in _TIMES
        }
        return cls(np.array(list(reference), dtype=object), columns)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> States:
        n = len(frame)
        columns = {
            "price": frame["price"].to_numpy(dtype="float64"),
            "pending_price": frame["pending_price"].to_numpy(dtype="float64", na_value=np.nan),
            "pending_ticks": frame["pending_ticks"].to_numpy(dtype="int64"),
        } | {
            name: (
                frame[name].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
                if name in frame
                else np.full(n, _NAT)  # a reference written before the column was kept
            )
            for name in _TIMES
        }
        return cls(frame["symbol"].to_numpy(dtype=object), columns)

    def _index(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {symbol: i for i, symbol in enumerate(self.symbols.tolist())}
        return self._positions

    def __getitem__(self, symbol: str) -> PriceState:
        i, c = self._index()[symbol], self.columns
        pending = float(c["pending_price"][i])
        return PriceState(
            price=float(c["price"][i]),
            pending_price=None if np.isnan(pending) else pending,
            pending_ticks=int(c["pending_ticks"][i]),
            pending_tick=moment(c["pending_tick"][i]),
            event_ts=moment(c["event_ts"][i]),
            written_tick=moment(c["written_tick"][i]),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.symbols.tolist())

    def __len__(self) -> int:
        return len(self.symbols)

    def frame(self) -> pd.DataFrame:
        """As `reference_frame` gives it: one row per symbol, in symbol order."""
        order = np.argsort(self.symbols, kind="stable")
        arrays = {"symbol": self.symbols[order]} | {
            name: values[order] for name, values in self.columns.items()
        }
        table = pa.table(
            [pa.array(arrays[f.name], type=f.type, from_pandas=True) for f in REFERENCE_SCHEMA],
            schema=REFERENCE_SCHEMA,
        )
        return table.to_pandas()


def reference_frame(reference: Reference) -> pd.DataFrame:
    """The reference as a frame, one row per symbol in symbol order (so its bytes are stable)."""
    if isinstance(reference, States):
        return reference.frame()
    states = {symbol: state_of(value) for symbol, value in sorted(reference.items())}
    table = pa.table(
        {name: [getattr(s, name) for s in states.values()] for name in _FIELDS}
        | {"symbol": list(states)},
        schema=REFERENCE_SCHEMA,
    )
    return table.to_pandas()


def reference_from_frame(frame: pd.DataFrame) -> States:
    """The reference a stored frame holds; columns an older writer did not keep are null."""
    return States.of_frame(frame)


def given_this_tick(frame: pd.DataFrame) -> set[tuple[str, datetime]]:
    """(symbol, tick) of each symbol a tick's stored reference says that tick gave the latest
    table a new price (its other symbols' prices are what earlier ticks gave it)."""
    given = frame.dropna(subset=["written_tick"]) if "written_tick" in frame else frame.iloc[:0]
    return {
        (symbol, tick.to_pydatetime())
        for symbol, tick in zip(given["symbol"], given["written_tick"], strict=True)
    }

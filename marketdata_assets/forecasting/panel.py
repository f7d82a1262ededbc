"""The history a forecast reads: every symbol's 1-minute closes and session opens and closes.

A panel is built from `minute_bars` (BAR_SCHEMA) and optionally `daily_bars`; `load_panel` reads
the last sessions a lake store holds, straight from their Parquet objects (no Dagster, no GE).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.history.daily import US_PER_DAY, session_days, symbol_session_keys
from marketdata_assets.lake import ObjectStore, day_key
from marketdata_assets.lake.keys import day_of_key
from marketdata_assets.lake.schemas import BAR_SCHEMA
from marketdata_assets.market.backfill_range import recent, suggested

MINUTE_COLUMNS = {
    "symbol": "str",
    "session": "datetime64[us]",
    "start": "datetime64[us, UTC]",
    "close": "float64",
}
DAILY_COLUMNS = {
    "symbol": "str",
    "session": "datetime64[us]",
    "open": "float64",
    "close": "float64",
}
_READ_TYPES = {c: BAR_SCHEMA[c] for c in ("symbol", "start", "interval", "open", "close")}
_READ = list(_READ_TYPES)


class NotEnoughHistory(ValueError):
    """Too few sessions in the lake to evaluate a forecast; the message names the backfill."""


@dataclass(frozen=True)
class Panel:
    """Each symbol's 1-minute closes (`minute`, sorted by symbol then start, `session` the New
    York date) and each symbol-session's open and close (`daily`, sorted by symbol then session)."""

    minute: pd.DataFrame
    daily: pd.DataFrame

    @cached_property
    def sessions(self) -> list[date]:
        """The sessions holding at least one 1-minute bar, oldest first."""
        days = pd.unique(self.minute["session"].to_numpy())
        return sorted(pd.Timestamp(day).date() for day in days)

    @cached_property
    def symbols(self) -> list[str]:
        return sorted(pd.unique(self.minute["symbol"]).tolist())


def panel_from_bars(minute_bars: pd.DataFrame, daily_bars: pd.DataFrame | None = None) -> Panel:
    """The panel of `minute_bars` (BAR_SCHEMA columns; only 1m bars are read, `open` may be
    absent). A session's open is its first bar's open (its first close when there is no open
    column) and its close the last bar's close, unless `daily_bars` (DAILY_BAR_SCHEMA) holds the
    symbol-session: then they are its open and close."""
    bars = minute_bars
    if "interval" in bars:
        bars = bars[bars["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)]
    bars = bars.sort_values(["symbol", "start"], kind="stable", ignore_index=True)
    days = session_days(bars["start"]) if len(bars) else np.zeros(0, dtype=np.int64)
    minute = pd.DataFrame(
        {
            "symbol": bars["symbol"].astype("str"),
            "session": pd.Series((days * US_PER_DAY).astype("datetime64[us]")),
            "start": bars["start"].astype("datetime64[us, UTC]"),
            "close": bars["close"].astype("float64"),
        }
    )
    key = symbol_session_keys(bars)[0] if len(bars) else days
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    last = np.r_[first[1:], len(key)] - 1 if len(key) else key
    opens = bars["open"] if "open" in bars else bars["close"]
    daily = pd.DataFrame(
        {
            "symbol": minute["symbol"].take(first).reset_index(drop=True),
            "session": minute["session"].take(first).reset_index(drop=True),
            "open": opens.to_numpy(dtype=np.float64)[first],
            "close": minute["close"].to_numpy()[last],
        }
    ).astype(DAILY_COLUMNS)
    if daily_bars is not None:
        given = daily_bars[list(DAILY_COLUMNS)].astype(DAILY_COLUMNS)
        keys = ["symbol", "session"]
        merged = daily[keys].merge(given, on=keys, how="left", validate="one_to_one")
        daily = merged.fillna({"open": daily["open"], "close": daily["close"]})
    return Panel(minute, daily.astype(DAILY_COLUMNS))


def load_panel(
    store: ObjectStore, symbols: Sequence[str] | None, last: date | None, sessions: int
) -> Panel:
    """The panel of `symbols` (None: every symbol) over the last `sessions` sessions up to `last`
    (None: the latest) whose `minute_bars` object the lake holds."""
    days = held_sessions(store, "minute_bars")
    held = [day for day in days if last is None or day <= last][-sessions:] if sessions else []
    only = None if symbols is None else [("symbol", "in", list(symbols))]
    frames = [
        pq.read_table(
            io.BytesIO(store.get(day_key("minute_bars", day))), columns=_READ, filters=only
        )
        for day in held
    ]
    if not frames:
        return panel_from_bars(pd.DataFrame({c: [] for c in _READ}).astype(_READ_TYPES))
    return panel_from_bars(pa.concat_tables(frames).to_pandas())


def held_sessions(store: ObjectStore, dataset: str) -> list[date]:
    """The sessions whose object of the daily `dataset` the lake holds, oldest first."""
    return sorted(day for key in store.keys(f"{dataset}/") if (day := _day(dataset, key)))


def not_enough_history(
    held: int, needed: int, symbols: Sequence[str], last: date | None = None
) -> NotEnoughHistory:
    """The error for `held` sessions of history where `needed` are needed, naming the backfill of
    the `needed` sessions up to `last` (default: the latest session that has ended)."""
    first, last = recent(needed, last)
    names = ",".join(symbols) if symbols else "the symbols"
    return NotEnoughHistory(
        f"{held} sessions of minute bars for {names} in the lake, {needed} needed: run "
        f"`{suggested(first, last, symbols)}` first"
    )


def _day(dataset: str, key: str) -> date | None:
    """The session of a `dataset` object key, or None for any other key."""
    try:
        day = day_of_key(key)
    except (StopIteration, ValueError):
        return None
    return day if day_key(dataset, day) == key else None

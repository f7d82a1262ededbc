"""Reading history adjusted for corporate actions: the gated actions of a symbol, and the rows of
a bars or analytics read brought to the basis asked (`history.adjust`).

The lake keeps prices as traded and session_analytics' returns across splits (`analytics`); a
read adjusts them: a row's prices, VWAP and volume by the factors of its symbol's actions with
a later ex-date, a row's returns by the factors of the actions on its own session. realised
volatility, range and close versus VWAP are ratios within one session: no action changes them.
No Dagster and no Great Expectations on this path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marketdata_assets.history.adjust import Adjustment, adjustment, factors, multipliers
from marketdata_assets.history.held import days_held
from marketdata_assets.history.query import History, Sessions, closes_on
from marketdata_assets.lake import ObjectStore
from marketdata_assets.lake.codecs import typed_table
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.market.calendar import EXCHANGE_TZ, previous_session

ACTION_FIELDS = ("symbol", "ex_date", "kind", "value", "currency", "source")
_NAME = "corporate_actions"
_PRICES = ("open", "high", "low", "close", "vwap")


def actions_frame(
    lake: ObjectStore,
    symbol: str | None,
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> pd.DataFrame:
    """The gated actions of `symbol` (None: every symbol) with an ex-date from `first` to `last`
    (each open when None), sorted by symbol, ex-date and kind."""
    keys = sessions.keys(_NAME) if sessions is not None else frozenset(lake.keys(f"{_NAME}/"))
    held = days_held(_NAME, keys)
    wanted = [
        key
        for day, key in held.items()
        if (first is None or day >= first) and (last is None or day <= last)
    ]
    dtypes = DATASETS[_NAME].dtypes
    if not wanted:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
    if sessions is not None:  # decoded once and kept by the long-lived reader
        tables = sessions.answers(wanted, _NAME, lambda _key, table: table, symbol)
    else:
        bodies = lake.get_many(wanted)
        tables = [typed_table(_NAME, key, body) for key, body in zip(wanted, bodies, strict=True)]
    frame = pa.concat_tables(tables, promote_options="default").to_pandas()
    if symbol is not None:
        frame = frame[frame["symbol"] == symbol]
    frame = frame.sort_values(["symbol", "ex_date", "kind"], kind="stable", ignore_index=True)
    return frame.astype(dtypes)


def actions_rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    """`marketdata actions --json`'s objects: ACTION_FIELDS, the ex-date as YYYY-MM-DD."""
    return [
        {
            "symbol": symbol,
            "ex_date": pd.Timestamp(ex_date).date().isoformat(),
            "kind": kind,
            "value": float(value),
            "currency": None if pd.isna(currency) else currency,
            "source": None if pd.isna(source) else source,
        }
        for symbol, ex_date, kind, value, currency, source in zip(
            *(frame[name] for name in ACTION_FIELDS), strict=True
        )
    ]


def actions_table(rows: Sequence[dict[str, object]], symbol: str) -> str:
    """Actions as an aligned table; none: one line saying so."""
    if not rows:
        return f"no corporate actions for {symbol} in the lake"
    lines = [f"{'SYMBOL':<8} {'EX_DATE':<10} {'KIND':<9} {'VALUE':>12} {'CCY':<4} SOURCE"]
    for r in rows:
        lines.append(
            f"{r['symbol']:<8} {r['ex_date']:<10} {r['kind']:<9} {r['value']:>12.4f} "
            f"{r['currency'] or '-':<4} {r['source'] or '-'}"
        )
    return "\n".join(lines)


def adjusted_bars(
    lake: ObjectStore, history: History, basis: str, sessions: Sessions | None = None
) -> History:
    """`history`'s bar rows (`query.bars`) with prices and volumes adjusted to `basis` (one of
    ADJUSTMENTS); `none`: as read."""
    adjust = adjustment(basis)
    if adjust == "none" or not history.table.num_rows:
        return history
    start = pd.to_datetime(history.table["start"].to_pandas(), utc=True)
    days = _days(start.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None).to_numpy())
    table = _factors(lake, history, adjust, sessions)
    price, volume = multipliers(table, _symbols(history), days)
    return replace(history, table=_scaled(history.table, price, volume))


def adjusted_analytics(
    lake: ObjectStore, history: History, basis: str, sessions: Sessions | None = None
) -> History:
    """`history`'s analytics rows (`query.analytics`) brought to `basis`: prices, VWAP and
    volume scaled; returns moved from the stored split-adjusted basis to the one asked."""
    adjust = adjustment(basis)
    if not history.table.num_rows or (adjust == "splits" and not _any_actions(lake, sessions)):
        return history
    sessions_read = pc.cast(history.table["session"], pa.date32()).to_numpy(zero_copy_only=False)
    days = _days(sessions_read)
    symbols = _symbols(history)
    table = _factors(lake, history, adjust, sessions)
    splits = table if adjust == "splits" else _factors(lake, history, "splits", sessions)
    price, volume = multipliers(table, symbols, days)
    scaled = _scaled(history.table, price, volume) if adjust != "none" else history.table
    # a return's basis moves by the log factors of the actions on its own session
    shift = pa.array(_own(splits, symbols, days) - _own(table, symbols, days))
    for name in ("return", "overnight_return"):
        if name in scaled.column_names:
            moved = pc.add(scaled[name], shift)
            scaled = scaled.set_column(scaled.schema.get_field_index(name), name, moved)
    return replace(history, table=scaled)


def _factors(
    lake: ObjectStore, history: History, adjust: Adjustment, sessions: Sessions | None
) -> pd.DataFrame:
    """The factors of the actions of `history`'s symbol from its first session on."""
    actions = actions_frame(lake, history.symbol, history.first, None, sessions)
    closes: dict[tuple[str, date], float] = {}
    if adjust == "all":
        columns = (actions[name] for name in ("symbol", "ex_date", "kind"))
        for symbol, ex_date, kind in zip(*columns, strict=True):
            day = pd.Timestamp(ex_date).date()
            before = previous_session(day) if kind == "dividend" else None
            close = closes_on(lake, before, sessions).get(symbol) if before else None
            if close is not None:
                closes[(symbol, day)] = close
    return factors(actions, closes, adjust)


def _own(table: pd.DataFrame, symbols: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Each row's sum of the log price factors of its symbol's actions on its own day."""
    total = np.zeros(len(symbols))
    for symbol, day, price in zip(table["symbol"], table["day"], table["price"], strict=True):
        total[(symbols == symbol) & (days == day)] += np.log(price)
    return total


def _any_actions(lake: ObjectStore, sessions: Sessions | None) -> bool:
    keys = sessions.keys(_NAME) if sessions is not None else frozenset(lake.keys(f"{_NAME}/"))
    return bool(keys)


def _scaled(table: pa.Table, price: np.ndarray, volume: np.ndarray) -> pa.Table:
    """`table` with each row's prices multiplied by `price` and its volume by `volume` (rounded
    half to even, kept an integer); nulls stay null."""
    factor = pa.array(price, pa.float64())
    for name in (*_PRICES, "volume"):
        if name not in table.column_names:
            continue
        column = table[name]
        if name == "volume":
            product = pc.multiply(pc.cast(column, pa.float64()), pa.array(volume, pa.float64()))
            scaled = pc.cast(pc.round(product, round_mode="half_to_even"), column.type)
        else:
            scaled = pc.multiply(pc.cast(column, pa.float64()), factor)
        table = table.set_column(table.schema.get_field_index(name), name, scaled)
    return table


def _symbols(history: History) -> np.ndarray:
    return np.asarray(history.table["symbol"].to_pylist(), dtype=object)


def _days(moments: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each (naive, exchange-local) moment or date."""
    return np.asarray(moments).astype("datetime64[D]").astype(np.int64)

"""Daily bars: each symbol's session summarised from its 1-minute bars.

The session of a bar is the New York date of its `start`. open is the first bar's open, close
the last bar's close, high and low the extremes, volume the sum, vwap = sum(typical * volume) /
sum(volume) with typical = (high + low + close) / 3 (null when the volume is 0), minutes the
count of 1-minute bars, first_minute and last_minute their first and last starts, source the
bars' sources (sorted, unique, joined by ","). A session with no 1-minute bar of the symbol
takes its numbers from its 1d bar instead (the earliest, if several; minutes 0, no first or
last minute); when it has both, the minutes win.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketdata_assets.lake.schemas import DAILY_BAR_SCHEMA
from marketdata_assets.market.calendar import EXCHANGE_TZ

US_PER_DAY = 86_400 * 1_000_000
_DAY_BITS = 20  # epoch days below 2**20: until the year 4840
_SUMMARY = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "minutes",
    "first_minute",
    "last_minute",
    "source",
)


def session_days(starts: pd.Series) -> np.ndarray:
    """The New York date of each UTC instant, as days since 1970-01-01 (int64)."""
    codes, instants = pd.factorize(starts.array.asi8)  # bars share starts: convert each once
    local = pd.DatetimeIndex(instants.astype("datetime64[us]"), tz="UTC").tz_convert(EXCHANGE_TZ)
    days = local.tz_localize(None).as_unit("us").asi8 // US_PER_DAY
    return np.asarray(days, dtype=np.int64)[codes]


def symbol_session_keys(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per bar that orders by symbol then session, and the symbols by code."""
    codes, symbols = pd.factorize(bars["symbol"], sort=True)
    keys = (codes.astype(np.int64) << _DAY_BITS) + session_days(bars["start"])
    return keys, np.asarray(symbols, dtype=object)


def key_parts(keys: np.ndarray, symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The symbols and sessions (datetime64[us]) of keys from `symbol_session_keys`."""
    days = keys & ((1 << _DAY_BITS) - 1)
    return symbols[keys >> _DAY_BITS], (days * US_PER_DAY).astype("datetime64[us]")


def daily_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """DAILY_BAR_SCHEMA rows, one per symbol and session of `bars` (BAR_SCHEMA, 1m and 1d bars
    of any number of sessions), sorted by symbol then session."""
    keys, symbols = symbol_session_keys(bars)
    minute_bar = bars["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)
    day_bar = bars["interval"].eq("1d").to_numpy(dtype=bool, na_value=False)
    minutes = _summary(bars, keys, np.flatnonzero(minute_bar))
    days = _summary(bars, keys, np.flatnonzero(day_bar), first_only=True)
    days = days[~days["key"].isin(minutes["key"])]
    no_minute = pd.Series(pd.NaT, index=days.index, dtype=DAILY_BAR_SCHEMA["first_minute"])
    days = days.assign(minutes=0, first_minute=no_minute, last_minute=no_minute)
    daily = pd.concat([minutes, days], ignore_index=True) if len(days) else minutes
    daily = daily.sort_values("key", kind="stable", ignore_index=True)
    daily["symbol"], daily["session"] = key_parts(daily["key"].to_numpy(np.int64), symbols)
    return daily[list(DAILY_BAR_SCHEMA)].astype(DAILY_BAR_SCHEMA)


def _summary(
    bars: pd.DataFrame, keys: np.ndarray, rows: np.ndarray, first_only: bool = False
) -> pd.DataFrame:
    """One row per key among `rows` of `bars` (each key's earliest bar alone if `first_only`)."""
    rows = rows[np.lexsort((bars["start"].array.asi8[rows], keys[rows]))]
    key = keys[rows]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(rows) else rows
    if first_only:
        rows, key, first = rows[first], key[first], np.arange(len(first))
    if not len(rows):
        return pd.DataFrame({"key": [], **{c: [] for c in _SUMMARY}}).astype({"key": "int64"})
    last = np.r_[first[1:], len(rows)] - 1
    price = {name: bars[name].to_numpy()[rows] for name in ("open", "high", "low", "close")}
    volume = bars["volume"].to_numpy(dtype=np.int64)[rows]
    weighted = np.add.reduceat((price["high"] + price["low"] + price["close"]) / 3 * volume, first)
    total = np.add.reduceat(volume, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(total > 0, weighted / total, np.nan)
    start = bars["start"].array[rows]
    group = np.repeat(np.arange(len(first)), last - first + 1)
    return pd.DataFrame(
        {
            "key": key[first],
            "open": price["open"][first],
            "high": np.maximum.reduceat(price["high"], first),
            "low": np.minimum.reduceat(price["low"], first),
            "close": price["close"][last],
            "volume": total,
            "vwap": vwap,
            "minutes": last - first + 1,
            "first_minute": start[first],
            "last_minute": start[last],
            "source": _sources(bars["source"], rows, group, len(first)),
        }
    )


def _sources(source: pd.Series, rows: np.ndarray, group: np.ndarray, groups: int) -> list[str]:
    """Each group's sources (`group` numbers the `rows`), sorted, unique, joined by ","."""
    codes, names = pd.factorize(source)
    n = len(names) + 1  # code -1: a null source, left out
    pairs = np.unique(group.astype(np.int64) * n + codes[rows] + 1)
    found: list[list[str]] = [[] for _ in range(groups)]
    for g, code in zip(pairs // n, pairs % n - 1, strict=True):
        if code >= 0:
            found[g].append(names[code])
    return [",".join(sorted(set(group_names))) for group_names in found]

"""Session analytics: per symbol and session, returns, volatility, range and VWAP distance.

Definitions (ln is the natural logarithm; the previous close is the symbol's close on the NYSE
session just before, when `daily` holds it, else every value that needs it is null):
- return = ln(close / previous close); overnight_return = ln(open / previous close).
- realized_vol = sqrt(sum of squared 5-minute log returns within the session) * sqrt(252). The
  session is cut into 5-minute buckets from its open; a bucket's price is the close of its last
  1-minute bar; returns join consecutive buckets that have a bar (empty ones are skipped). Null
  with fewer than 2 such buckets.
- range = (high - low) / close; close_vs_vwap = close / vwap - 1 (null without a vwap).
- rolling_vol_20 = sample standard deviation (n - 1) of the last 20 returns, this session's
  included, * sqrt(252); null unless all 20 exist.

`split_adjusted_analytics` computes the returns and rolling volatility on the split-adjusted
closes (`history.adjust`), so a split's session has its real return, and keeps the prices as
traded. A return joins two sessions only, so it depends on the actions of its own session
alone: an action with a later ex-date scales both closes alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketdata_assets.history.daily import key_parts, session_days, symbol_session_keys
from marketdata_assets.lake.schemas import SESSION_ANALYTICS_SCHEMA
from marketdata_assets.market.calendar import session_bounds, sessions_in

TRADING_DAYS = 252
WINDOW = 20
_BUCKET_US = 5 * 60 * 1_000_000
_KEYS = ["symbol", "session"]


def session_analytics(
    daily: pd.DataFrame, bars: pd.DataFrame, sessions: Sequence[date]
) -> pd.DataFrame:
    """SESSION_ANALYTICS_SCHEMA rows for `sessions`, one per symbol that has a daily bar then.

    `daily` (DAILY_BAR_SCHEMA) also holds up to 20 earlier sessions per symbol, for the
    previous close and the rolling volatility; `bars` (BAR_SCHEMA) the 1-minute bars of
    `sessions`."""
    days = sorted(set(sessions))
    frame = daily.sort_values(_KEYS, kind="stable", ignore_index=True)
    previous_close = frame.groupby("symbol", sort=False)["close"].shift(1)
    previous_session = frame.groupby("symbol", sort=False)["session"].shift(1)
    previous_close = previous_close.where(previous_session == _previous_sessions(frame["session"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["return"] = np.log(frame["close"] / previous_close)
        frame["overnight_return"] = np.log(frame["open"] / previous_close)
    frame["rolling_vol_20"] = _window_std(frame["return"].to_numpy()) * np.sqrt(TRADING_DAYS)
    frame = frame[frame["session"].isin(np.array(days, dtype="datetime64[us]"))]
    frame = frame.reset_index(drop=True)
    frame["range"] = (frame["high"] - frame["low"]) / frame["close"]
    frame["close_vs_vwap"] = frame["close"] / frame["vwap"] - 1
    frame = frame.merge(_realized_vol(bars, days), on=_KEYS, how="left")
    return frame[list(SESSION_ANALYTICS_SCHEMA)].astype(SESSION_ANALYTICS_SCHEMA)


def split_adjusted_analytics(
    daily: pd.DataFrame, bars: pd.DataFrame, sessions: Sequence[date], actions: pd.DataFrame | None
) -> pd.DataFrame:
    """`session_analytics` with returns, overnight returns and rolling volatility across the
    splits of `actions` (corporate_actions rows; None: none), prices, volume and VWAP raw."""
    from marketdata_assets.history.adjust import adjust_bars

    raw = session_analytics(daily, bars, sessions)
    if actions is None or actions.empty:
        return raw
    adjusted = session_analytics(adjust_bars(daily, actions, {}, "splits"), bars, sessions)
    across = ["return", "overnight_return", "rolling_vol_20"]
    return raw.assign(**{name: adjusted[name].to_numpy() for name in across})


def _window_std(returns: np.ndarray) -> np.ndarray:
    """The sample standard deviation of each row's last WINDOW returns (NaN when one is null).

    Each window is computed from its own 20 values alone, unlike a running sum's, which carries
    the rounding of every row before it: a session's figure then does not depend on where a
    run's frame starts or which symbols precede it, so any batching of a backfill writes the
    same bytes. Each symbol's first row has no return, so a window reaching into the symbol
    before it holds a null and yields null: the sorted frame needs no grouping."""
    std = np.full(len(returns), np.nan)
    if len(returns) >= WINDOW:
        windows = np.lib.stride_tricks.sliding_window_view(returns.astype(float), WINDOW)
        std[WINDOW - 1 :] = windows.std(axis=1, ddof=1)
    return std


def _previous_sessions(session: pd.Series) -> pd.Series:
    """The NYSE session before each session (NaT when the calendar has none)."""
    if session.empty:
        return session
    first, last = session.min().date(), session.max().date()
    calendar = np.array(sessions_in(first - timedelta(days=10), last), dtype="datetime64[us]")
    at = np.searchsorted(calendar, session.to_numpy("datetime64[us]"))
    before = np.where(at > 0, calendar[np.maximum(at - 1, 0)], np.datetime64("NaT", "us"))
    return pd.Series(before, index=session.index, dtype="datetime64[us]")


def _realized_vol(bars: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """realized_vol per symbol and session of `days`, from the 1-minute bars."""
    keys, symbols = symbol_session_keys(bars)
    session = session_days(bars["start"])
    wanted = np.array(days, dtype="datetime64[D]").astype(np.int64)
    opens = np.array([session_bounds(day)[0].as_unit("us").value for day in days], np.int64)
    minute_bar = bars["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero(minute_bar & np.isin(session, wanted))
    if not len(rows):
        return pd.DataFrame({"symbol": [], "session": [], "realized_vol": []}).astype(
            {"symbol": "str", "session": "datetime64[us]", "realized_vol": "float64"}
        )
    start = bars["start"].array.asi8[rows]
    bucket = (start - opens[np.searchsorted(wanted, session[rows])]) // _BUCKET_US
    order = np.lexsort((start, keys[rows]))
    key, bucket, close = keys[rows][order], bucket[order], bars["close"].to_numpy()[rows][order]
    # a bucket's price: the close of its last bar
    last = np.r_[(key[1:] != key[:-1]) | (bucket[1:] != bucket[:-1]), True]
    key, log_close = key[last], np.log(close[last])
    same = np.r_[False, key[1:] == key[:-1]]
    squared = np.where(same, np.square(log_close - np.roll(log_close, 1)), 0.0)
    first = np.flatnonzero(~same)
    buckets = np.diff(np.r_[first, len(key)])
    sum_squared = np.add.reduceat(squared, first)
    symbol, session_of_key = key_parts(key[first], symbols)
    return pd.DataFrame(
        {
            "symbol": pd.Series(symbol, dtype="str"),
            "session": session_of_key,
            "realized_vol": np.where(buckets >= 2, np.sqrt(sum_squared * TRADING_DAYS), np.nan),
        }
    )

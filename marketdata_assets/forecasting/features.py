"""The panel as dense arrays (symbols x session minutes) and the features the models read.

Every value at minute column t is known at the end of bar t: a close carries forward within its
session over missing bars (no trade, no move) and is unknown (NaN) before the symbol's first bar
of the session. Returns are 1-minute log returns within sessions; a session's first one runs from
its open, so the overnight gap is a feature of its own, never a minute's return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from marketdata_assets.forecasting.panel import Panel
from marketdata_assets.market.calendar import session_minutes

US_PER_MINUTE = 60_000_000
LAGS = 5  # lagged 1-minute returns
VOL_WINDOW = 30  # minutes of recent realised volatility
DAY_LAGS = 3  # lagged session returns
MINUTE_FEATURES = (*(f"return_{k}" for k in range(LAGS)), "minute", "volatility", "gap")
DAY_FEATURES = (*(f"day_return_{k}" for k in range(DAY_LAGS)), "gap", "intraday", "volatility")


@dataclass(frozen=True, eq=False)
class Grid:
    """A panel on the sessions' minute grid; columns are minutes of every session, in order.
    `fits` keeps what models fitted on it, so horizons sharing a fit share it."""

    symbols: np.ndarray  # (S,) str
    sessions: list[date]  # (D,)
    starts: np.ndarray  # (T,) each column's bar start, µs since the epoch (UTC)
    bounds: np.ndarray  # (D + 1,) each session's first column, then T
    minute: np.ndarray  # (T,) minutes since the session's open
    close: np.ndarray  # (S, T) last price at each bar's end
    open: np.ndarray  # (S, D) each session's open
    day_close: np.ndarray  # (S, D) each session's close
    fits: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False)

    @cached_property
    def session_of(self) -> np.ndarray:
        """(T,) each column's session index."""
        return np.repeat(np.arange(len(self.sessions)), np.diff(self.bounds))

    @cached_property
    def returns(self) -> np.ndarray:
        """(S, T) 1-minute log returns within sessions (0 where unknown); a session's first bar
        returns from the session's open."""
        log = np.log(self.close)
        previous = np.concatenate((log[:, :1], log[:, :-1]), axis=1)
        previous[:, self.bounds[:-1]] = np.nan  # a session's first bar follows no bar of it
        opened = np.log(self.open)[:, self.session_of]
        previous = np.where(np.isnan(previous), opened, previous)
        return np.nan_to_num(log - previous, nan=0.0, posinf=0.0, neginf=0.0)

    @cached_property
    def log_level(self) -> np.ndarray:
        """(S, T) the cumulated returns: a log price without the overnight gaps."""
        return np.cumsum(self.returns, axis=1)

    @cached_property
    def day_returns(self) -> np.ndarray:
        """(S, D) close-to-close log returns (NaN for the first session)."""
        log = np.log(self.day_close)
        return np.concatenate((np.full((len(log), 1), np.nan), np.diff(log, axis=1)), axis=1)

    @cached_property
    def gaps(self) -> np.ndarray:
        """(S, D) overnight gaps, log(open / previous close) (0 where unknown)."""
        gap = np.log(self.open[:, 1:] / self.day_close[:, :-1])
        return np.nan_to_num(np.concatenate((np.zeros((len(gap), 1)), gap), axis=1))

    def bar_end(self, columns: np.ndarray) -> np.ndarray:
        """The end of each column's bar, µs since the epoch."""
        return self.starts[columns] + US_PER_MINUTE

    def session_end(self, sessions: np.ndarray) -> np.ndarray:
        """The end of each session's last bar, µs since the epoch."""
        return self.bar_end(self.bounds[np.asarray(sessions) + 1] - 1)

    def columns(self, first: int, last: int) -> np.ndarray:
        """The columns of sessions `first` to `last - 1`."""
        return np.arange(self.bounds[first], self.bounds[last])

    @cached_property
    def minute_features(self) -> np.ndarray:
        """(S, T, K) the features of MINUTE_FEATURES at each column (float32)."""
        returns, (count, width) = self.returns, self.returns.shape
        features = np.zeros((count, width, len(MINUTE_FEATURES)), dtype=np.float32)
        for lag in range(LAGS):
            features[:, lag:, lag] = returns[:, : width - lag]
        features[:, :, LAGS] = self.minute / 390.0
        squares = np.concatenate((np.zeros((count, 1)), np.cumsum(returns**2, axis=1)), axis=1)
        behind = np.maximum(np.arange(width) + 1 - VOL_WINDOW, 0)
        seen = np.arange(width) + 1 - behind
        features[:, :, LAGS + 1] = np.sqrt((squares[:, 1:] - squares[:, behind]) / seen)
        features[:, :, LAGS + 2] = self.gaps[:, self.session_of]
        return features

    @cached_property
    def day_features(self) -> np.ndarray:
        """(S, D, K) the features of DAY_FEATURES at each session's close."""
        count, days = self.day_close.shape
        features = np.zeros((count, days, len(DAY_FEATURES)))
        returns = np.nan_to_num(self.day_returns)
        for lag in range(DAY_LAGS):
            features[:, lag:, lag] = returns[:, : days - lag]
        features[:, :, DAY_LAGS] = self.gaps
        features[:, :, DAY_LAGS + 1] = np.nan_to_num(np.log(self.day_close / self.open))
        squares = np.add.reduceat(self.returns**2, self.bounds[:-1], axis=1)
        features[:, :, DAY_LAGS + 2] = np.sqrt(squares)
        return features


def grid_of(panel: Panel) -> Grid:
    """The panel on its sessions' minute grid (from the NYSE calendar, early closes included)."""
    sessions = panel.sessions
    symbols = np.asarray(panel.symbols, dtype=object)
    starts = [session_minutes(day).as_unit("us").asi8 for day in sessions]
    bounds = np.concatenate(([0], np.cumsum([len(s) for s in starts]))).astype(np.int64)
    every = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
    minute = np.arange(len(every)) - np.repeat(bounds[:-1], np.diff(bounds))
    bars, daily = panel.minute, panel.daily
    close = np.full((len(symbols), len(every)), np.nan)
    row, column = _codes(bars["symbol"], symbols), _index(bars["start"].array.asi8, every)
    found = column >= 0
    close[row[found], column[found]] = bars["close"].to_numpy()[found]
    days = np.array([np.datetime64(day, "us") for day in sessions], dtype="datetime64[us]")
    row, column = (
        _codes(daily["symbol"], symbols),
        _index(daily["session"].array.asi8, days.view(np.int64)),
    )
    found = column >= 0
    opens, day_close = (np.full((len(symbols), len(sessions)), np.nan) for _ in range(2))
    opens[row[found], column[found]] = daily["open"].to_numpy()[found]
    day_close[row[found], column[found]] = daily["close"].to_numpy()[found]
    return Grid(symbols, sessions, every, bounds, minute, _carried(close, bounds), opens, day_close)


def _codes(names: pd.Series, symbols: np.ndarray) -> np.ndarray:
    """Each name's index in `symbols`."""
    return pd.Categorical(names, categories=symbols).codes.astype(np.int64)


def _index(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each value's index in the sorted `keys`, or -1 where it is not one of them."""
    if not len(keys):
        return np.full(len(values), -1)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return np.where(keys[at] == values, at, -1)


def _carried(close: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """`close` with each NaN replaced by the last price before it in the same session."""
    width = close.shape[1]
    position = np.where(np.isnan(close), -1, np.arange(width))
    position = np.maximum(position, np.repeat(bounds[:-1] - 1, np.diff(bounds))[np.newaxis, :])
    latest = np.maximum.accumulate(position, axis=1)
    opening = np.repeat(bounds[:-1], np.diff(bounds))[np.newaxis, :]
    carried = np.take_along_axis(close, np.maximum(latest, 0), axis=1)
    return np.where(latest >= opening, carried, np.nan)

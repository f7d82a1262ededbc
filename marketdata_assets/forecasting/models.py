"""The forecasting types: a `Task` (one horizon on a grid), a `Fitted` model and its `Fitter`,
and the `ModelSpec` the registry (`forecasting.registry`) lists. Models predict log returns (never
price levels): a forecast price is the last price times exp(predicted return).

A `Task`'s positions are minute columns ("1m", "5m", "15m": the return from the end of bar t to
the end of bar t + h, within t's session) or sessions ("1d": from a session's close to the next
session's close). A fit reads only the sessions of its window and reports the last position it
read (`used`); a prediction at position p reads data up to p only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from marketdata_assets.forecasting.features import Grid
from marketdata_assets.forecasting.horizons import HORIZONS

NOTHING = -1  # `used` of a model that reads no data to fit


@dataclass(frozen=True)
class Task:
    """Forecasting `horizon` on `grid`."""

    grid: Grid
    horizon: str

    @property
    def steps(self) -> int:
        return HORIZONS[self.horizon]

    @property
    def daily(self) -> bool:
        return self.steps == 0

    def origins(self, session: int, stride: int) -> np.ndarray:
        """The positions forecast from in `session` whose target lies in the grid: every
        `stride`th minute from the open (one position, the session, for "1d")."""
        grid = self.grid
        if self.daily:
            return np.array([session] if session + 1 < len(grid.sessions) else [], dtype=np.int64)
        columns = grid.columns(session, session + 1)
        keep = ((grid.minute[columns] + 1) % stride == 0) & (
            columns + self.steps < grid.bounds[session + 1]
        )
        return columns[keep]

    def training(self, first: int, last: int, stride: int = 1) -> np.ndarray:
        """The positions of sessions `first` to `last - 1` whose target lies in those sessions
        (every `stride`th minute)."""
        if self.daily:
            return np.arange(max(first, 1), last - 1, dtype=np.int64)
        grid = self.grid
        columns = grid.columns(first, last)
        ends = grid.bounds[grid.session_of[columns] + 1]
        keep = (columns + self.steps < ends) & ((grid.minute[columns] + 1) % stride == 0)
        return columns[keep]

    def reach(self, positions: np.ndarray) -> np.ndarray:
        """The position of each target."""
        return positions + (1 if self.daily else self.steps)

    def end(self, positions: np.ndarray) -> np.ndarray:
        """The instant (µs since the epoch) at which each position's data is complete."""
        if self.daily:
            return self.grid.session_end(positions)
        return self.grid.bar_end(positions)

    def last_price(self, positions: np.ndarray) -> np.ndarray:
        """(S, P) the price forecast from."""
        prices = self.grid.day_close if self.daily else self.grid.close
        return prices[:, positions]

    def actual(self, positions: np.ndarray) -> np.ndarray:
        """(S, P) the price forecast (NaN where unknown)."""
        return self.last_price(self.reach(positions))

    def target(self, positions: np.ndarray) -> np.ndarray:
        """(S, P) the log return forecast."""
        return np.log(self.actual(positions) / self.last_price(positions))

    def features(self, positions: np.ndarray) -> np.ndarray:
        """(S, P, K) the features at each position."""
        grid = self.grid
        return grid.day_features[:, positions] if self.daily else grid.minute_features[:, positions]

    def returns(self) -> np.ndarray:
        """(S, positions) the one-step log returns the statistical models are fitted on."""
        return np.nan_to_num(self.grid.day_returns) if self.daily else self.grid.returns

    def naive_scale(self, first: int, last: int) -> np.ndarray:
        """(S,) each symbol's in-sample MAE of the one-step naive forecast (in price) over
        sessions `first` to `last - 1` (every earlier session's closes for "1d")."""
        key = ("naive_scale", self.daily, first, last)
        if key not in self.grid.fits:
            self.grid.fits[key] = self._naive_scale(first, last)
        return self.grid.fits[key]  # type: ignore[return-value]

    def _naive_scale(self, first: int, last: int) -> np.ndarray:
        grid = self.grid
        if self.daily:
            closes = grid.day_close[:, :last]
            return nanmean(np.abs(np.diff(closes, axis=1)))
        columns = grid.columns(first, last)
        step = columns[1:][grid.minute[columns[1:]] > 0]
        return nanmean(np.abs(grid.close[:, step] - grid.close[:, step - 1]))


class Fitted(Protocol):
    """A model fitted on a window: `used` is the last position whose data the fit read."""

    used: int

    def predict(self, positions: np.ndarray) -> np.ndarray:
        """(S, P) predicted log returns, reading data up to each position only."""
        ...


# Fits a model on sessions first .. last - 1 of a task: (task, first, last) -> fitted.
Fitter = Callable[[Task, int, int], Fitted]


@dataclass(frozen=True)
class ModelSpec:
    """One model as the registry lists it: its name, its fit and what it is in one line."""

    name: str
    fit: Fitter
    summary: str


def nanmean(values: np.ndarray) -> np.ndarray:
    """Row means ignoring NaN (NaN for a row without a value)."""
    count = np.sum(~np.isnan(values), axis=1)
    total = np.nansum(values, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

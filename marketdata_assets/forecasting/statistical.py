"""ETS and ARIMA from statsmodels: one pooled fit per window, applied to every symbol.

Fitting one statsmodels model per symbol and origin would cost seconds per origin; instead each
window gets one fit across symbols (as the learned models do), on a seeded sample of whole
symbol-sessions of the window's one-step returns (minute tasks; "1d": every symbol's session
returns), concatenated in symbol then session order (a junction between two symbols is one
ordinary step among thousands). The fitted parameters then run as filters over each symbol's own
data up to each origin, so a forecast reads nothing after its origin.

- ets: ETS(A,Ad,N), additive errors and a damped additive trend, on the log price without
  overnight gaps (`Grid.log_level`; "1d": the cumulated session returns). h-step return =
  level + (phi + ... + phi^h) * trend - log price.
- arima: ARIMA(2,0,0) with a mean on one-step log returns (= ARIMA(2,1,0) on log prices),
  Yule-Walker estimates; h-step return = the sum of the iterated one-step forecasts.
A sample of fewer than MIN_FIT_POINTS returns gets no fit: the model then forecasts as naive.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from marketdata_assets.forecasting.baselines import Naive
from marketdata_assets.forecasting.models import NOTHING, Fitted, Task
from marketdata_assets.forecasting.windows import MIN_FIT_POINTS

ETS_POINTS = 2_500  # returns per ETS fit (a fit costs ~0.15 s)
ARIMA_POINTS = 20_000  # returns per ARIMA fit (~0.1 s)
ARIMA_ORDER = 2
_ETS_PARAMS = ("smoothing_level", "smoothing_trend", "damping_trend")


@dataclass
class Ets:
    task: Task
    alpha: float
    beta: float
    phi: float
    start: int  # the first position the filter runs from
    used: int

    def predict(self, positions: np.ndarray) -> np.ndarray:
        level, trend = self._filtered(int(positions.max()) if len(positions) else self.start)
        index = positions - self.start
        steps = 1 if self.task.daily else self.task.steps
        damped = sum(self.phi**k for k in range(1, steps + 1))
        log_price = _log_price(self.task)[:, positions]
        return level[:, index] + damped * trend[:, index] - log_price

    def _filtered(self, until: int) -> tuple[np.ndarray, np.ndarray]:
        """Level and trend after each position from `start` to `until` (data up to each);
        the latest filtering of each kind is kept for the other horizons of the same fit."""
        fit = (self.start, self.alpha, self.beta, self.phi)
        key = ("ets_states", self.task.daily)
        kept = self.task.grid.fits.get(key)
        if not (isinstance(kept, tuple) and kept[0] == fit and kept[1] >= until):
            kept = (fit, until, *self._filter(until))
            self.task.grid.fits[key] = kept
        return kept[2], kept[3]

    def _filter(self, until: int) -> tuple[np.ndarray, np.ndarray]:
        series = _log_price(self.task)[:, self.start : until + 1]
        count, width = series.shape
        level, trend = np.empty((count, width)), np.empty((count, width))
        current, slope = series[:, 0].copy(), np.zeros(count)
        level[:, 0], trend[:, 0] = current, slope
        for t in range(1, width):
            error = series[:, t] - current - self.phi * slope
            current = current + self.phi * slope + self.alpha * error
            slope = self.phi * slope + self.beta * error
            level[:, t], trend[:, t] = current, slope
        return level, trend


@dataclass
class Arima:
    task: Task
    mean: float
    ar: np.ndarray  # (ARIMA_ORDER,) phi_1 .. phi_p
    used: int

    def predict(self, positions: np.ndarray) -> np.ndarray:
        returns = self.task.returns()
        lags = [
            returns[:, np.maximum(positions - k, 0)] * (positions - k >= 0)
            for k in range(len(self.ar))
        ]
        history = [lag - self.mean for lag in lags]  # newest first
        total = np.zeros((len(returns), len(positions)))
        for _ in range(1 if self.task.daily else self.task.steps):
            step = sum(phi * value for phi, value in zip(self.ar, history, strict=True))
            total += self.mean + step
            history = [step, *history[:-1]]
        return total


def fit_ets(task: Task, first: int, last: int) -> Fitted:
    fit = _shared(task, "ets", first, last, _ets_params)
    if fit is None:
        return Naive(task)
    (alpha, beta, phi), used = fit
    start = 0 if task.daily else int(task.grid.bounds[first])
    return Ets(task, alpha, beta, phi, start, used)


def fit_arima(task: Task, first: int, last: int) -> Fitted:
    fit = _shared(task, "arima", first, last, _arima_params)
    if fit is None:
        return Naive(task)
    (mean, *ar), used = fit
    return Arima(task, mean, np.asarray(ar), used)


def _ets_params(sample: np.ndarray) -> tuple[float, ...]:
    """(alpha, beta, phi) of ETS(A,Ad,N) fitted to the cumulated `sample`."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(np.cumsum(sample), error="add", trend="add", damped_trend=True)
        params = dict(zip(model.param_names, model.fit(disp=False).params, strict=True))
    return tuple(float(params[name]) for name in _ETS_PARAMS)


def _arima_params(sample: np.ndarray) -> tuple[float, ...]:
    """(mean, phi_1 .. phi_p) of ARIMA(p,0,0) fitted to `sample` by Yule-Walker."""
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIMA(sample, order=(ARIMA_ORDER, 0, 0), trend="c")
        params = model.fit(method="yule_walker", return_params=True)
    return tuple(float(value) for value in params[: 1 + ARIMA_ORDER])


def _shared(
    task: Task,
    name: str,
    first: int,
    last: int,
    estimate: Callable[[np.ndarray], tuple[float, ...]],
) -> tuple[tuple[float, ...], int] | None:
    """The parameters `estimate` finds on the window's sample, and the last position the sample
    read, fitted once per grid, window and kind (minute or "1d"); None when the sample is too
    small to fit."""
    key = (name, task.daily, first, last)
    if key not in task.grid.fits:
        points = ETS_POINTS if name == "ets" else ARIMA_POINTS
        sample, used = _sample(task, first, last, points)
        fit = (estimate(sample), used) if len(sample) >= MIN_FIT_POINTS else None
        task.grid.fits[key] = fit
    return task.grid.fits[key]  # type: ignore[return-value]


def _sample(task: Task, first: int, last: int, points: int) -> tuple[np.ndarray, int]:
    """A seeded sample of whole symbol-sessions of the window's one-step returns (about `points`
    of them), in symbol then session order, and the last position it read."""
    grid = task.grid
    if task.daily:
        sessions = np.arange(1, last)
        known = ~np.isnan(grid.day_returns[:, sessions])
        rows = [grid.day_returns[s, sessions[known[s]]] for s in range(len(grid.symbols))]
        sample = np.concatenate(rows) if rows else np.zeros(0)
        return sample, (last - 1 if len(sample) else NOTHING)
    held = np.argwhere(~np.isnan(grid.day_close[:, first:last]))  # (symbol, session - first)
    rng = np.random.default_rng([first, last, points])
    per_block = max(int(np.diff(grid.bounds).mean()), 1) if len(grid.sessions) else 1
    chosen = held[rng.permutation(len(held))[: max(points // per_block, 1)]]
    chosen = chosen[np.lexsort((chosen[:, 1], chosen[:, 0]))]
    blocks = [
        grid.returns[s, grid.bounds[first + d] : grid.bounds[first + d + 1]] for s, d in chosen
    ]
    if not blocks:
        return np.zeros(0), NOTHING
    used = int(grid.bounds[first + chosen[:, 1].max() + 1] - 1)
    return np.concatenate(blocks), used


def _log_price(task: Task) -> np.ndarray:
    """(S, positions) the series ETS smooths: log price without overnight gaps ("1d": the
    cumulated session returns)."""
    if task.daily:
        return np.cumsum(task.returns(), axis=1)
    return task.grid.log_level

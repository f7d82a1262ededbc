"""The walk-forward evaluation: every model refitted before each origin session, forecasts made
from inside it, each judged against naive on the same origins (`metrics`).

For each of the last `origins` sessions (the origin session) and each horizon, every model is
fitted on the sessions before it (the last TRAINING_SESSIONS for minute horizons; every earlier
session for "1d"), so on data strictly before the origin session's open. It then forecasts from
every max(STRIDE, h)-th minute of the origin session (1m and 5m: the end of bars 5, 10, ... after
the open; 15m: every 15 minutes), reading data up to that minute only, each target inside the
session: successive forecasts never overlap, so each is a fresh test (and the Diebold-Mariano
lag, computed from the rows, is 0); the stride keeps 100 symbols x 20 sessions within the
bench's budget. "1d" forecasts once, at the session's close, the next session's close.
Intervals (80 %) are each symbol's 10 % and 90 % quantiles of the model's in-sample residuals
over the window (every STRIDE-th minute; every symbol's together below 10 residuals), added to
the forecast return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketdata_assets.forecasting.features import grid_of
from marketdata_assets.forecasting.horizons import HORIZONS, check_horizon
from marketdata_assets.forecasting.metrics import SKILL_FIELDS, skill_table
from marketdata_assets.forecasting.models import Fitted, Task
from marketdata_assets.forecasting.panel import Panel, not_enough_history
from marketdata_assets.forecasting.registry import MODELS, fitter
from marketdata_assets.forecasting.windows import (
    MIN_ORIGINS,
    MIN_TRAINING_SESSIONS,
    ORIGINS,
    TRAINING_SESSIONS,
    sessions_needed,
)

__all__ = ["ORIGINS", "SKILL_FIELDS", "Evaluation", "leakage", "sessions_needed", "walk_forward"]

STRIDE = 5  # minutes between origins inside an origin session (at least the horizon)
INTERVAL = (0.10, 0.90)
_NEVER = np.iinfo(np.int64).min  # NaT: the trained_until of a model fitted on nothing
FORECAST_COLUMNS = {
    "model": "str",
    "symbol": "str",
    "horizon": "str",
    "origin": "datetime64[us, UTC]",
    "target": "datetime64[us, UTC]",
    "forecast": "float64",
    "lower": "float64",
    "upper": "float64",
    "actual": "float64",
    "last_price": "float64",
    "mase_scale": "float64",
    "trained_until": "datetime64[us, UTC]",
    "information_until": "datetime64[us, UTC]",
}


@dataclass(frozen=True)
class Evaluation:
    """The walk-forward's forecasts (FORECAST_COLUMNS: one row per model, symbol, horizon and
    origin; `target` the instant forecast, `mase_scale` MASE's denominator) and its skill table
    (`metrics.SKILL_COLUMNS`)."""

    forecasts: pd.DataFrame
    skill: pd.DataFrame


def walk_forward(
    panel: Panel,
    origins: int = ORIGINS,
    horizons: Sequence[str] = tuple(HORIZONS),
    models: Sequence[str] | None = None,
    stride: int = STRIDE,
) -> Evaluation:
    """Evaluate `models` (default: every registered one; naive always among them) at `horizons`
    over the last `origins` sessions of `panel` (fewer when the panel holds fewer than
    `sessions_needed(origins)`; at least MIN_ORIGINS with MIN_TRAINING_SESSIONS before them,
    else NotEnoughHistory)."""
    for horizon in horizons:
        check_horizon(horizon)
    chosen = tuple(MODELS) if models is None else models
    names = ["naive", *(name for name in chosen if name != "naive")]
    fitters = {name: fitter(name) for name in names}
    held = len(panel.sessions)
    count = min(origins, held - MIN_TRAINING_SESSIONS)
    if count < MIN_ORIGINS:
        last = panel.sessions[-1] if panel.sessions else None
        raise not_enough_history(held, sessions_needed(origins), panel.symbols, last)
    grid = grid_of(panel)
    parts: list[_Part] = []
    tasks = [Task(grid, horizon) for horizon in horizons]
    for session in range(held - count, held):  # horizons inside: they share fits and filters
        for task in tasks:
            positions = task.origins(session, max(stride, task.steps))
            if not len(positions):
                continue
            first = 0 if task.daily else max(0, session - TRAINING_SESSIONS)
            for name in names:
                fitted = fitters[name](task, first, session)
                parts.append(forecast_rows(task, fitted, name, first, session, positions))
    forecasts = _frame(parts, grid.symbols)
    return Evaluation(forecasts, skill_table(forecasts, tuple(names)))


def leakage(evaluation: Evaluation) -> pd.DataFrame:
    """The forecasts that were fitted on data at or after their origin, or read data after it
    (empty unless the evaluation leaks)."""
    rows = evaluation.forecasts
    leaked = (rows["trained_until"] >= rows["origin"]) | (
        rows["information_until"] > rows["origin"]
    )
    return rows[leaked.to_numpy(dtype=bool, na_value=False)]


@dataclass
class _Part:
    """The forecast rows of one model, horizon and window: per-row arrays in `values`."""

    model: str
    horizon: str
    trained_until: int
    symbols: np.ndarray  # index into the grid's symbols
    values: dict[str, np.ndarray]


def forecast_rows(
    task: Task, fitted: Fitted, name: str, first: int, last: int, positions: np.ndarray
) -> _Part:
    """The forecast rows of `fitted` (fitted on sessions `first` to `last - 1`) at `positions`,
    for every symbol with a last price and an actual there."""
    predicted = fitted.predict(positions)
    low, high, used = calibrate(task, fitted, first, last)
    last_price, actual = task.last_price(positions), task.actual(positions)
    keep = np.isfinite(last_price) & np.isfinite(actual)
    symbols, columns = np.nonzero(keep)
    change, price = predicted[keep], last_price[keep]
    values = {
        "origin": task.end(positions)[columns],
        "target": task.end(task.reach(positions))[columns],
        "forecast": price * np.exp(change),
        "lower": price * np.exp(change + low[symbols]),
        "upper": price * np.exp(change + high[symbols]),
        "actual": actual[keep],
        "last_price": price,
        "mase_scale": task.naive_scale(first, last)[symbols],
    }
    return _Part(name, task.horizon, _instant(task, used), symbols.astype(np.int32), values)


def calibrate(
    task: Task, fitted: Fitted, first: int, last: int, stride: int = STRIDE
) -> tuple[np.ndarray, np.ndarray, int]:
    """Each symbol's interval offsets, the INTERVAL quantiles of `fitted`'s in-sample residuals
    (target - prediction, log returns) over sessions `first` to `last - 1` at `stride` (every
    symbol's together where a symbol has fewer than 10), and the last position fit and
    residuals read."""
    positions = task.training(first, last, stride)
    residual = task.target(positions) - fitted.predict(positions)
    known = np.isfinite(residual)
    low, high = _row_quantiles(residual, INTERVAL)
    if known.any():
        pooled = np.quantile(residual[known], INTERVAL)
        few = known.sum(axis=1) < 10
        low, high = np.where(few, pooled[0], low), np.where(few, pooled[1], high)
    reach = int(task.reach(positions[known.any(axis=0)]).max()) if known.any() else -1
    return low, high, max(fitted.used, reach)


def _row_quantiles(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """Each row's quantiles at `levels` ignoring NaN (linear interpolation, as np.quantile)."""
    ordered = np.sort(values, axis=1)  # NaN last
    count = np.sum(~np.isnan(values), axis=1)
    rows = np.arange(len(values))
    found = []
    for level in levels:
        at = np.maximum(count - 1, 0) * level
        below = np.floor(at).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(count - 1, 0))
        weight = at - below
        value = ordered[rows, below] * (1 - weight) + ordered[rows, above] * weight
        found.append(np.where(count > 0, value, np.nan))
    return np.array(found)


def _instant(task: Task, position: int) -> int:
    """The end of `position`'s data in µs since the epoch (NaT for none)."""
    return int(task.end(np.array([position]))[0]) if position >= 0 else _NEVER


def _frame(parts: list[_Part], symbols: np.ndarray) -> pd.DataFrame:
    """The rows of `parts` as one frame of FORECAST_COLUMNS (emptying `parts` as it goes)."""
    lengths = [len(part.symbols) for part in parts]
    columns: dict[str, object] = {
        "model": np.repeat(np.array([part.model for part in parts], dtype=object), lengths),
        "symbol": symbols[np.concatenate([part.symbols for part in parts])] if parts else [],
        "horizon": np.repeat(np.array([part.horizon for part in parts], dtype=object), lengths),
        "trained_until": np.repeat([part.trained_until for part in parts], lengths),
    }
    for name in list(parts[0].values) if parts else []:
        columns[name] = np.concatenate([part.values.pop(name) for part in parts])
    columns["information_until"] = columns.get("origin", [])
    frame = {}
    for name, dtype in FORECAST_COLUMNS.items():
        values = np.asarray(columns.pop(name, []))
        if dtype == "str":
            frame[name] = pd.array(values.astype(object), dtype="str")
        elif dtype.startswith("datetime64"):
            instants = values.astype(np.int64).astype("datetime64[us]")
            frame[name] = pd.DatetimeIndex(instants).tz_localize("UTC")
        else:
            frame[name] = values.astype(dtype)
    return pd.DataFrame(frame)

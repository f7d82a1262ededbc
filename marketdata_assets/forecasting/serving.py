"""Serving: per symbol and horizon, a model's forecast only where it beats naive significantly.

The candidate is the model with the best out-of-sample skill (1 - relative MAE) for the symbol
and horizon. It is served if, and only if, its skill is positive, it was judged on at least
MIN_FORECASTS forecasts, and its Diebold-Mariano test says it beats naive: the one-sided p-value
(half the two-sided one when the skill is positive) below SIGNIFICANCE after the
Benjamini-Hochberg adjustment over every comparison in the skill table (each non-naive model for
each symbol and horizon). Without the adjustment the best of hundreds of comparisons on a random
walk "wins" somewhere by chance alone; with fewer forecasts the test's t approximation is too
optimistic (19 daily forecasts whose errors mostly fall one way read as p < 0.001). Otherwise
naive is served, and the reason says why in words.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from marketdata_assets.forecasting.evaluation import Evaluation, calibrate, walk_forward
from marketdata_assets.forecasting.features import grid_of
from marketdata_assets.forecasting.horizons import check_horizon, horizon_words
from marketdata_assets.forecasting.metrics import POOLED
from marketdata_assets.forecasting.models import Task
from marketdata_assets.forecasting.panel import NotEnoughHistory, Panel, not_enough_history
from marketdata_assets.forecasting.registry import fitter
from marketdata_assets.forecasting.served import skill_rows
from marketdata_assets.forecasting.windows import (
    MIN_ORIGINS,
    MIN_TRAINING_SESSIONS,
    ORIGINS,
    TRAINING_SESSIONS,
    sessions_needed,
)
from marketdata_assets.lake.datasets import dataset

__all__ = ["ORIGINS", "SIGNIFICANCE", "NotEnoughHistory", "choose", "forecast", "served_table"]

SIGNIFICANCE = 0.05
MIN_FORECASTS = 50  # out-of-sample forecasts a served model was judged on, at least
# The served table's columns and dtypes, as the registry's price_forecasts holds them: a served
# forecast's own, then what the skill table measured of its model.
SERVED_DTYPES = dataset("price_forecasts").dtypes
_MEASURED = ("n", "coverage")
SERVED_COLUMNS = tuple(c for c in SERVED_DTYPES if c not in _MEASURED)
_KEYS = ["symbol", "horizon", "served_model"]


def choose(skill: pd.DataFrame, symbol: str, horizon: str) -> tuple[str, str]:
    """(served model, reason in words) for `symbol` at `horizon`, from a skill table."""
    skill = skill.reset_index(drop=True)
    where = f"for {symbol} at {horizon_words(horizon)}"
    rows = skill[skill["symbol"].eq(symbol) & skill["horizon"].eq(horizon)]
    candidates = rows[
        rows["model"].ne("naive") & np.isfinite(rows["relative_mae"]) & rows["dm_pvalue"].notna()
    ]
    if candidates.empty:
        return "naive", f"no model was evaluated {where}: serving naive"
    best = candidates.loc[candidates["relative_mae"].idxmin()]
    adjusted, comparisons = _adjusted(skill)
    gain, p, q = 1 - best["relative_mae"], best["dm_pvalue"], adjusted[best.name]
    evidence = (
        f"skill {_percent(gain)}, DM p = {_p(p)} (one-sided and adjusted for {comparisons} "
        f"comparisons: {_p(q)})"
    )
    if best["n"] < MIN_FORECASTS:
        return "naive", (
            f"too few forecasts to judge {where} ({best['n']}, at least {MIN_FORECASTS} "
            f"needed): the best, {best['model']}, has {evidence}"
        )
    if gain > 0 and q < SIGNIFICANCE:
        return str(best["model"]), f"{best['model']} beats naive {where} ({evidence})"
    if gain <= 0:
        return "naive", f"no model beats naive {where}: the best, {best['model']}, has {evidence}"
    return "naive", (
        f"no model beats naive significantly {where}: the best, {best['model']}, has {evidence}"
    )


def forecast(
    panel: Panel, symbol: str, horizon: str, evaluation: Evaluation | None = None
) -> dict[str, object]:
    """`symbol`'s forecast at `horizon` from the end of its last bar: the served model (see
    `choose`; the walk-forward of `panel` over its last ORIGINS sessions unless `evaluation` is
    given) refitted on the latest window of the history, its 80 % interval and the skill table's
    rows of the symbol and horizon (naive first). Minute horizons count trading minutes: from a
    session's close they reach into the next session."""
    check_horizon(horizon)
    held = int(panel.daily["symbol"].eq(symbol).sum())
    if held < MIN_TRAINING_SESSIONS + MIN_ORIGINS:
        last = panel.sessions[-1] if panel.sessions else None
        raise not_enough_history(held, sessions_needed(ORIGINS), [symbol], last)
    if evaluation is None:
        evaluation = walk_forward(panel, ORIGINS, (horizon,))
    served, reason = choose(evaluation.skill, symbol, horizon)
    grid = grid_of(panel)
    task = Task(grid, horizon)
    count = len(grid.sessions)
    first = 0 if task.daily else max(0, count - TRAINING_SESSIONS)
    fitted = fitter(served)(task, first, count)
    row = int(np.searchsorted(grid.symbols, symbol))
    prices = grid.day_close if task.daily else grid.close
    position = np.array([np.flatnonzero(np.isfinite(prices[row]))[-1]])
    if not task.daily:  # the end of the last bar, not of a minute it was carried to
        bars = panel.minute[panel.minute["symbol"].eq(symbol)]
        position = np.searchsorted(grid.starts, bars["start"].array.asi8[-1:])
    change = float(fitted.predict(position)[row, 0])
    low, high, _ = calibrate(task, fitted, first, count)
    price = float(prices[row, position[0]])
    origin = pd.Timestamp(int(task.end(position)[0]), unit="us", tz="UTC")
    return {
        "symbol": symbol,
        "horizon": horizon,
        "origin": origin.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "served_model": served,
        "reason": reason,
        "forecast": price * math.exp(change),
        "lower": price * math.exp(change + low[row]),
        "upper": price * math.exp(change + high[row]),
        "skill": skill_rows(evaluation.skill, symbol, horizon),
    }


def served_table(served: list[dict[str, object]], skill: pd.DataFrame) -> pd.DataFrame:
    """`served` (answers of `forecast`) as price_forecasts rows, each with the number of
    forecasts `skill` measured its model on for the symbol and horizon and their coverage (0 and
    null where `skill` has no such row: the model was evaluated on no forecast there)."""
    table = pd.DataFrame([{c: row[c] for c in SERVED_COLUMNS} for row in served])
    table = table.reindex(columns=list(SERVED_COLUMNS))
    table["origin"] = pd.to_datetime(table["origin"], utc=True)
    table = table.astype({c: SERVED_DTYPES[c] for c in SERVED_COLUMNS})
    measured = skill.rename(columns={"model": "served_model"})[[*_KEYS, *_MEASURED]]
    measured = measured.astype({c: SERVED_DTYPES[c] for c in _KEYS})
    table = table.merge(measured, how="left", on=_KEYS)
    return table.fillna({"n": 0})[list(SERVED_DTYPES)].astype(SERVED_DTYPES)


def _adjusted(skill: pd.DataFrame) -> tuple[pd.Series, int]:
    """The Benjamini-Hochberg adjusted one-sided p-values (the model beats naive) of the
    table's per-symbol non-naive rows (by the table's index), and how many there are."""
    rows = skill[
        skill["symbol"].ne(POOLED) & skill["model"].ne("naive") & skill["dm_pvalue"].notna()
    ]
    two_sided = rows["dm_pvalue"].to_numpy(dtype=float)
    better = rows["relative_mae"].to_numpy(dtype=float) < 1
    p = np.where(better, two_sided / 2, 1 - two_sided / 2)
    order = np.argsort(p)
    scaled = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.empty(len(p))
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return pd.Series(adjusted, index=rows.index), len(p)


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"

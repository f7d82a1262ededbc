"""Ridge (scikit-learn) and LightGBM: one global model across symbols per window and horizon.

Features (`features.MINUTE_FEATURES`, `features.DAY_FEATURES`): lagged 1-minute log returns,
minute of session, recent realised volatility and the overnight gap ("1d": lagged session
returns, the gap, the session's own return and its realised volatility); never price levels.
The target is the horizon's log return. Ridge is fitted on every position of the window.
LightGBM, shallow and shrunk, is fitted on a seeded sample of LIGHTGBM_ROWS positions of the
window but its last fifth of sessions, which decides the number of trees (early stopping): on
data without signal it stops after a few trees and forecasts close to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from marketdata_assets.forecasting.baselines import Naive
from marketdata_assets.forecasting.models import NOTHING, Fitted, Task
from marketdata_assets.forecasting.windows import MIN_ROWS  # fewer rows: naive

RIDGE_ALPHA = 1.0  # on standardised features
LIGHTGBM_ROWS = 30_000
LIGHTGBM_VALIDATION_ROWS = 15_000
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 200,
    "feature_fraction": 0.9,
    "lambda_l2": 10.0,
    "max_bin": 63,
    "num_threads": 1,  # on these small sets two threads cost 20 times more (contention)
    "deterministic": True,
    "seed": 7,
    "verbose": -1,
}
LIGHTGBM_TREES = 200
VALIDATION_SHARE = 5  # the window's last fifth of sessions (at least one) decides the trees
LIGHTGBM_PATIENCE = 20


@dataclass
class Learned:
    task: Task
    model: Any  # with .predict(X)
    scale: float  # the target's scale the model was fitted in
    used: int

    def predict(self, positions: np.ndarray) -> np.ndarray:
        features = self.task.features(positions)
        count, width, k = features.shape
        if not count * width:
            return np.zeros((count, width))
        flat = self.model.predict(features.reshape(count * width, k))
        return np.asarray(flat, dtype=np.float64).reshape(count, width) * self.scale


def fit_ridge(task: Task, first: int, last: int) -> Fitted:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, used = _rows(task, task.training(first, last))
    if len(y) < MIN_ROWS:
        return Naive(task)
    scale = float(np.std(y)) or 1.0
    model = make_pipeline(StandardScaler(), Ridge(alpha=RIDGE_ALPHA)).fit(x, y / scale)
    return Learned(task, model, scale, used)


def fit_lightgbm(task: Task, first: int, last: int) -> Fitted:
    import lightgbm

    rng = np.random.default_rng([first, last, task.steps])
    fit_until = last - max((last - first) // VALIDATION_SHARE, 1) if last - first > 1 else last
    train = _subsample(task.training(first, fit_until), LIGHTGBM_ROWS, task, rng)
    x, y, used = _rows(task, train)
    if len(y) < MIN_ROWS:
        return Naive(task)
    scale = float(np.std(y)) or 1.0
    stops: list[Any] = []
    valid_sets = []
    if fit_until < last:
        held_out = _subsample(task.training(fit_until, last), LIGHTGBM_VALIDATION_ROWS, task, rng)
        vx, vy, valid_used = _rows(task, held_out)
        if len(vy) >= MIN_ROWS:
            valid_sets = [lightgbm.Dataset(vx, vy / scale)]
            stops = [lightgbm.early_stopping(LIGHTGBM_PATIENCE, verbose=False)]
            used = max(used, valid_used)
    booster = lightgbm.train(
        LIGHTGBM_PARAMS,
        lightgbm.Dataset(x, y / scale),
        num_boost_round=LIGHTGBM_TREES,
        valid_sets=valid_sets,
        callbacks=stops,
    )
    return Learned(task, _Booster(booster), scale, used)


@dataclass
class _Booster:
    booster: Any

    def predict(self, x: np.ndarray) -> np.ndarray:
        best = self.booster.best_iteration or None
        return np.asarray(self.booster.predict(x, num_iteration=best))


def _rows(task: Task, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The features and targets of every symbol at `positions` whose target is known, and the
    last position those read."""
    target = task.target(positions)
    known = np.isfinite(target)
    if not known.any():
        return np.zeros((0, 0)), np.zeros(0), NOTHING
    features = task.features(positions)[known]
    used = int(task.reach(positions)[known.any(axis=0)].max())
    return features, target[known], used


def _subsample(
    positions: np.ndarray, rows: int, task: Task, rng: np.random.Generator
) -> np.ndarray:
    """At most about `rows` / symbols of `positions`, drawn without replacement, in order."""
    keep = max(rows // max(len(task.grid.symbols), 1), 1)
    if len(positions) <= keep:
        return positions
    return np.sort(rng.choice(positions, keep, replace=False))

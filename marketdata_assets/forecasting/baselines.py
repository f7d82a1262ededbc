"""The baselines, by hand: naive (no change), drift (the window's mean return per symbol, times
h; for "1d" every earlier session's) and seasonal naive (the return over the same minutes of the
previous session; for "1d" the last session's return)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketdata_assets.forecasting.models import NOTHING, Fitted, Task, nanmean


@dataclass
class Naive:
    task: Task
    used: int = NOTHING

    def predict(self, positions: np.ndarray) -> np.ndarray:
        return np.zeros((len(self.task.grid.symbols), len(positions)))


@dataclass
class Drift:
    task: Task
    mean: np.ndarray  # (S,) mean one-step return
    used: int

    def predict(self, positions: np.ndarray) -> np.ndarray:
        steps = 1 if self.task.daily else self.task.steps
        return np.repeat(steps * self.mean[:, np.newaxis], len(positions), axis=1)


@dataclass
class SeasonalNaive:
    task: Task
    used: int = NOTHING

    def predict(self, positions: np.ndarray) -> np.ndarray:
        task, grid = self.task, self.task.grid
        if task.daily:
            return np.nan_to_num(grid.day_returns[:, positions])
        session = grid.session_of[positions]
        same = grid.bounds[np.maximum(session - 1, 0)] + grid.minute[positions]
        known = (session > 0) & (same + task.steps < grid.bounds[session])
        same = np.where(known, same, 0)
        level = grid.log_level
        moved = level[:, np.minimum(same + task.steps, level.shape[1] - 1)] - level[:, same]
        return np.where(known, moved, 0.0)


def fit_naive(task: Task, first: int, last: int) -> Fitted:
    return Naive(task)


def fit_drift(task: Task, first: int, last: int) -> Fitted:
    if task.daily:
        sessions = np.arange(1, last)
        mean = nanmean(task.grid.day_returns[:, sessions])
        return Drift(task, np.nan_to_num(mean), last - 1)
    columns = task.grid.columns(first, last)
    return Drift(task, task.grid.returns[:, columns].mean(axis=1), int(columns[-1]))


def fit_seasonal_naive(task: Task, first: int, last: int) -> Fitted:
    return SeasonalNaive(task)

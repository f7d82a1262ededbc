"""The walk-forward's windows, defined once: how many origin sessions an evaluation judges and
how many sessions before them a fit reads. Light to import (the Dagster graph declares its
partition windows from it without loading pandas or a model)."""

from __future__ import annotations

ORIGINS = 20  # origin sessions of an evaluation (the walk-forward's and the assets' default)
TRAINING_SESSIONS = 10  # the window of minute-horizon fits
MIN_TRAINING_SESSIONS = 5  # before the first origin session
MIN_ORIGINS = 2
# Below these a model gets no fit and forecasts as naive.
MIN_FIT_POINTS = 50  # one-step returns in an ETS or ARIMA fit's sample
MIN_ROWS = 30  # training rows of a ridge or LightGBM fit


def sessions_needed(origins: int) -> int:
    """The sessions a panel needs for `origins` origin sessions with full training windows."""
    return origins + TRAINING_SESSIONS

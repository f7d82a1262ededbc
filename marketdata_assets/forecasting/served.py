"""The forecasts readers serve: what `price_forecasts` and `forecast_skill` hold for the newest
session materialised, in the shape issue 12 gave `marketdata forecast --json`, plus `as_of`.

Reading fits nothing: no model library and no Dagster are imported on this path. Where nothing
is materialised the error names the command that would make it: the backfill when the lake
holds too little history for the symbol, else `marketdata forecast SYMBOL --refresh`.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from marketdata_assets.forecasting.horizons import check_horizon
from marketdata_assets.forecasting.metrics import SKILL_FIELDS
from marketdata_assets.forecasting.panel import (
    NotEnoughHistory,
    held_sessions,
    load_panel,
    not_enough_history,
)
from marketdata_assets.forecasting.registry import MODELS
from marketdata_assets.forecasting.windows import (
    MIN_ORIGINS,
    MIN_TRAINING_SESSIONS,
    ORIGINS,
    sessions_needed,
)
from marketdata_assets.lake import ObjectStore, day_key, read_if_present
from marketdata_assets.lake.codecs import decode
from marketdata_assets.lake.datasets import DATASETS

SERVED = "price_forecasts"
SKILL = "forecast_skill"


class NotServed(LookupError):
    """No materialised forecast of the symbol and horizon; the message names what to run."""


def read_forecast(store: ObjectStore, symbol: str, horizon: str) -> dict[str, object]:
    """`symbol`'s forecast at `horizon` as of the newest session `price_forecasts` holds: the
    served model, why, the forecast and its 80 % interval, the skill rows of the symbol and
    horizon (naive first) and `as_of`, that session. NotServed, or NotEnoughHistory when the
    lake holds too little history, when there is none."""
    check_horizon(horizon)
    as_of = max(held_sessions(store, SERVED), default=None)
    served = _table(store, SERVED, as_of)
    rows = served[served["symbol"].eq(symbol) & served["horizon"].eq(horizon)]
    if rows.empty:
        raise _missing(store, symbol, horizon)
    assert as_of is not None  # a table was read
    row = rows.iloc[0]
    skill = _table(store, SKILL, as_of)
    return {
        "symbol": symbol,
        "horizon": horizon,
        "origin": pd.Timestamp(row["origin"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "served_model": str(row["served_model"]),
        "reason": str(row["reason"]),
        "forecast": float(row["forecast"]),
        "lower": float(row["lower"]),
        "upper": float(row["upper"]),
        "skill": skill_rows(skill, symbol, horizon),
        "as_of": as_of.isoformat(),
    }


def skill_rows(skill: pd.DataFrame, symbol: str, horizon: str) -> list[dict[str, object]]:
    """The skill table's rows of `symbol` and `horizon` as JSON-ready dicts (SKILL_FIELDS),
    naive first, then in the registry's order (a model no longer registered last)."""
    order = {name: rank for rank, name in enumerate(MODELS)}
    rows = skill[skill["symbol"].eq(symbol) & skill["horizon"].eq(horizon)]
    records = sorted(
        rows.to_dict("records"),
        key=lambda r: (r["model"] != "naive", order.get(r["model"], len(order)), r["model"]),
    )
    return [{field: _plain(record[field]) for field in SKILL_FIELDS} for record in records]


def _table(store: ObjectStore, dataset: str, session: date | None) -> pd.DataFrame:
    """The session's `dataset` table (empty, of its registered dtypes, when there is none)."""
    body = None if session is None else read_if_present(store, day_key(dataset, session))
    if body is None:
        dtypes = DATASETS[dataset].dtypes
        return pd.DataFrame({c: [] for c in dtypes}).astype(dtypes)
    assert session is not None
    table = decode(dataset, body, day_key(dataset, session))
    assert isinstance(table, pd.DataFrame)
    return table


def history_for(store: ObjectStore, symbol: str) -> date:
    """The newest session whose minute bars the lake holds: the one a refresh materialises;
    NotEnoughHistory when the lake holds too few sessions of `symbol` to forecast it."""
    panel = load_panel(store, [symbol], None, sessions_needed(ORIGINS))
    held = int(panel.daily["symbol"].eq(symbol).sum())
    if held < MIN_TRAINING_SESSIONS + MIN_ORIGINS:
        last = panel.sessions[-1] if panel.sessions else None
        raise not_enough_history(held, sessions_needed(ORIGINS), [symbol], last)
    return held_sessions(store, "minute_bars")[-1]


def _missing(store: ObjectStore, symbol: str, horizon: str) -> Exception:
    """Why no forecast is served: too little history (the error names the backfill), or none
    materialised from the history held (it names the refresh)."""
    try:
        history_for(store, symbol)
    except NotEnoughHistory as error:
        return error
    return NotServed(
        f"no forecast of {symbol} at {horizon} is materialised: run "
        f"`marketdata forecast {symbol} --horizon {horizon} --refresh`"
    )


def _plain(value: object) -> object:
    """JSON-ready: NaN becomes None, numpy scalars Python ones."""
    if isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number

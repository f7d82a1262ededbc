"""Adding a forecasting model is two places: its module (a fit returning a `Fitted`) and one line
in `forecasting.registry.MODELS`. Here the module is this file's `fit_momentum` and the line is
the `monkeypatch.setitem` below: nothing else is told of it, yet the walk-forward judges it
against naive without leaking, `forecast_skill` lists it, and serving may choose it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pytest
from dagster import AssetSelection, materialize

from marketdata_assets.definitions import resources_for
from marketdata_assets.defs.actions import actions_assets
from marketdata_assets.defs.forecasts import forecast_assets
from marketdata_assets.defs.history import history_assets
from marketdata_assets.forecasting import registry
from marketdata_assets.forecasting.evaluation import leakage, walk_forward
from marketdata_assets.forecasting.horizons import HORIZONS
from marketdata_assets.forecasting.metrics import POOLED
from marketdata_assets.forecasting.models import NOTHING, Fitted, ModelSpec, Task
from marketdata_assets.forecasting.panel import panel_from_bars
from marketdata_assets.forecasting.serving import choose
from marketdata_assets.lake import day_key, read_if_present
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.test_forecasting import minute_bars

ORIGINS = 3


# --- the model's module ---------------------------------------------------------------------
@dataclass
class Momentum:
    """The last one-step return goes on for the whole horizon (it reads data up to p only)."""

    task: Task
    used: int = NOTHING  # fitted on nothing

    def predict(self, positions: np.ndarray) -> np.ndarray:
        steps = 1 if self.task.daily else self.task.steps
        return steps * self.task.returns()[:, positions]


def fit_momentum(task: Task, first: int, last: int) -> Fitted:
    return Momentum(task)


# --- its one registry line ------------------------------------------------------------------
@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> str:
    spec = ModelSpec("momentum", fit_momentum, "the last one-step return, h times")
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    return spec.name


@pytest.mark.domain
def test_the_walk_forward_judges_a_registered_model_against_naive(registered: str) -> None:
    panel = panel_from_bars(minute_bars(symbols=("AAA", "BBB"), sessions=8))
    evaluation = walk_forward(panel, origins=ORIGINS)
    assert leakage(evaluation).empty
    skill = evaluation.skill
    mine = skill[skill["model"].eq(registered)]
    assert set(mine["horizon"]) == set(HORIZONS)
    assert set(mine["symbol"]) == {"AAA", "BBB", POOLED}
    # judged on naive's own origins: as many forecasts, a relative MAE, a DM p-value against it
    naive = skill[skill["model"].eq("naive")].set_index(["horizon", "symbol"])["n"]
    assert (mine.set_index(["horizon", "symbol"])["n"] == naive).all()
    assert (mine["relative_mae"] > 0).all() and mine["relative_mae"].notna().all()
    assert mine["dm_pvalue"].between(0, 1).all()
    # a random walk has no momentum: it is not served
    for symbol in ("AAA", "BBB"):
        for horizon in HORIZONS:
            assert choose(skill, symbol, horizon)[0] == "naive"


@pytest.mark.graph
def test_forecast_skill_lists_a_registered_model(registered: str, settings: Settings) -> None:
    bars = minute_bars(symbols=("AAA", "BBB"), sessions=8)
    lake = lake_store(settings)
    sessions = bars["start"].dt.tz_convert(EXCHANGE_TZ).dt.date
    days = sorted(set(sessions))
    for day in days:
        lake.put(day_key("minute_bars", day), encode("minute_bars", bars[sessions == day]))
    as_of: date = days[-1]
    result = materialize(
        [*history_assets, *actions_assets, *forecast_assets],
        selection=AssetSelection.assets("forecast_skill"),
        partition_key=as_of.isoformat(),
        resources=resources_for(settings),
        run_config={"ops": {"forecast_skill": {"config": {"origins": ORIGINS}}}},
    )
    assert result.success
    body = read_if_present(lake, day_key("forecast_skill", as_of))
    assert body is not None
    skill = decode("forecast_skill", body)
    assert isinstance(skill, pd.DataFrame)
    assert set(skill["model"]) == set(registry.MODELS)
    assert registered in set(skill["model"])
    (materialised,) = result.asset_materializations_for_node("forecast_skill")
    for horizon in HORIZONS:
        assert registered in materialised.metadata[f"relative_mae_{horizon}"].value

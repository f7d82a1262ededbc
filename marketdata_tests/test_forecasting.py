"""The forecasting domain: metrics on hand-computed examples, the Diebold-Mariano test against
known values, a walk-forward that fits and reads only the past, and the serving rules."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets import stores
from marketdata_assets.forecasting.evaluation import (
    FORECAST_COLUMNS,
    Evaluation,
    leakage,
    walk_forward,
)
from marketdata_assets.forecasting.features import grid_of
from marketdata_assets.forecasting.metrics import diebold_mariano, skill_table
from marketdata_assets.forecasting.panel import Panel, load_panel, panel_from_bars
from marketdata_assets.forecasting.registry import MODELS
from marketdata_assets.forecasting.serving import (
    MIN_FORECASTS,
    NotEnoughHistory,
    choose,
    forecast,
)
from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.schemas import BAR_SCHEMA
from marketdata_assets.market.calendar import session_bounds, session_minutes, sessions_in
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.domain

FIRST = date(2026, 9, 1)
Returns = Callable[[np.random.Generator, int], np.ndarray]


def random_walk(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.normal(0.0, 0.0006, count)


def minute_bars(
    symbols: tuple[str, ...] = ("AAA", "BBB", "CCC"),
    sessions: int = 12,
    returns: Returns = random_walk,
    seed: int = 0,
    first: date = FIRST,
) -> pd.DataFrame:
    """BAR_SCHEMA 1-minute bars on the NYSE sessions from `first`: each symbol's closes are
    100 * exp(cumulated `returns`), its opens the previous closes."""
    days = sessions_in(first, first + timedelta(days=2 * sessions + 14))[:sessions]
    starts = np.concatenate([session_minutes(day).as_unit("us").asi8 for day in days])
    frames = []
    for number, symbol in enumerate(symbols):
        log_price = np.log(100.0) + np.cumsum(
            returns(np.random.default_rng([seed, number]), len(starts))
        )
        close = np.exp(log_price)
        frames.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "start": pd.DatetimeIndex(starts.astype("datetime64[us]"), tz="UTC"),
                    "interval": "1m",
                    "open": np.r_[100.0, close[:-1]],
                    "high": close,
                    "low": close,
                    "close": close,
                    "volume": 100,
                    "source": "test",
                }
            )
        )
    return pd.concat(frames, ignore_index=True).astype(BAR_SCHEMA)


def synthetic_panel(**options: Any) -> Panel:
    return panel_from_bars(minute_bars(**options))


def hand_forecasts() -> pd.DataFrame:
    """Four 5-minute forecasts of AAA by naive and by drift, 10 minutes apart."""
    origin = pd.Timestamp("2026-09-01 14:00", tz="UTC") + pd.to_timedelta([0, 10, 20, 30], "min")
    last = [100.0, 101.0, 102.0, 100.0]
    actual = [101.0, 100.0, 104.0, 100.0]
    rows = []
    for model, predicted, lower, upper in (
        ("naive", last, [99.0] * 4, [105.0] * 4),
        (
            "drift",
            [100.5, 101.5, 102.5, 99.0],
            [100.0, 101.0, 103.0, 99.0],
            [101.0, 102.0, 105.0, 101.0],
        ),
    ):
        rows.append(
            pd.DataFrame(
                {
                    "model": model,
                    "symbol": "AAA",
                    "horizon": "5m",
                    "origin": origin,
                    "target": origin + pd.Timedelta(minutes=5),
                    "forecast": predicted,
                    "lower": lower,
                    "upper": upper,
                    "actual": actual,
                    "last_price": last,
                    "mase_scale": 2.0,
                    "trained_until": origin - pd.Timedelta(hours=1),
                    "information_until": origin,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).astype(FORECAST_COLUMNS)


def t_cdf_3(t: float) -> float:
    """Student t CDF with 3 degrees of freedom, closed form (no library)."""
    x = t / math.sqrt(3)
    return 0.5 + (x / (1 + x * x) + math.atan(x)) / math.pi


def test_metrics_match_a_hand_computed_example() -> None:
    table = skill_table(hand_forecasts(), ("drift",))
    drift = table[(table["model"] == "drift") & (table["symbol"] == "AAA")].iloc[0]
    naive = table[(table["model"] == "naive") & (table["symbol"] == "AAA")].iloc[0]
    # naive errors (actual - forecast): 1, -1, 2, 0; drift: 0.5, -1.5, 1.5, 1
    assert naive["mae"] == pytest.approx(1.0)
    assert naive["rmse"] == pytest.approx(math.sqrt(6 / 4))
    assert drift["mae"] == pytest.approx(4.5 / 4)
    assert drift["rmse"] == pytest.approx(math.sqrt(5.75 / 4))
    assert drift["mase"] == pytest.approx(4.5 / 4 / 2)  # the in-sample naive MAE is 2
    assert drift["relative_mae"] == pytest.approx(1.125)
    assert naive["relative_mae"] == 1.0
    # drift calls up, up, up, down; the actual went up, down, up, nowhere: 2 of 3 calls right
    assert drift["directional_accuracy"] == pytest.approx(2 / 3)
    assert drift["directional_accuracy_se"] == pytest.approx(math.sqrt(2 / 3 * 1 / 3 / 3))
    assert math.isnan(naive["directional_accuracy"])
    assert drift["coverage"] == pytest.approx(0.75)  # 100 is outside [101, 102]
    assert naive["coverage"] == 1.0
    # DM: d = |naive error| - |drift error| = 0.5, -0.5, 0.5, -1 (no overlap: h = 1); mean
    # -0.125, variance 1.6875 / 4, DM = -0.125 / sqrt(0.421875 / 4) = -0.3849; HLN multiplies
    # by sqrt((4 + 1 - 2) / 4): -0.3333; p = 2 * T3(-1/3)
    assert drift["dm_pvalue"] == pytest.approx(2 * t_cdf_3(-1 / 3), rel=1e-6)
    assert math.isnan(naive["dm_pvalue"])
    pooled = table[(table["model"] == "drift") & (table["symbol"] == "*")].iloc[0]
    assert pooled[["mae", "relative_mae", "dm_pvalue"]].tolist() == pytest.approx(
        drift[["mae", "relative_mae", "dm_pvalue"]].tolist()
    )
    assert table["model"].tolist()[:2] == ["naive", "drift"]


def test_diebold_mariano_matches_known_values() -> None:
    # d = 1, 2, 4 (h = 1): mean 7/3, variance 14/9, DM = sqrt(10.5); HLN: * sqrt(2/3) = sqrt(7);
    # the t CDF with 2 degrees of freedom is 1/2 + t / (2 sqrt(2 + t^2)): p = 1 - sqrt(7) / 3
    assert diebold_mariano(np.array([1.0, 2.0, 4.0]), 1) == pytest.approx(1 - math.sqrt(7) / 3)
    # d = 1, 3, 2, 6 with h = 2: centred -2, 0, -1, 3; gamma0 = 3.5, gamma1 = -0.75; Bartlett
    # weight 1/2: variance 3.5 - 0.75 = 2.75; DM = 3 / sqrt(2.75 / 4); HLN: * sqrt(1.5 / 4)
    statistic = 3 / math.sqrt(2.75 / 4) * math.sqrt(1.5 / 4)
    expected = 2 * (1 - t_cdf_3(statistic))
    assert diebold_mariano(np.array([1.0, 3.0, 2.0, 6.0]), 2) == pytest.approx(expected)
    assert diebold_mariano(np.zeros(5), 1) == 1.0  # identical forecasts: no difference


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=30), st.integers(1, 3))
def test_diebold_mariano_is_a_symmetric_probability(values: list[float], overlap: int) -> None:
    d = np.array(values)
    p = diebold_mariano(d, overlap)
    assert 0.0 <= p <= 1.0
    assert diebold_mariano(-d, overlap) == pytest.approx(p)


@settings(max_examples=15, deadline=None)
@given(st.permutations(range(8)))
def test_skill_pairs_each_forecast_with_naive_at_the_same_origin(order: list[int]) -> None:
    rows = hand_forecasts()
    assert skill_table(rows.iloc[order]).equals(skill_table(rows))


@pytest.fixture(scope="module")
def evaluation() -> tuple[Panel, Evaluation]:
    panel = synthetic_panel()
    return panel, walk_forward(panel, origins=4)


def test_walk_forward_fits_every_model_before_its_origin_session(
    evaluation: tuple[Panel, Evaluation],
) -> None:
    panel, result = evaluation
    rows = result.forecasts
    assert leakage(result).empty
    assert set(rows["model"]) == set(MODELS)
    opens = {day: session_bounds(day)[0] for day in panel.sessions}
    origin_day = rows["origin"].dt.tz_convert("America/New_York").dt.date
    origin_open = origin_day.map(lambda day: opens[day])
    assert (rows["trained_until"] <= origin_open).all()  # fitted before the session opened
    assert (rows["information_until"] <= rows["origin"]).all()
    minutes = rows[rows["horizon"] != "1d"]
    steps = minutes["horizon"].str.removesuffix("m").astype(int)
    assert ((minutes["target"] - minutes["origin"]) == pd.to_timedelta(steps, "min")).all()
    days = rows[rows["horizon"] == "1d"]
    closes = {session_bounds(day)[1] for day in panel.sessions}
    assert days["origin"].isin(closes).all() and days["target"].isin(closes).all()
    assert (days["target"] > days["origin"]).all()
    # the last 4 sessions are origin sessions; the last has no next close to forecast at "1d"
    assert sorted(set(origin_day)) == panel.sessions[-4:]
    assert sorted(set(origin_day[rows["horizon"] == "1d"])) == panel.sessions[-4:-1]
    per_model = rows.groupby(["horizon", "model"]).size().unstack()
    assert (per_model.nunique(axis=1) == 1).all()  # every model forecasts the same origins


def test_forecasts_never_read_data_after_their_origin(evaluation: tuple[Panel, Evaluation]) -> None:
    panel, result = evaluation
    cut = session_bounds(panel.sessions[-2])[0] + pd.Timedelta(minutes=200)
    bars = minute_bars()
    later = bars["start"] >= cut
    bars.loc[later, ["open", "high", "low", "close"]] *= np.exp(
        np.random.default_rng(1).normal(0, 0.01, (later.sum(), 1))
    )
    changed = walk_forward(panel_from_bars(bars), origins=4).forecasts
    before = result.forecasts["origin"] <= cut
    keys = ["model", "horizon", "symbol", "origin"]
    columns = [*keys, "forecast", "lower", "upper"]
    kept = result.forecasts.loc[before, columns].sort_values(keys, ignore_index=True)
    again = changed.loc[changed["origin"] <= cut, columns].sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(kept, again)
    assert not result.forecasts.loc[~before, "forecast"].equals(
        changed.loc[changed["origin"] > cut, "forecast"]
    )


def test_leakage_names_forecasts_fitted_or_informed_at_or_after_their_origin(
    evaluation: tuple[Panel, Evaluation],
) -> None:
    _, result = evaluation
    rows = result.forecasts.copy()
    rows.loc[3, "trained_until"] = rows.loc[3, "origin"]
    rows.loc[7, "information_until"] = rows.loc[7, "origin"] + pd.Timedelta(minutes=1)
    assert leakage(Evaluation(rows, result.skill)).index.tolist() == [3, 7]


def test_intervals_cover_about_80_percent_on_a_random_walk(
    evaluation: tuple[Panel, Evaluation],
) -> None:
    _, result = evaluation
    pooled = result.skill[(result.skill["symbol"] == "*") & (result.skill["horizon"] != "1d")]
    assert pooled["coverage"].between(0.7, 0.9).all()
    rows = result.forecasts
    assert ((rows["lower"] <= rows["forecast"]) & (rows["forecast"] <= rows["upper"])).mean() > 0.9


def skill_rows(*rows: tuple[str, str, str, int, float, float]) -> pd.DataFrame:
    """A skill table from (symbol, horizon, model, n, relative_mae, dm_pvalue) rows."""
    frame = pd.DataFrame(
        rows, columns=["symbol", "horizon", "model", "n", "relative_mae", "dm_pvalue"]
    )
    for column in (
        "mae",
        "rmse",
        "mase",
        "directional_accuracy",
        "directional_accuracy_se",
        "coverage",
    ):
        frame[column] = 0.5
    return frame


def test_serving_takes_the_best_skill_when_it_beats_naive_significantly() -> None:
    table = skill_rows(
        ("AAA", "5m", "naive", 500, 1.0, float("nan")),
        ("AAA", "5m", "ridge", 500, 0.96, 1e-6),
        ("AAA", "5m", "ets", 500, 0.98, 1e-9),  # more significant, less skill
        ("AAA", "1m", "ridge", 500, 1.01, 0.6),
    )
    model, reason = choose(table, "AAA", "5m")
    assert model == "ridge"
    assert reason.startswith("ridge beats naive for AAA at 5 minutes (skill 4.0 %")
    assert choose(table, "AAA", "1m")[0] == "naive"


def test_serving_keeps_naive_when_the_skill_is_not_significant() -> None:
    many = [("AAA", "5m", f"m{i}", 500, 1.0 + i / 1000, 0.5) for i in range(1, 40)]
    table = skill_rows(("AAA", "5m", "ridge", 500, 0.99, 0.04), *many)
    model, reason = choose(table, "AAA", "5m")
    assert model == "naive"  # p = 0.04 is one of 40 comparisons
    assert "no model beats naive significantly for AAA at 5 minutes" in reason
    assert "adjusted for 40 comparisons" in reason
    assert choose(table.iloc[:1], "AAA", "5m")[0] == "ridge"  # alone, the same p is enough


def test_serving_keeps_naive_when_models_are_worse_or_judged_on_few_forecasts() -> None:
    worse = skill_rows(("AAA", "5m", "lightgbm", 500, 1.05, 1e-8))
    model, reason = choose(worse, "AAA", "5m")
    assert model == "naive" and reason.startswith("no model beats naive for AAA at 5 minutes")
    few = skill_rows(("AAA", "1d", "ridge", MIN_FORECASTS - 1, 0.8, 1e-8))
    model, reason = choose(few, "AAA", "1d")
    assert model == "naive" and reason.startswith("too few forecasts to judge for AAA")
    pooled_only = skill_rows(("*", "5m", "ridge", 5000, 0.9, 1e-9))
    assert choose(pooled_only, "AAA", "5m")[0] == "naive"


def test_forecast_serves_from_the_last_bar_with_the_skill_rows(
    evaluation: tuple[Panel, Evaluation],
) -> None:
    panel, result = evaluation
    served = forecast(panel, "BBB", "5m", result)
    assert list(served) == [
        *("symbol", "horizon", "origin", "served_model", "reason"),
        *("forecast", "lower", "upper", "skill"),
    ]
    last_bar = panel.minute[panel.minute["symbol"] == "BBB"]["start"].max()
    assert served["origin"] == (last_bar + pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert served["served_model"] == "naive"  # a random walk
    last_close = panel.minute[panel.minute["symbol"] == "BBB"]["close"].iloc[-1]
    assert served["forecast"] == pytest.approx(last_close)
    assert served["lower"] < served["forecast"] < served["upper"]
    skill = served["skill"]
    assert [row["model"] for row in skill] == list(MODELS)
    assert skill[0]["dm_pvalue"] is None and skill[0]["relative_mae"] == 1.0


def test_the_fewest_sessions_the_message_names_are_the_fewest_that_answer() -> None:
    # "30 needed" alone read as a floor; a forecast answers from 7 (5 training, 2 origins).
    with pytest.raises(NotEnoughHistory, match=r"\(at least 7 to answer at all\)"):
        forecast(synthetic_panel(sessions=6), "AAA", "5m")
    assert forecast(synthetic_panel(sessions=7), "AAA", "5m")["symbol"] == "AAA"


def test_too_little_history_names_the_backfill_to_run() -> None:
    panel = synthetic_panel(sessions=4)
    with pytest.raises(NotEnoughHistory) as raised:
        forecast(panel, "AAA", "5m")
    message = str(raised.value)
    assert message.startswith("4 sessions of minute bars for AAA in the lake, 30 needed")
    assert "marketdata backfill --from " in message and f"--to {panel.sessions[-1]}" in message
    with pytest.raises(NotEnoughHistory):
        walk_forward(panel, origins=20)
    with pytest.raises(NotEnoughHistory, match="0 sessions of minute bars for ZZZ"):
        forecast(synthetic_panel(), "ZZZ", "5m")


def test_load_panel_reads_the_last_sessions_of_the_lake(settings: Settings) -> None:
    bars = minute_bars(symbols=("AAA", "BBB"), sessions=4)
    daily_bar = bars.iloc[:1].assign(interval="1d", close=1.0)
    lake = stores.lake_store(settings)
    days = sessions_in(FIRST, FIRST + timedelta(days=14))[:4]
    for day in days:
        mine = bars[bars["start"].dt.tz_convert("America/New_York").dt.date == day]
        lake.put(day_key("minute_bars", day), encode("minute_bars", pd.concat([mine, daily_bar])))
    panel = load_panel(lake, ["AAA"], days[2], 2)
    assert panel.sessions == days[1:3]
    assert panel.symbols == ["AAA"]
    aaa = bars[bars["symbol"] == "AAA"]
    second = aaa[aaa["start"].dt.tz_convert("America/New_York").dt.date == days[1]]
    assert len(panel.minute) == 2 * len(second)  # no 1d bar among them
    first_daily = panel.daily.iloc[0]
    assert first_daily["open"] == second["open"].iloc[0]
    assert first_daily["close"] == second["close"].iloc[-1]
    assert load_panel(lake, None, None, 10).sessions == days


def test_daily_bars_give_the_sessions_open_and_close_where_they_hold_them() -> None:
    bars = minute_bars(symbols=("AAA",), sessions=3)
    derived = panel_from_bars(bars).daily
    given = derived.iloc[1:].assign(open=[50.0, 51.0], close=[52.0, 53.0], volume=7)
    daily = panel_from_bars(bars, given).daily
    assert daily["open"].tolist() == [derived["open"].iloc[0], 50.0, 51.0]
    assert daily["close"].tolist() == [derived["close"].iloc[0], 52.0, 53.0]


def test_the_grid_carries_a_close_over_missing_minutes_within_its_session_only() -> None:
    bars = minute_bars(symbols=("AAA",), sessions=2)
    day_two = session_bounds(sessions_in(FIRST, FIRST + timedelta(days=7))[1])[0]
    gone = bars["start"].isin([day_two, day_two + pd.Timedelta(minutes=1), bars["start"].iloc[5]])
    grid = grid_of(panel_from_bars(bars[~gone]))
    assert grid.close[0, 5] == grid.close[0, 4]  # carried
    second = grid.bounds[1]
    assert np.isnan(grid.close[0, second : second + 2]).all()  # nothing yet that session
    assert grid.close[0, second + 2] == bars["close"].iloc[second + 2]
    assert grid.returns[0, second + 2] == pytest.approx(
        math.log(bars["close"].iloc[second + 2] / bars["open"].iloc[second + 2])
    )  # a session's first return runs from its open (here the first bar's open)

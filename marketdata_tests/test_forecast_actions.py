"""Forecasts across corporate actions (issue 24, item 4): the models train and are judged on the
total-return basis, so a 4:1 split inside the evaluation window changes no model's skill by more
than the skill's own sampling noise, while on the traded prices the split's -139 % return blows
the daily errors up; the served forecast stays on the traded price; the lake's actions reach
the panel a forecast reads; a dividend adjusts as the back-adjustment rule says."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketdata_assets import stores
from marketdata_assets.forecasting.evaluation import Evaluation, leakage, walk_forward
from marketdata_assets.forecasting.panel import Panel, load_panel, panel_from_bars, total_return
from marketdata_assets.forecasting.serving import forecast
from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.settings import Settings
from marketdata_tests.test_forecasting import minute_bars

pytestmark = pytest.mark.domain

PRICES = ["open", "high", "low", "close"]
KEYS = ["horizon", "symbol", "model", "origin"]
ORIGINS = 4


def actions(*rows: tuple[str, date, str, float]) -> pd.DataFrame:
    """corporate_actions rows of (symbol, ex-date, kind, value)."""
    frame = pd.DataFrame(rows, columns=["symbol", "ex_date", "kind", "value"])
    frame["ex_date"] = pd.to_datetime(frame["ex_date"])
    frame["currency"] = np.where(frame["kind"].eq("dividend"), "USD", None)
    frame["source"] = "test"
    frame["ingested_at"] = pd.Timestamp("2026-09-01", tz="UTC")
    return frame.astype(DATASETS["corporate_actions"].dtypes)


def sessions_of(bars: pd.DataFrame) -> pd.Series:
    return bars["start"].dt.tz_convert(EXCHANGE_TZ).dt.date


@pytest.fixture(scope="module")
def traded() -> tuple[pd.DataFrame, pd.DataFrame, date]:
    """Three symbols' 12 sessions of a random walk at about 400, in cents: as they would trade
    without a split, and with AAA split 4:1 on the third-last session (an origin session of
    the walk-forward, and the target of a daily forecast), its prices from then on a quarter,
    again in cents."""
    bars = minute_bars(sessions=12)
    bars[PRICES] = (4 * bars[PRICES]).round(2)
    ex_date = sorted(set(sessions_of(bars)))[-3]
    split = bars.copy()
    after = split["symbol"].eq("AAA") & sessions_of(split).ge(ex_date)
    split.loc[after, PRICES] = (bars.loc[after, PRICES] / 4).round(2)
    split.loc[after, "volume"] = bars.loc[after, "volume"] * 4
    return bars, split, ex_date


@pytest.fixture(scope="module")
def evaluations(
    traded: tuple[pd.DataFrame, pd.DataFrame, date],
) -> dict[str, tuple[Panel, Evaluation]]:
    """The walk-forward of the unsplit series, of the split one on the total-return basis, and
    of the split one as traded."""
    bars, split, ex_date = traded
    panels = {
        "unsplit": panel_from_bars(bars),
        "adjusted": total_return(panel_from_bars(split), actions(("AAA", ex_date, "split", 4.0))),
        "traded": panel_from_bars(split),
    }
    return {name: (panel, walk_forward(panel, ORIGINS)) for name, panel in panels.items()}


def return_errors(evaluation: Evaluation) -> pd.DataFrame:
    """Each forecast's absolute error in log return (scale-free), sorted by KEYS."""
    rows = evaluation.forecasts.sort_values(KEYS, ignore_index=True)
    return rows.assign(error=np.abs(np.log(rows["actual"] / rows["forecast"])))


def relative_mae_noise(evaluation: Evaluation) -> pd.Series:
    """Each per-symbol relative MAE's standard error (delta method on the paired errors:
    sd(|e| - R |e_naive|) / (sqrt(n) mean |e_naive|)), by horizon, symbol and model."""
    rows = evaluation.forecasts.assign(
        error=lambda f: np.abs(f["actual"] - f["forecast"])
    ).set_index(["horizon", "symbol", "origin"])
    naive = rows.loc[rows["model"].eq("naive"), "error"]
    rows = rows.assign(naive=naive.reindex(rows.index).to_numpy()).reset_index()
    noise = {}
    for key, group in rows.groupby(["horizon", "symbol", "model"]):
        ratio = group["error"].sum() / group["naive"].sum()
        spread = np.std(group["error"] - ratio * group["naive"], ddof=1)
        noise[key] = spread / np.sqrt(len(group)) / group["naive"].mean()
    return pd.Series(noise)


def test_a_split_inside_the_window_changes_no_model_s_skill_by_more_than_noise(
    evaluations: dict[str, tuple[Panel, Evaluation]],
) -> None:
    (_, unsplit), (_, adjusted), (_, traded) = (evaluations[n] for n in evaluations)
    assert leakage(adjusted).empty and leakage(traded).empty
    base, same, raw = (return_errors(e) for e in (unsplit, adjusted, traded))
    assert base[KEYS].equals(same[KEYS]) and base[KEYS].equals(raw[KEYS])
    # the MAE of returns: within one standard error of the unsplit series' own
    errors = base.groupby(["horizon", "model"])["error"]
    noise = errors.std() / np.sqrt(errors.count())
    moved = (same.groupby(["horizon", "model"])["error"].mean() - errors.mean()).abs()
    assert (moved <= noise).all(), pd.DataFrame({"moved": moved, "noise": noise})
    # ... where on the traded prices every model's daily error is many times the noise
    blown = (raw.groupby(["horizon", "model"])["error"].mean() - errors.mean()).abs()
    assert (blown.loc["1d"] > 10 * noise.loc["1d"]).all(), blown.loc["1d"] / noise.loc["1d"]
    assert (raw.groupby("horizon")["error"].max().loc["1d"]) > 1.3  # the split's ln(4)
    # the relative MAE of each symbol, model and horizon: within two of its standard errors
    # (LightGBM's trees split on thresholds that the post-split prices' cents move)
    order = ["horizon", "symbol", "model"]
    skill = {
        name: e.skill[e.skill["symbol"].ne("*")].set_index(order)["relative_mae"]
        for name, e in (("unsplit", unsplit), ("adjusted", adjusted))
    }
    shift = (skill["adjusted"] - skill["unsplit"]).abs()
    tolerance = 2 * relative_mae_noise(unsplit).reindex(shift.index) + 1e-12
    table = pd.DataFrame({"shift": shift, "tolerance": tolerance})
    assert (shift <= tolerance).all(), table[~(shift <= tolerance)]
    assert (shift.loc[:, "AAA", :] > 0).any()  # the cents differ: the test sees a change


def test_the_served_forecast_is_of_the_traded_price(
    traded: tuple[pd.DataFrame, pd.DataFrame, date],
    evaluations: dict[str, tuple[Panel, Evaluation]],
) -> None:
    _, split, ex_date = traded
    panel, evaluation = evaluations["adjusted"]
    last_traded = float(split.loc[split["symbol"].eq("AAA"), "close"].iloc[-1])
    served = forecast(panel, "AAA", "1d", evaluation)
    assert served["served_model"] == "naive"
    assert served["forecast"] == pytest.approx(last_traded, rel=1e-12)
    assert float(served["lower"]) < last_traded < float(served["upper"])  # type: ignore[arg-type]
    # before the ex-date the panel holds the traded prices divided by the ratio
    minute = panel.minute[panel.minute["symbol"].eq("AAA")]
    before = minute["session"].dt.date.lt(ex_date).to_numpy()
    raw = split[split["symbol"].eq("AAA")]["close"].to_numpy()
    np.testing.assert_allclose(minute["close"].to_numpy()[before], raw[before] / 4, rtol=1e-12)
    np.testing.assert_array_equal(minute["close"].to_numpy()[~before], raw[~before])


def test_an_action_after_a_symbol_s_last_session_adjusts_nothing_of_it(
    traded: tuple[pd.DataFrame, pd.DataFrame, date],
) -> None:
    bars, _, _ = traded
    days = sorted(set(sessions_of(bars)))
    early = bars[bars["symbol"].eq("BBB") & sessions_of(bars).lt(days[-2])]
    panel = panel_from_bars(pd.concat([bars[bars["symbol"].ne("BBB")], early]))
    # the panel's last session, after BBB's last
    adjusted = total_return(panel, actions(("BBB", days[-1], "split", 2.0)))
    pd.testing.assert_frame_equal(adjusted.minute, panel.minute)
    pd.testing.assert_frame_equal(adjusted.daily, panel.daily)


def test_a_dividend_scales_the_prices_before_it_by_one_minus_its_share_of_the_close(
    traded: tuple[pd.DataFrame, pd.DataFrame, date],
) -> None:
    bars, _, ex_date = traded
    panel = panel_from_bars(bars)
    days = panel.daily[panel.daily["symbol"].eq("CCC")]
    close = float(days.loc[days["session"].dt.date.lt(ex_date), "close"].iloc[-1])
    adjusted = total_return(panel, actions(("CCC", ex_date, "dividend", 2.0)))
    factor = 1 - 2.0 / close
    for frame, name in ((adjusted.daily, "close"), (adjusted.daily, "open")):
        mine = frame["symbol"].eq("CCC").to_numpy()
        before = mine & frame["session"].dt.date.lt(ex_date).to_numpy()
        original = panel.daily[name].to_numpy()
        np.testing.assert_allclose(frame[name].to_numpy()[before], original[before] * factor)
        np.testing.assert_array_equal(frame[name].to_numpy()[~before], original[~before])


def test_load_panel_reads_the_lake_s_actions_over_its_sessions(
    settings: Settings, traded: tuple[pd.DataFrame, pd.DataFrame, date]
) -> None:
    _, split, ex_date = traded
    lake = stores.lake_store(settings)
    for day, frame in split.groupby(sessions_of(split)):
        lake.put(day_key("minute_bars", day), encode("minute_bars", frame.reset_index(drop=True)))
    lake.put(
        day_key("corporate_actions", ex_date),
        encode("corporate_actions", actions(("AAA", ex_date, "split", 4.0))),
    )
    read = load_panel(lake, None, None, 12)
    expected = total_return(panel_from_bars(split), actions(("AAA", ex_date, "split", 4.0)))
    pd.testing.assert_frame_equal(read.minute, expected.minute)
    pd.testing.assert_frame_equal(read.daily, expected.daily)
    aaa = read.daily[read.daily["symbol"].eq("AAA")]
    returns = np.diff(np.log(aaa["close"].to_numpy()))
    assert np.abs(returns).max() < 0.1  # no -139 % session left in what the models read
    # a panel ending before the ex-date reads no action of it: its prices are the traded ones
    before = load_panel(lake, None, ex_date - pd.Timedelta(days=1), 12)
    assert before.sessions[-1] < ex_date
    held = split[sessions_of(split).lt(ex_date)]
    pd.testing.assert_frame_equal(before.minute, panel_from_bars(held).minute)

"""The forecasts in Dagster: forecast_skill and price_forecasts materialised on stub history in
a temp lake, their checks (no leakage, interval coverage), the window of sessions they declare
(rewriting an old session's bars touches exactly the partitions that read it), and the
forecasting libraries kept out of the minute tick and the Lambda image."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    AutomationCondition,
    DagsterInstance,
    ExecuteInProcessResult,
    evaluate_automation_conditions,
    materialize,
)

from marketdata_assets.definitions import build_definitions, resources_for
from marketdata_assets.defs.actions import actions_assets
from marketdata_assets.defs.forecasts import WINDOW, forecast_assets
from marketdata_assets.defs.history import history_assets
from marketdata_assets.execution import backfill
from marketdata_assets.forecasting import evaluation
from marketdata_assets.forecasting.evaluation import Evaluation, sessions_needed, walk_forward
from marketdata_assets.forecasting.horizons import HORIZONS
from marketdata_assets.forecasting.metrics import POOLED, skill_table
from marketdata_assets.forecasting.panel import Panel, load_panel
from marketdata_assets.forecasting.registry import MODELS
from marketdata_assets.forecasting.serving import choose
from marketdata_assets.lake import day_key, read_if_present
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = ["AAPL", "MSFT"]
FIRST, LAST = date(2026, 11, 12), date(2026, 11, 25)  # 10 sessions
AS_OF = date(2026, 11, 24)  # a partition with a later session in the lake
ORIGINS = 3
CHEAP = ("naive", "drift")  # the models of the tests that inject a fault


@pytest.fixture(scope="module")
def stub_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stub history (a geometric random walk) of SYMBOLS over FIRST..LAST, backfilled once."""
    folder = tmp_path_factory.mktemp("forecast_history") / "data"
    settings = Settings(data_dir=folder, symbols=tuple(SYMBOLS))
    summary = backfill.run(
        settings, backfill.plan(settings, FIRST, LAST, SYMBOLS, "stub", None, False)
    )
    assert summary.sessions == 10 and not summary.failed and summary.quarantined == 0
    return folder


@pytest.fixture
def lake(stub_lake: Path, tmp_path: Path) -> Settings:
    """A copy of the stub lake, for one test to write its forecasts into."""
    shutil.copytree(stub_lake, tmp_path / "data")
    return Settings(data_dir=tmp_path / "data", symbols=tuple(SYMBOLS))


def materialise(settings: Settings, session: date = AS_OF) -> ExecuteInProcessResult:
    """The forecasts group for one session's partition, ORIGINS origin sessions."""
    return materialize(
        [*history_assets, *actions_assets, *forecast_assets],
        selection=AssetSelection.groups("forecasts"),
        partition_key=session.isoformat(),
        resources=resources_for(settings),
        run_config={"ops": {"forecast_skill": {"config": {"origins": ORIGINS}}}},
        raise_on_error=False,
    )


def stored(settings: Settings, name: str, session: date = AS_OF) -> pd.DataFrame | None:
    body = read_if_present(lake_store(settings), day_key(name, session))
    if body is None:
        return None
    frame = decode(name, body)
    assert isinstance(frame, pd.DataFrame)
    return frame


def check(result: ExecuteInProcessResult, name: str) -> AssetCheckEvaluation:
    (found,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return found


def evaluating(
    models: Sequence[str], change: Callable[[pd.DataFrame], pd.DataFrame] | None = None
) -> Callable[..., Evaluation]:
    """A stand-in walk_forward: the real one over `models` only, its forecasts then passed
    through `change` (and the skill table recomputed from them)."""

    def evaluate(panel: Panel, origins: int = 20, *_: object, **__: object) -> Evaluation:
        result = walk_forward(panel, origins, models=models)
        if change is None:
            return result
        forecasts = change(result.forecasts.copy())
        return Evaluation(forecasts, skill_table(forecasts, tuple(models)))

    return evaluate


@pytest.mark.graph
def test_forecast_skill_is_the_walk_forward_of_the_history_up_to_its_session(
    lake: Settings,
) -> None:
    result = materialise(lake)
    assert result.success
    skill = stored(lake, "forecast_skill")
    assert skill is not None
    # The lake holds a later session (LAST): the partition's evaluation never reads it.
    panel = load_panel(lake_store(lake), None, AS_OF, sessions_needed(ORIGINS))
    assert panel.sessions[-1] == AS_OF
    expected = walk_forward(panel, ORIGINS).skill
    order = ["symbol", "horizon", "model"]
    pd.testing.assert_frame_equal(
        skill.sort_values(order, ignore_index=True),
        expected.sort_values(order, ignore_index=True),
        check_dtype=False,
    )
    assert set(skill["model"]) == set(MODELS) and set(skill["horizon"]) == set(HORIZONS)
    assert set(skill["symbol"]) == {*SYMBOLS, POOLED} and (skill["n"] > 0).all()
    (materialised,) = result.asset_materializations_for_node("forecast_skill")
    pooled = skill[skill["symbol"].eq(POOLED)]
    for horizon in HORIZONS:
        rows = pooled[pooled["horizon"].eq(horizon)]
        shown = materialised.metadata[f"relative_mae_{horizon}"].value
        values = zip(rows["model"], rows["relative_mae"], strict=True)
        assert shown == {model: round(value, 4) for model, value in values}
    leakage_check = check(result, "no_leakage")
    assert leakage_check.passed and leakage_check.metadata["leaking"].value == 0
    assert leakage_check.metadata["forecasts"].value > 0


@pytest.mark.graph
def test_price_forecasts_serve_what_the_skill_table_decides_from_the_session_s_close(
    lake: Settings,
) -> None:
    assert materialise(lake).success
    skill, served = stored(lake, "forecast_skill"), stored(lake, "price_forecasts")
    assert skill is not None and served is not None
    assert sorted(zip(served["symbol"], served["horizon"], strict=True)) == sorted(
        (symbol, horizon) for symbol in SYMBOLS for horizon in HORIZONS
    )
    for row in served.itertuples():
        assert (row.served_model, row.reason) == choose(skill, row.symbol, row.horizon)
        assert row.lower <= row.forecast <= row.upper
    # as of AS_OF's close (16:00 New York), though the lake holds a later session
    assert (served["origin"] == pd.Timestamp(f"{AS_OF}T21:00Z")).all()


@pytest.mark.graph
def test_a_symbol_with_too_little_history_is_left_out_and_named(
    lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recent = backfill.plan(lake, date(2026, 11, 20), AS_OF, ["KO"], "stub", None, False)
    assert not backfill.run(lake, recent).failed
    monkeypatch.setattr(evaluation, "walk_forward", evaluating(CHEAP))
    result = materialise(lake)
    assert result.success
    served = stored(lake, "price_forecasts")
    assert served is not None and set(served["symbol"]) == set(SYMBOLS)
    (materialised,) = result.asset_materializations_for_node("price_forecasts")
    (reason,) = materialised.metadata["not_served"].value.values()
    assert list(materialised.metadata["not_served"].value) == [f"{AS_OF} KO"]
    assert reason.startswith("3 sessions of minute bars for KO in the lake")


@pytest.mark.graph
def test_interval_coverage_warns_when_served_intervals_miss_and_still_serves(
    lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def collapse(forecasts: pd.DataFrame) -> pd.DataFrame:
        # intervals of zero width: only an unchanged price falls inside
        return forecasts.assign(lower=forecasts["forecast"], upper=forecasts["forecast"])

    monkeypatch.setattr(evaluation, "walk_forward", evaluating(CHEAP, collapse))
    result = materialise(lake)
    assert result.success  # WARN never blocks
    coverage = check(result, "interval_coverage")
    assert not coverage.passed and coverage.severity == AssetCheckSeverity.WARN
    skill, served = stored(lake, "forecast_skill"), stored(lake, "price_forecasts")
    assert skill is not None and served is not None
    rows = served[["symbol", "horizon", "served_model"]].merge(
        skill.rename(columns={"model": "served_model"}), on=["symbol", "horizon", "served_model"]
    )
    for horizon in HORIZONS:
        mine = rows[rows["horizon"].eq(horizon)]
        expected = (mine["coverage"] * mine["n"]).sum() / mine["n"].sum()
        assert coverage.metadata[f"coverage_{horizon}"].value == pytest.approx(expected)
        assert expected < 0.7
        assert coverage.metadata["forecasts"].value[horizon] == mine["n"].sum()
    assert set(coverage.metadata["outside_70_90"].value) == set(HORIZONS)


@pytest.mark.graph
def test_well_calibrated_intervals_pass_interval_coverage(
    lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def calibrated(forecasts: pd.DataFrame) -> pd.DataFrame:
        # each model's intervals made to hold exactly 4 actuals in 5 (every 5th one missed)
        miss = forecasts.groupby(["model", "horizon"]).cumcount() % 5 == 0
        wide = forecasts.assign(lower=0.0, upper=float("inf"))
        wide.loc[miss, "lower"] = wide.loc[miss, "actual"] + 1
        return wide

    monkeypatch.setattr(evaluation, "walk_forward", evaluating(CHEAP, calibrated))
    result = materialise(lake)
    coverage = check(result, "interval_coverage")
    assert coverage.passed, coverage.metadata
    assert all(
        abs(coverage.metadata[f"coverage_{horizon}"].value - 0.8) <= 0.1 for horizon in HORIZONS
    )


@pytest.mark.graph
def test_a_leaking_evaluation_fails_no_leakage_and_nothing_is_served(
    lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leak(forecasts: pd.DataFrame) -> pd.DataFrame:
        # drift "fitted" on data up to each origin's own minute: fitted at its origin
        fitted_late = forecasts["model"].eq("drift")
        forecasts.loc[fitted_late, "trained_until"] = forecasts.loc[fitted_late, "origin"]
        return forecasts

    monkeypatch.setattr(evaluation, "walk_forward", evaluating(CHEAP, leak))
    result = materialise(lake)
    leakage_check = check(result, "no_leakage")
    assert not leakage_check.passed and leakage_check.severity == AssetCheckSeverity.ERROR
    drift_rows = leakage_check.metadata["leaking"].value
    assert drift_rows > 0 and drift_rows == leakage_check.metadata["forecasts"].value // 2
    shown = leakage_check.metadata["first_leaking"].value
    assert shown and all(row["model"] == "drift" for row in shown)
    assert all(row["trained_until"] == row["origin"] for row in shown)
    # A blocking check: the run fails and no forecast is served from a leaking evaluation.
    assert not result.success
    assert len(result.asset_materializations_for_node("forecast_skill")) == 1
    assert result.asset_materializations_for_node("price_forecasts") == []
    assert stored(lake, "price_forecasts") is None


SPLIT_ON = date(2026, 11, 20)  # inside AS_OF's window: an origin session of its evaluation


def split_aapl(settings: Settings) -> None:
    """Rewrite the lake as if AAPL had split 2:1 on SPLIT_ON: its bars from then on at half
    the price (exact in binary) and twice the volume, and the split in corporate_actions."""
    lake = lake_store(settings)
    for session in sessions_in(SPLIT_ON, LAST):
        for name in ("minute_bars", "daily_bars"):
            frame = stored(settings, name, session)
            assert frame is not None
            mine = frame["symbol"].eq("AAPL")
            prices = [c for c in ("open", "high", "low", "close", "vwap") if c in frame]
            frame.loc[mine, prices] = frame.loc[mine, prices] / 2
            frame.loc[mine, "volume"] = frame.loc[mine, "volume"] * 2
            lake.put(day_key(name, session), encode(name, frame))
    action = pd.DataFrame(
        {
            "symbol": ["AAPL"],
            "ex_date": [pd.Timestamp(SPLIT_ON)],
            "kind": ["split"],
            "value": [2.0],
            "currency": [None],
            "source": ["test"],
            "ingested_at": [pd.Timestamp(f"{SPLIT_ON}T21:00Z")],
        }
    ).astype(DATASETS["corporate_actions"].dtypes)
    lake.put(day_key("corporate_actions", SPLIT_ON), encode("corporate_actions", action))


@pytest.mark.graph
def test_a_split_in_the_window_leaves_the_skill_scale_free_and_the_forecast_traded(
    stub_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "walk_forward", evaluating(CHEAP))
    lakes = {}
    for name in ("unsplit", "split"):
        shutil.copytree(stub_lake, tmp_path / name)
        lakes[name] = Settings(data_dir=tmp_path / name, symbols=tuple(SYMBOLS))
    split_aapl(lakes["split"])
    for settings in lakes.values():
        assert materialise(settings).success
    order = ["symbol", "horizon", "model"]
    skill = {
        name: stored(settings, "forecast_skill").sort_values(order, ignore_index=True)  # type: ignore[union-attr]
        for name, settings in lakes.items()
    }
    aapl = skill["split"]["symbol"].eq("AAPL")
    mine = ~skill["split"]["symbol"].eq(POOLED)  # the pooled rows mix the symbols' prices
    # on the total-return basis AAPL's prices are all half the unsplit ones: its errors in
    # price halve, every scale-free measure is the same, and MSFT is untouched
    free = ["relative_mae", "mase", "directional_accuracy", "coverage", "dm_pvalue", "n"]
    pd.testing.assert_frame_equal(skill["split"][free][mine], skill["unsplit"][free][mine])
    for column in ("mae", "rmse"):
        halved = skill["unsplit"][column].where(~aapl, skill["unsplit"][column] / 2)
        pd.testing.assert_series_equal(skill["split"][column][mine], halved[mine])
    # the served forecast is of the traded price: AAPL's at half the unsplit one
    served = {
        name: stored(settings, "price_forecasts").sort_values(["symbol", "horizon"])  # type: ignore[union-attr]
        for name, settings in lakes.items()
    }
    ratio = served["split"]["forecast"].to_numpy() / served["unsplit"]["forecast"].to_numpy()
    expected = np.where(served["split"]["symbol"].eq("AAPL"), 0.5, 1.0)
    np.testing.assert_allclose(ratio, expected, rtol=1e-12)


FORECAST_LIBRARIES = ("statsmodels", "sklearn", "lightgbm")
FORECAST_DISTRIBUTIONS = {"statsmodels", "scikit-learn", "lightgbm"}
# A fresh interpreter runs one stub tick through tick_job, then reports what it imported.
TICK_PROBE = """
import json, sys
from datetime import datetime, UTC
from pathlib import Path
from marketdata_assets.execution.tick import run_tick
from marketdata_assets.settings import Settings

summary = run_tick(Settings(data_dir=Path(sys.argv[1])), datetime(2026, 11, 25, 14, 31, tzinfo=UTC))
print(json.dumps({"validated": summary.validated,
                  "imported": sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:])}))
"""


def _uv() -> str:
    """uv as the Makefile finds it: on PATH, else the one `make install` bootstraps."""
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv not found: run `make install`"
    return found


def _exported(*groups: str) -> set[str]:
    """The distributions `uv export` pins from uv.lock (the Dockerfile's command without groups)."""
    command = [_uv(), "export", "--frozen", "--no-emit-project", "--no-hashes"]
    command += ["--format", "requirements-txt", *groups]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return {
        line.split("==")[0].lower()
        for line in done.stdout.splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }


@pytest.mark.system
def test_the_minute_tick_never_imports_the_forecasting_libraries(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TICK_PROBE, str(tmp_path / "data"), *FORECAST_LIBRARIES],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["validated"] > 0  # the tick ran through the gate
    assert report["imported"] == []


@pytest.mark.system
def test_the_lambda_image_requirements_leave_the_forecasting_libraries_out() -> None:
    image = _exported("--no-default-groups")  # what the Dockerfile installs
    assert {"dagster", "great-expectations", "pandas"} <= image
    assert not image & FORECAST_DISTRIBUTIONS
    assert _exported() >= FORECAST_DISTRIBUTIONS  # make install's default groups carry them


@pytest.mark.system
def test_the_lambda_image_leaves_the_dashboard_and_the_browser_out() -> None:
    image = _exported("--no-default-groups")
    assert not image & {"fastapi", "playwright"}
    assert _exported() >= {"fastapi", "uvicorn", "playwright"}


CHANGED = AutomationCondition.any_deps_updated()  # "a session my window reads was rewritten"


@pytest.mark.graph
def test_rewriting_an_old_session_s_bars_touches_exactly_the_forecasts_whose_window_reads_it(
    tmp_path: Path,
) -> None:
    # 35 sessions of October to December 2025 (weekends and Thanksgiving are not sessions)
    sessions = [s.isoformat() for s in sessions_in(date(2025, 10, 27), date(2025, 12, 15))]
    assert len(sessions) == 35 and "2025-11-27" not in sessions
    defs = build_definitions(Settings(data_dir=tmp_path / "data")).map_resolved_asset_specs(
        func=lambda spec: spec.replace_attributes(automation_condition=CHANGED),
        selection=AssetSelection.groups("forecasts"),
    )
    with DagsterInstance.ephemeral() as instance:
        for session in sessions:
            bars = AssetMaterialization("minute_bars", partition=session)
            instance.report_runless_asset_event(bars)
        settled = evaluate_automation_conditions(defs=defs, instance=instance)
        old = sessions[2]  # 2025-10-29
        instance.report_runless_asset_event(AssetMaterialization("minute_bars", partition=old))
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    # the session itself and the WINDOW - 1 = 29 sessions after it, counted in sessions
    expected = set(sessions[2 : 2 + WINDOW])
    assert WINDOW == 30 and max(expected) == "2025-12-10"
    for asset in ("forecast_skill", "price_forecasts"):
        assert after.get_requested_partitions(AssetKey(asset)) == expected

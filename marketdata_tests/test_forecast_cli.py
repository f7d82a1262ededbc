"""`marketdata forecast`: bad input is one line and exit 2 before anything heavy is imported; too
little history is one line naming the backfill, exit 1; history without materialised forecasts
is one line naming `--refresh`, exit 1; `--refresh` materialises them through Dagster, recorded
in the instance at DAGSTER_HOME; on stub history (a random walk) it serves naive and says so in
words, as one JSON object or a table, read from the lake without a model library or Dagster,
and so does the dashboard's process."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterInstance

from marketdata_assets.cli import main
from marketdata_assets.cli.forecast import _forecast_text
from marketdata_assets.execution import backfill
from marketdata_assets.forecasting.evaluation import SKILL_FIELDS, sessions_needed
from marketdata_assets.forecasting.horizons import HORIZONS
from marketdata_assets.forecasting.registry import MODELS
from marketdata_assets.forecasting.serving import ORIGINS
from marketdata_assets.history.query import bars
from marketdata_assets.settings import Settings
from marketdata_assets.stores import local_lake
from marketdata_assets.tick.views import fallback_line
from marketdata_assets.web.routes.forecast import forecast_target

SYMBOLS = ["AAPL", "MSFT"]
FIRST, LAST = date(2026, 11, 12), date(2026, 11, 25)  # 10 sessions
HEAVY = ("dagster", "great_expectations", "pandas", "statsmodels", "sklearn", "lightgbm")
# Runs the CLI in a fresh interpreter, then reports which heavy packages it imported.
PROBE = """
import json, sys
from marketdata_assets.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def probe(data_dir: Path, *args: str) -> tuple[int, str, str, list[str]]:
    """(exit code, stdout, stderr, heavy packages imported) of `marketdata *args`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env | {"MARKETDATA_DATA_DIR": str(data_dir)},
    )
    *printed, report = done.stdout.splitlines()
    found = json.loads(report)
    heavy = [name for name in HEAVY if name in found["modules"]]
    return found["code"], "\n".join(printed), done.stderr, heavy


@pytest.fixture(scope="module")
def history_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stub history (a geometric random walk) of SYMBOLS over FIRST..LAST, no forecast yet."""
    folder = tmp_path_factory.mktemp("forecast_history") / "data"
    settings = Settings(data_dir=folder, symbols=tuple(SYMBOLS))
    summary = backfill.run(
        settings, backfill.plan(settings, FIRST, LAST, SYMBOLS, "stub", None, False)
    )
    assert summary.sessions == 10 and not summary.failed
    return folder


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A persistent Dagster instance's folder, telemetry off (as a user's would be set up)."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.fixture(scope="module")
def stub_lake(
    history_lake: Path, dagster_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of `history_lake` whose forecasts `marketdata forecast AAPL --refresh` materialised,
    with DAGSTER_HOME set."""
    folder = tmp_path_factory.mktemp("forecast_cli") / "data"
    shutil.copytree(history_lake, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MARKETDATA_DATA_DIR", str(folder))
        patch.setenv("DAGSTER_HOME", str(dagster_home))
        served = json.loads(run(["forecast", "AAPL", "--refresh", "--json"]))
    assert served["as_of"] == LAST.isoformat()
    return folder


@pytest.mark.domain
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["BRK/B"], "SYMBOL: 'BRK/B' is not a symbol"),
        (["AAPL", "--horizon", "2m"], "--horizon '2m': must be one of 1m, 5m, 15m, 1d"),
        (["AAPL", "--horizon", "1D"], "--horizon '1D': must be one of 1m, 5m, 15m, 1d"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    assert main(["forecast", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"marketdata: error: {message}"), err
    assert not (tmp_path / "data").exists()


@pytest.mark.domain
def test_the_command_offers_exactly_the_forecasting_horizons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    for horizon in HORIZONS:  # accepted: what stops it is the empty lake (exit 1, not 2)
        assert main(["forecast", "AAPL", "--horizon", horizon]) == 1
        assert " sessions of minute bars for AAPL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["forecast", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert "--horizon HORIZON 1m, 5m, 15m or 1d (the next session's close" in helped
    assert list(HORIZONS) == ["1m", "5m", "15m", "1d"]


@pytest.mark.system
def test_bad_input_is_refused_before_pandas_or_any_model_library_is_imported(
    tmp_path: Path,
) -> None:
    for args in (["BRK/B"], ["AAPL", "--horizon", "2m"]):
        code, out, err, imported = probe(tmp_path / "data", "forecast", *args)
        assert (code, out, imported) == (2, "", [])
        assert err.startswith("marketdata: error: ") and err.count("\n") == 1
    assert not (tmp_path / "data").exists()


def forecast_json(lake: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(lake))
    return json.loads(run(["forecast", *args, "--json"]))


def run(argv: list[str]) -> str:
    """What `marketdata *argv` printed; it must exit 0 and print nothing on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    assert (code, err.getvalue()) == (0, ""), err.getvalue()
    return out.getvalue()


@pytest.mark.graph
def test_on_a_random_walk_naive_is_served_with_every_model_s_skill(
    stub_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = forecast_json(stub_lake, monkeypatch, "aapl")
    assert list(served) == [
        *("symbol", "horizon", "origin", "served_model", "reason"),
        *("forecast", "lower", "upper", "skill", "as_of"),
    ]
    assert served["as_of"] == LAST.isoformat()  # the session the forecasts were materialised for
    assert (served["symbol"], served["horizon"], served["served_model"]) == ("AAPL", "5m", "naive")
    assert served["reason"].startswith("no model beats naive")
    assert fallback_line(served) is None  # minute fits: the models forecast, naive still wins
    # from the end of the last bar held (15:59 New York), naive's forecast is that bar's close
    assert served["origin"] == "2026-11-25T21:00:00Z"
    closes = bars(local_lake(stub_lake), "AAPL", "1m", LAST, LAST).rows
    assert served["forecast"] == closes[-1]["close"]
    assert served["lower"] < served["forecast"] < served["upper"]
    assert [row["model"] for row in served["skill"]] == list(MODELS)
    assert all(list(row) == list(SKILL_FIELDS) for row in served["skill"])
    naive = served["skill"][0]
    assert naive["relative_mae"] == 1.0 and naive["dm_pvalue"] is None
    for row in served["skill"][1:]:
        assert 0 < row["dm_pvalue"] <= 1 and row["mae"] > 0 and 0 <= row["coverage"] <= 1


@pytest.mark.graph
def test_the_table_says_in_words_first_whether_a_model_beats_naive(
    stub_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(stub_lake))
    said = run(["forecast", "MSFT", "--horizon", "1d"]).splitlines()
    first, why, fell_back, made, header, *rows = said
    assert first == "no model beats naive for MSFT at the next session's close: serving naive"
    assert why.startswith("why: ") and "for MSFT at the next session's close" in why
    # 10 sessions give no 1d fit: the fitted models forecast as naive, and one line says why.
    assert fell_back == (
        "ets, arima, ridge and lightgbm fell back to naive: too little history for their fits "
        "at 1d (ETS and ARIMA need 50 session returns before an origin, across the symbols "
        "held; ridge and LightGBM 30 training rows): backfill more sessions"
    )
    naive = rows[0].split()[1:6]  # MAE to SKILL
    assert [row.split()[0] for row in rows if row.split()[1:6] == naive][1:] == [
        *("ets", "arima", "ridge", "lightgbm")
    ]
    assert made.startswith("naive forecast made at 2026-11-25 16:00 ET for the next session's")
    assert header.split()[:2] == ["MODEL", "MAE"]
    assert [row.split()[0] for row in rows] == list(MODELS)


@pytest.mark.domain
def test_a_model_that_beats_naive_is_named_with_its_skill_and_p_value() -> None:
    skill = [
        dict.fromkeys(SKILL_FIELDS, 0.5) | {"model": "naive", "relative_mae": 1.0},
        dict.fromkeys(SKILL_FIELDS, 0.5) | {"model": "lightgbm", "relative_mae": 0.959},
    ]
    skill[1]["dm_pvalue"] = 0.003
    served = {
        "symbol": "AAPL",
        "horizon": "5m",
        "origin": "2026-11-25T20:55:00Z",
        "served_model": "lightgbm",
        "reason": "lightgbm beats naive for AAPL at 5 minutes (…)",
        "forecast": 101.0,
        "lower": 100.0,
        "upper": 102.0,
        "skill": skill,
    }
    first, _, made, *_ = _forecast_text(served).splitlines()
    assert first == (
        "lightgbm beats naive for AAPL at 5 minutes (skill 4.1 %, DM p = 0.003): serving lightgbm"
    )
    assert made == (
        "lightgbm forecast made at 2026-11-25 15:55 ET for 5 minutes of trading later: "
        "101.0000 (80 % interval 100.0000 to 102.0000)"
    )


@pytest.mark.graph
@pytest.mark.parametrize("refresh", [[], ["--refresh"]], ids=["read", "refresh"])
@pytest.mark.parametrize("held", [0, 3])
def test_too_little_history_is_one_line_naming_the_backfill_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held: int,
    refresh: list[str],
) -> None:
    data_dir = tmp_path / "data"
    if held:
        settings = Settings(data_dir=data_dir, symbols=("AAPL",))
        first = date(2026, 11, 23)
        plan = backfill.plan(settings, first, LAST, ["AAPL"], "stub", None, False)
        assert len(plan.sessions) == held
        backfill.run(settings, plan)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    capsys.readouterr()
    assert main(["forecast", "AAPL", *refresh]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert not (data_dir / "forecast_skill").exists()  # a refresh ran nothing
    needed = sessions_needed(ORIGINS)
    assert err.startswith(
        f"marketdata: error: {held} sessions of minute bars for AAPL in the lake, {needed} needed "
        "for full training windows (at least 7 to answer at all): run `marketdata backfill --from "
    ), err
    assert err.endswith(" --symbols AAPL` first\n"), err


@pytest.mark.graph
def test_history_without_materialised_forecasts_is_one_line_naming_the_refresh_exit_1(
    history_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(history_lake))
    capsys.readouterr()
    assert main(["forecast", "MSFT", "--horizon", "1d"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "marketdata: error: no forecast of MSFT at 1d is materialised: run "
        "`marketdata forecast MSFT --horizon 1d --refresh`\n"
    )


@pytest.mark.graph
def test_a_refresh_materialises_both_assets_for_the_newest_session_in_dagster_home(
    stub_lake: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    with DagsterInstance.get() as instance:
        (record,) = instance.get_run_records()
        assert record.dagster_run.job_name == "forecast_job" and record.dagster_run.is_success
        assert record.dagster_run.tags["dagster/partition"] == LAST.isoformat()
        for asset in ("forecast_skill", "price_forecasts"):
            event = instance.get_latest_materialization_event(AssetKey(asset))
            assert event is not None and event.run_id == record.dagster_run.run_id
            assert event.dagster_event is not None
            assert event.dagster_event.partition == LAST.isoformat()
    # what the read serves is what the run wrote: another symbol's too, without a refresh
    served = forecast_json(stub_lake, monkeypatch, "MSFT", "--horizon", "15m")
    assert (served["symbol"], served["horizon"], served["as_of"]) == ("MSFT", "15m", str(LAST))


@pytest.mark.system
def test_a_forecast_imports_neither_dagster_nor_great_expectations(
    history_lake: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "data"
    shutil.copytree(history_lake, lake)
    code, refreshed, err, imported = probe(lake, "forecast", "AAPL", "--horizon", "1m", "--refresh")
    assert code == 0 and err == ""
    assert refreshed.startswith("no model beats naive for AAPL at 1 minute: serving naive\n")
    assert {"dagster", "statsmodels", "sklearn", "lightgbm"} <= set(imported)  # it evaluated
    code, out, err, imported = probe(lake, "forecast", "AAPL", "--horizon", "1m")
    assert code == 0 and err == "" and out == refreshed
    assert "dagster" not in imported and "great_expectations" not in imported
    assert not {"statsmodels", "sklearn", "lightgbm"} & set(imported)  # it read what was served


# The dashboard's process, fresh: one forecast request, then the packages it imported.
WEB_PROBE = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app

client = TestClient(create_app(StorageSettings(data_dir=Path(sys.argv[1]))))
answer = client.get("/api/forecast/AAPL", params={"horizon": "1d"})
print(json.dumps({"code": answer.status_code, "body": answer.json(),
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.system
def test_the_dashboard_serves_a_forecast_without_any_model_library_or_dagster(
    stub_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROBE, str(stub_lake)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 200
    expected = forecast_json(stub_lake, monkeypatch, "AAPL", "--horizon", "1d")
    # the dashboard's additions: the verdict, the newest session held, the instant forecast
    added = ("verdict", "newest_session", "target")
    assert {k: v for k, v in report["body"].items() if k not in added} == expected
    assert report["body"]["newest_session"] == expected["as_of"]
    assert report["body"]["target"] == forecast_target(expected["origin"], "1d")
    heavy = {"statsmodels", "sklearn", "lightgbm", "dagster", "great_expectations"}
    assert not heavy & set(report["modules"])

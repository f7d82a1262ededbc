"""Corporate actions end to end: a stub backfill across its seeded split and dividend lands them
gated, byte-identically on a forced rerun; the reads adjust on request; a file's actions are
gated with their reasons; a bad actions file writes nothing."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.cli import main
from marketdata_assets.execution import backfill
from marketdata_assets.lake import DAY_DATASETS, day_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store

pytestmark = pytest.mark.graph

WEEK = (date(2026, 11, 30), date(2026, 12, 4))  # the README's week: AAPL 4:1 on Wednesday
SPLIT, DIVIDEND = date(2026, 12, 2), date(2026, 12, 3)
BARS_CSV = (Path(__file__).with_name("payloads") / "history" / "bars.csv").read_text()


def _objects(settings: Settings, names: tuple[str, ...] = DAY_DATASETS) -> dict[str, bytes]:
    lake = lake_store(settings)
    return {key: lake.get(key) for name in names for key in lake.keys(f"{name}/")}


def _frame(settings: Settings, name: str, session: date) -> pd.DataFrame:
    frame = decode(name, lake_store(settings).get(day_key(name, session)))
    assert isinstance(frame, pd.DataFrame)
    return frame


@pytest.fixture(scope="module")
def stub_week(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("actions") / "data",
                        symbols=("AAPL", "MSFT"))  # fmt: skip
    summary = backfill.run(settings, backfill.plan(settings, *WEEK, None, "stub", None, False))
    assert summary.failed == []
    return settings


def test_the_stub_week_lands_its_split_and_dividend_gated(stub_week: Settings) -> None:
    split = _frame(stub_week, "corporate_actions", SPLIT)
    assert split[["symbol", "kind", "value"]].values.tolist() == [["AAPL", "split", 4.0]]
    dividend = _frame(stub_week, "corporate_actions", DIVIDEND)
    assert dividend[["symbol", "kind", "currency"]].values.tolist() == [["MSFT", "dividend", "USD"]]
    assert 0 < dividend["value"].iloc[0] < 2
    assert all(_frame(stub_week, "actions_quarantine", day).empty for day in (SPLIT, DIVIDEND))
    # the session's return across the split is the real one, not ln(1/4)
    analytics = _frame(stub_week, "session_analytics", SPLIT)
    assert abs(analytics.set_index("symbol").loc["AAPL", "return"]) < 0.1


def test_a_forced_rerun_rewrites_the_actions_byte_identically(stub_week: Settings) -> None:
    before = _objects(stub_week, ("raw_history", "corporate_actions", "actions_quarantine"))
    summary = backfill.run(
        stub_week, backfill.plan(stub_week, SPLIT, DIVIDEND, None, "stub", None, True), force=True
    )
    assert summary.failed == []
    after = _objects(stub_week, ("raw_history", "corporate_actions", "actions_quarantine"))
    assert after == before and len(before) == 3 * 5


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_reads_adjust_as_asked(
    stub_week: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(stub_week.data_dir))
    code, out, _ = _run(["actions", "AAPL", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == [{"symbol": "AAPL", "ex_date": "2026-12-02", "kind": "split",
                                "value": 4.0, "currency": None, "source": "stub"}]  # fmt: skip
    week = ["--from", "2026-11-30", "--to", "2026-12-04", "--json"]
    closes = {}
    for basis in ("none", "splits"):
        code, out, _ = _run(["bars", "AAPL", "--interval", "1d", "--adjust", basis, *week], capsys)
        assert code == 0
        closes[basis] = [row["close"] for row in json.loads(out)]
    assert closes["splits"][:2] == pytest.approx([c / 4 for c in closes["none"][:2]])
    assert closes["splits"][2:] == closes["none"][2:]
    _, default, _ = _run(["bars", "AAPL", "--interval", "1d", *week], capsys)
    assert [row["close"] for row in json.loads(default)] == closes["splits"]
    returns = {}
    for basis in ("none", "splits"):
        _, out, _ = _run(["analytics", "AAPL", "--adjust", basis, *week], capsys)
        returns[basis] = {row["session"]: row["return"] for row in json.loads(out)}
    assert returns["none"]["2026-12-02"] == pytest.approx(returns["splits"]["2026-12-02"]
                                                          - math.log(4))  # fmt: skip
    assert returns["none"]["2026-12-03"] == returns["splits"]["2026-12-03"]
    code, out, err = _run(["bars", "AAPL", "--adjust", "raw"], capsys)
    assert (code, out) == (2, "")
    assert err == "marketdata: error: --adjust 'raw': must be one of none, splits, all\n"


def test_a_files_actions_are_gated_with_their_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bars, actions = tmp_path / "bars.csv", tmp_path / "actions.csv"
    bars.write_text(BARS_CSV)
    actions.write_text(
        "symbol,ex_date,kind,value\nAAPL,2026-11-24,split,2\nAAPL,2026-11-24,split,3\n"
        "MSFT,2026-11-24,split,0\nMSFT,2026-11-24,spinoff,1\n"
    )
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    files = ["--provider", "file", "--source", str(bars), "--actions", str(actions)]
    span = ["--from", "2026-11-24", "--to", "2026-11-24"]
    code, out, err = _run(["backfill", *files, *span], capsys)
    assert code == 0, err
    # The summary names the refused actions too, and where to read them (there is no CLI).
    assert out.splitlines()[-1] == (
        "corporate actions refused by reason: duplicate 1, kind_unknown 1, ratio_invalid 1 (each "
        "row with its text: `GET /api/quarantine/actions?from=2026-11-24&to=2026-11-24`, the "
        "dashboard's /quality page)"
    )
    settings = Settings(data_dir=tmp_path / "data")
    gated = _frame(settings, "corporate_actions", date(2026, 11, 24))
    assert gated[["symbol", "value"]].values.tolist() == [["AAPL", 2.0]]
    refused = _frame(settings, "actions_quarantine", date(2026, 11, 24))
    assert refused["reasons"].map(list).tolist() == [["duplicate"], ["ratio_invalid"],
                                                     ["kind_unknown"]]  # fmt: skip
    assert refused["raw"].tolist() == ["AAPL,2026-11-24,split,3", "MSFT,2026-11-24,split,0",
                                       "MSFT,2026-11-24,spinoff,1"]  # fmt: skip


def test_the_refused_actions_are_counted_when_batches_run_in_parallel_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 17 sessions on two workers, batches of 5: the first runs whole while the second
    # (2026-11-09..13) runs the bars' stage only, then the actions gate's stage alone, whose
    # counts must join the batch's outcome.
    bars, actions = tmp_path / "bars.csv", tmp_path / "actions.csv"
    bars.write_text(BARS_CSV)
    actions.write_text(
        "symbol,ex_date,kind,value\nAAPL,2026-11-03,spinoff,1\nAAPL,2026-11-10,spinoff,1\n"
    )
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MARKETDATA_BACKFILL_CONCURRENCY", "2")
    files = ["--provider", "file", "--source", str(bars), "--actions", str(actions)]
    code, out, err = _run(
        ["backfill", *files, "--from", "2026-11-02", "--to", "2026-11-24"], capsys
    )
    assert code == 0, err
    assert "corporate actions refused by reason: kind_unknown 2 (" in out, out


def test_a_bad_actions_file_is_refused_in_one_line_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bars, actions = tmp_path / "bars.csv", tmp_path / "actions.csv"
    bars.write_text(BARS_CSV)
    actions.write_text("symbol,kind\nAAPL,split\n")
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    range_ = ["--from", "2026-11-24", "--to", "2026-11-24"]
    code, out, err = _run(["backfill", "--provider", "file", "--source", str(bars),
                           "--actions", str(actions), *range_], capsys)  # fmt: skip
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "--actions" in err and "lacks the columns ex_date" in err
    code, _, err = _run(["backfill", "--provider", "stub", "--actions", str(actions), *range_],
                        capsys)  # fmt: skip
    assert code == 2 and "the stub provider does not use --actions" in err
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.parquet"))


def test_the_api_adjusts_as_asked_and_refuses_a_bad_basis_in_one_line(stub_week: Settings) -> None:
    from fastapi.testclient import TestClient

    from marketdata_assets.settings import StorageSettings
    from marketdata_assets.web.app import create_app

    week = "from=2026-11-30&to=2026-12-04"
    with TestClient(create_app(StorageSettings(data_dir=stub_week.data_dir))) as client:
        raw = client.get(f"/api/bars/AAPL?interval=1d&{week}&adjust=none").json()
        default = client.get(f"/api/bars/AAPL?interval=1d&{week}").json()
        assert [r["close"] for r in default][:2] == pytest.approx([r["close"] / 4 for r in raw][:2])
        assert [r["volume"] for r in default][:2] == [r["volume"] * 4 for r in raw][:2]
        analytics = client.get(f"/api/analytics/AAPL?{week}&adjust=none").json()
        split_day = {r["session"]: r["return"] for r in analytics}["2026-12-02"]
        traded = math.log(raw[2]["close"] / raw[1]["close"])  # about ln(1/4)
        assert split_day == pytest.approx(traded, abs=1e-9) and traded < -1.3
        refused = client.get("/api/analytics/AAPL?adjust=raw")
        assert refused.status_code == 422
        assert refused.json() == {"detail": "adjust 'raw': must be one of none, splits, all"}

"""The history graph end to end: session partitions, backfill (resume, new symbols, forced
rerun byte-identical, failures leave nothing done), conservation, and the tick stream's daily
compaction."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.cli import main
from marketdata_assets.defs.partitions import trading_sessions
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution import backfill
from marketdata_assets.history.done import done_symbols
from marketdata_assets.lake import DAY_DATASETS, day_key, object_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_assets.tick.contracts import VALIDATED_SCHEMA

pytestmark = pytest.mark.graph

# Thanksgiving 2025 and its early close (a week of the past: backfills run on ended sessions).
THANKSGIVING_WEEK = (date(2025, 11, 24), date(2025, 12, 1))
EARLY_CLOSE = date(2025, 11, 28)


@pytest.fixture
def history_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", symbols=("AAPL", "MSFT"))


def _backfill(
    settings: Settings,
    first: date = THANKSGIVING_WEEK[0],
    last: date = THANKSGIVING_WEEK[1],
    symbols: list[str] | None = None,
    force: bool = False,
    provider: str = "stub",
    source: str | None = None,
) -> backfill.BackfillSummary:
    planned = backfill.plan(settings, first, last, symbols, provider, source, force)
    return backfill.run(settings, planned, force=force)


def _objects(settings: Settings) -> dict[str, bytes]:
    lake = lake_store(settings)
    return {key: lake.get(key) for name in DAY_DATASETS for key in lake.keys(f"{name}/")}


def _table(settings: Settings, name: str, session: date) -> pd.DataFrame:
    frame = decode(name, lake_store(settings).get(day_key(name, session)))
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_partition_keys_are_the_nyse_sessions_across_thanksgiving() -> None:
    keys = trading_sessions.get_partition_keys(current_time=datetime(2026, 12, 5, 12))
    week = keys[keys.index("2026-11-20") : keys.index("2026-12-01") + 1]
    assert week == ["2026-11-20", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27",
                    "2026-11-30", "2026-12-01"]  # fmt: skip
    first_year = [d.isoformat() for d in sessions_in(date(2010, 1, 1), date(2010, 12, 31))]
    assert keys[: len(first_year)] == first_year


def test_backfill_lands_every_session_with_early_close_minutes(history_settings: Settings) -> None:
    summary = _backfill(history_settings)

    sessions = sessions_in(*THANKSGIVING_WEEK)
    assert summary.sessions == len(sessions) == 5
    assert summary.skipped == ["2025-11-27", "2025-11-29", "2025-11-30"]
    assert summary.failed == []
    assert summary.rows == summary.validated + summary.quarantined == 2 * (4 * 390 + 210)
    early = _table(history_settings, "minute_bars", EARLY_CLOSE)
    assert early.groupby("symbol").size().to_dict() == {"AAPL": 210, "MSFT": 210}
    assert early["start"].max() == pd.Timestamp("2025-11-28 17:59", tz="UTC")  # 12:59 New York
    daily = _table(history_settings, "daily_bars", EARLY_CLOSE)
    assert daily["minutes"].tolist() == [210, 210]
    analytics = _table(history_settings, "session_analytics", date(2025, 12, 1))
    assert list(analytics["symbol"]) == ["AAPL", "MSFT"]
    assert analytics["return"].notna().all()  # the previous session (11-28) was read
    lake = lake_store(history_settings)
    assert [done_symbols(lake, session) for session in sessions] == [{"AAPL", "MSFT"}] * 5


def test_rerun_resumes_adds_symbols_and_force_is_byte_identical(
    history_settings: Settings,
) -> None:
    _backfill(history_settings)
    first = _objects(history_settings)

    again = _backfill(history_settings)  # everything done: nothing runs, nothing changes
    assert (again.sessions, again.already_done) == (0, 5)
    assert _objects(history_settings) == first

    wider = _backfill(history_settings, symbols=["AAPL", "MSFT", "NVDA"])  # only NVDA is new
    assert wider.sessions == 5 and wider.rows == 4 * 390 + 210 + 2 * (4 * 390 + 210)
    bars = _table(history_settings, "minute_bars", date(2025, 11, 25))
    assert sorted(bars["symbol"].unique()) == ["AAPL", "MSFT", "NVDA"]
    old = decode("minute_bars", first[day_key("minute_bars", date(2025, 11, 25))])
    assert isinstance(old, pd.DataFrame)
    kept = bars[bars["symbol"] != "NVDA"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, old)  # AAPL and MSFT untouched
    widened = _objects(history_settings)

    forced = _backfill(history_settings, symbols=["AAPL", "MSFT", "NVDA"], force=True)
    assert forced.sessions == 5
    assert _objects(history_settings) == widened  # raw included: no wall-clock inside


def test_a_failed_session_is_not_done_and_a_resume_finishes_it(
    history_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketdata_assets.history import daily

    def broken(bars: pd.DataFrame) -> pd.DataFrame:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(daily, "daily_bars", broken)
    failed = _backfill(history_settings, date(2025, 11, 24), date(2025, 11, 25))
    assert [f["session"] for f in failed.failed] == ["2025-11-24", "2025-11-25"]
    assert "disk on fire" in failed.failed[0]["error"]
    lake, sessions = lake_store(history_settings), [date(2025, 11, 24), date(2025, 11, 25)]
    assert lake.keys("raw_history/") != []  # raw landed before the run failed: not done
    assert [done_symbols(lake, session) for session in sessions] == [set(), set()]

    monkeypatch.undo()
    resumed = _backfill(history_settings, date(2025, 11, 24), date(2025, 11, 25))
    assert (resumed.sessions, resumed.failed) == (2, [])
    assert [done_symbols(lake, session) for session in sessions] == [{"AAPL", "MSFT"}] * 2


def test_sessions_materialised_by_dagster_alone_are_done_for_the_backfill(
    history_settings: Settings,
) -> None:
    from marketdata_assets.definitions import build_definitions
    from marketdata_assets.execution.batches import RANGE_END, RANGE_START

    first, last = date(2025, 11, 24), date(2025, 11, 26)
    job = build_definitions(history_settings).resolve_job_def("history_job")
    ui_run = job.execute_in_process(  # as a backfill of the range launched from the UI runs
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}
    )
    assert ui_run.success
    landed = _objects(history_settings)

    summary = _backfill(history_settings, first, last)
    assert (summary.sessions, summary.already_done) == (0, 3)
    assert _objects(history_settings) == landed
    wider = _backfill(history_settings, first, last, symbols=["AAPL", "MSFT", "NVDA"])
    assert (wider.sessions, wider.already_done) == (3, 0)  # NVDA was not done anywhere
    assert wider.rows == 3 * 3 * 390  # each session's bars gate reads its whole raw


def test_a_file_with_row_defects_quarantines_them_and_conserves_rows(
    history_settings: Settings, tmp_path: Path
) -> None:
    rows = [
        "symbol,ts,open,high,low,close,volume",
        "AAPL,2026-11-25T09:30:00-05:00,100,101,99.5,100.5,1000",  # good
        "AAPL,2026-11-25T09:31:00-05:00,100.5,100.9,100.1,100.2,800",  # good
        "AAPL,2026-11-25T09:31:00-05:00,100.5,100.9,100.1,100.2,800",  # duplicate
        "AAPL,2026-11-25T09:32:00-05:00,100,99,101,100,10",  # high below low
        "AAPL,2026-11-25T09:33:00-05:00,-1,1,-2,0.5,10",  # negative price
        "AAPL,2026-11-25T20:00:00-05:00,100,101,99,100,10",  # after the close
        "AAPL,not-a-time,100,101,99,100,10",  # unparseable timestamp
    ]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(rows) + "\n")

    summary = _backfill(
        history_settings, date(2026, 11, 25), date(2026, 11, 25), provider="file", source=str(path)
    )

    assert (summary.rows, summary.validated, summary.quarantined) == (7, 2, 5)
    quarantine = _table(history_settings, "bars_quarantine", date(2026, 11, 25))
    reasons = sorted(reason for row in quarantine["reasons"] for reason in row)
    assert {"duplicate", "ohlc_inconsistent", "price_invalid", "outside_session",
            "unparseable_ts"} <= set(reasons)  # fmt: skip
    assert "not-a-time" in " ".join(quarantine["raw"])


def test_bad_ranges_and_files_are_refused_before_anything_is_written(
    history_settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="after --to"):
        backfill.plan(
            history_settings, date(2026, 11, 25), date(2026, 11, 2), None, "stub", None, False
        )
    with pytest.raises(ConfigError, match=r"^2026-11-26 is not an NYSE session: Thanksgiving$"):
        backfill.plan(
            history_settings, date(2026, 11, 26), date(2026, 11, 26), None, "stub", None, False
        )
    not_bars = tmp_path / "notes.txt"
    not_bars.write_text("hello\nworld\n")
    with pytest.raises(ConfigError):
        backfill.plan(
            history_settings,
            date(2026, 11, 25),
            date(2026, 11, 25),
            None,
            "file",
            str(not_bars),
            False,
        )
    assert not Path(history_settings.data_dir).exists() or _objects(history_settings) == {}


def test_backfill_command_prints_the_summary_object(
    history_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(history_settings.data_dir))
    code = main(["backfill", "--from", "2025-11-26", "--to", "2025-11-28", "--symbols", "KO",
                 "--provider", "stub", "--json"])  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary)[:6] == [
        "sessions",
        "rows",
        "validated",
        "quarantined",
        "skipped",
        "failed",
    ]
    assert summary["sessions"] == 2 and summary["skipped"] == ["2025-11-27"]
    assert summary["rows"] == 390 + 210

    assert main(["backfill", "--from", "2026-11-27", "--to", "2026-11-25"]) == 2
    assert "--from" in capsys.readouterr().err


def test_a_backfill_with_nothing_to_run_says_which_sessions_are_done(
    history_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(history_settings.data_dir))
    two = ["backfill", "--from", "2025-11-25", "--to", "2025-11-26", "--symbols", "KO"]
    one = ["backfill", "--from", "2025-11-26", "--to", "2025-11-26", "--symbols", "KO"]
    assert main([*two, "--json"]) == 0
    capsys.readouterr()
    assert main([*one, "--json"]) == 0
    assert capsys.readouterr().err == (
        "the session 2025-11-26 is done for KO: nothing to run (--force redoes it)\n"
    )
    assert main([*two, "--json"]) == 0
    assert capsys.readouterr().err == (
        "all 2 sessions are done for KO: nothing to run (--force redoes them)\n"
    )


def test_validated_daily_folds_the_session_ticks(history_settings: Settings) -> None:
    from dagster import materialize

    from marketdata_assets.definitions import build_definitions
    from marketdata_assets.execution.tick import run_tick

    ticks = [datetime.fromisoformat(f"2026-11-25T15:0{m}:00+00:00") for m in range(3)]
    for tick in ticks:
        run_tick(history_settings, tick)
    # a minute object from before the typed Quote: `volume`, no exchange columns
    old = pd.DataFrame({"line": [0], "symbol": ["AAPL"], "price": [230.0], "volume": [5],
                        "currency": ["USD"], "event_ts": [pd.Timestamp("2026-11-25 14:59:30Z")],
                        "tick": [pd.Timestamp("2026-11-25 14:59Z")]})  # fmt: skip
    lake_store(history_settings).put(  # as that writer wrote it: today's codec refuses it
        object_key("validated", datetime.fromisoformat("2026-11-25T14:59:00+00:00")),
        old.to_parquet(index=False),
    )
    defs = build_definitions(history_settings)
    result = materialize(
        [defs.get_assets_def("validated_daily")],
        partition_key="2026-11-25",
        resources=defs.resources,
        selection=["validated_daily"],
    )
    assert result.success
    folded = _table(history_settings, "validated_daily", date(2026, 11, 25))
    assert len(folded) == 2 * len(ticks) + 1
    assert list(folded.columns) == list(VALIDATED_SCHEMA)
    assert folded["day_volume"].isna().sum() == 1  # the old object's row: kept, volume unknown
    ordered = folded.sort_values(["symbol", "event_ts"], ignore_index=True)
    pd.testing.assert_frame_equal(folded, ordered)  # sorted by symbol, then time


def test_the_aws_profile_writes_the_same_objects_to_s3(
    aws_settings: Settings, history_settings: Settings
) -> None:
    week = (date(2025, 11, 26), date(2025, 11, 28))
    _backfill(history_settings, *week)
    on_s3 = aws_settings.with_overrides(symbols=history_settings.symbols)
    summary = _backfill(on_s3, *week)

    assert summary.sessions == 2 and summary.failed == []
    local = _objects(history_settings)
    assert sorted(local) == sorted(k for k in local if "date=2025-11-2" in k)
    assert _objects(on_s3) == local  # same keys, same bytes on both backends


def test_progress_shows_sessions_rows_and_eta_on_a_terminal() -> None:
    import io

    from marketdata_assets.execution.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = Progress(4, screen)
    bar.advance(1, 390)
    bar.advance(3, 1_560)
    bar.close()
    frames = screen.getvalue().split("\r")
    assert "1/4 sessions · 390 rows · ETA" in frames[1]
    assert frames[2].startswith("[" + "#" * 30 + "] 4/4 sessions · 1,560 rows · ETA 0:00")
    quiet = io.StringIO()  # not a terminal: no bar
    Progress(4, quiet).advance(4, 10)
    assert quiet.getvalue() == ""

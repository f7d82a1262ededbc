"""Order-independent history: a backfill re-materialises the later partitions whose declared
windows read the sessions it wrote (session_analytics, the forecasts), so the lake after any
order of backfills equals the lake after one backfill of their union."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.history import ROLLING_SESSIONS
from marketdata_assets.defs.partitions import SESSIONS_PER_RUN
from marketdata_assets.execution import backfill, downstream
from marketdata_assets.execution.forecasts import materialise_forecasts
from marketdata_assets.lake import day_key
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.test_history_pipeline import _objects, _table

pytestmark = pytest.mark.graph

SYMBOLS = ("AAPL", "MSFT")
RANGE = sessions_in(date(2026, 11, 9), date(2026, 11, 18))  # 8 sessions


def _backfill(
    settings: Settings, first: date, last: date, force: bool = False
) -> backfill.BackfillSummary:
    planned = backfill.plan(settings, first, last, None, "stub", None, force)
    return backfill.run(settings, planned, force=force)


def _analytics(settings: Settings) -> dict[str, bytes]:
    return {k: v for k, v in _objects(settings).items() if k.startswith("session_analytics/")}


@pytest.fixture(scope="module")
def union(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every day object of one backfill of RANGE."""
    folder = tmp_path_factory.mktemp("union")
    settings = Settings(data_dir=folder, symbols=SYMBOLS)
    assert not _backfill(settings, RANGE[0], RANGE[-1]).failed
    return _objects(settings)


def test_a_later_range_then_an_earlier_one_equals_one_backfill_of_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: 11-19..20 then 11-16..18 leaves 11-19's session return computed, and
    the analytics byte-identical to one backfill of 11-16..20; --force and a resume too."""
    ordered = Settings(data_dir=tmp_path / "ordered", symbols=SYMBOLS)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(ordered.data_dir))
    monkeypatch.setenv("MARKETDATA_SYMBOLS", ",".join(SYMBOLS))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    command = ["backfill", "--provider", "stub", "--json"]
    assert main([*command, "--from", "2026-11-19", "--to", "2026-11-20"]) == 0
    assert json.loads(capsys.readouterr().out)["refreshed"] == []  # nothing held after it
    first_alone = _table(ordered, "session_analytics", date(2026, 11, 19))
    assert first_alone["return"].isna().all()  # no earlier close held yet

    assert main([*command, "--from", "2026-11-16", "--to", "2026-11-18"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sessions"] == 3 and summary["failed"] == []
    assert summary["refreshed"] == ["2026-11-19", "2026-11-20"]

    union = Settings(data_dir=tmp_path / "union", symbols=SYMBOLS)
    assert _backfill(union, date(2026, 11, 16), date(2026, 11, 20)).refreshed == []
    assert _analytics(ordered) == _analytics(union)
    assert _objects(ordered) == _objects(union)
    assert _table(ordered, "session_analytics", date(2026, 11, 19))["return"].notna().all()

    # --force rewrites 11-16 and refreshes the four held sessions after it: same bytes.
    forced = ["backfill", "--provider", "stub", "--from", "2026-11-16", "--to", "2026-11-16"]
    assert main([*forced, "--force"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "refreshed 4 later sessions whose windows read the sessions written: 2026-11-17..2026-11-20"
    )
    assert _objects(ordered) == _objects(union)

    # A resume with nothing to run writes nothing, so refreshes nothing.
    lake = lake_store(ordered)
    before = lake.versions("session_analytics/")
    assert main([*command, "--from", "2026-11-16", "--to", "2026-11-20"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sessions"] == 0 and summary["refreshed"] == []
    assert lake.versions("session_analytics/") == before


@st.composite
def sub_ranges(draw: st.DrawFn) -> list[tuple[int, int]]:
    """2 or 3 sub-ranges (first, last index into RANGE) covering RANGE, some overlapping by a
    session, in a random order."""
    pieces = draw(st.integers(2, 3))
    cuts = sorted(draw(st.sets(st.integers(1, len(RANGE) - 1), min_size=pieces - 1,
                               max_size=pieces - 1)))  # fmt: skip
    bounds = list(zip([0, *cuts], [*cuts, len(RANGE)], strict=True))
    ranges = [(max(0, start - draw(st.integers(0, 1))), end - 1) for start, end in bounds]
    return draw(st.permutations(ranges))


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ranges=sub_ranges())
def test_any_order_of_sub_range_backfills_leaves_the_union_backfills_objects(
    union: dict[str, bytes], ranges: list[tuple[int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ordered = Settings(data_dir=Path(folder), symbols=SYMBOLS)
        for start, end in ranges:
            assert not _backfill(ordered, RANGE[start], RANGE[end]).failed
        objects = _objects(ordered)
    analytics = {k: v for k, v in objects.items() if k.startswith("session_analytics/")}
    assert len(analytics) == len(RANGE)
    assert analytics == {k: v for k, v in union.items() if k.startswith("session_analytics/")}
    assert objects == union


def test_a_backfill_older_than_the_lake_refreshes_the_sessions_its_window_reaches(
    tmp_path: Path,
) -> None:
    """One session before 22 held ones: exactly the ROLLING_SESSIONS + 1 after it are refreshed
    (the next session's actions gate reads its close for the dividend rule, and analytics read
    the corporate_actions of the ROLLING_SESSIONS before them), in runs of at most
    SESSIONS_PER_RUN, and the first of them gets its return."""
    settings = Settings(data_dir=tmp_path / "data", symbols=("AAPL",))
    held = sessions_in(date(2026, 10, 2), date(2026, 11, 2))
    assert len(held) == ROLLING_SESSIONS + 2
    assert not _backfill(settings, held[0], held[-1]).failed
    assert _table(settings, "session_analytics", held[0])["return"].isna().all()

    summary = _backfill(settings, date(2026, 10, 1), date(2026, 10, 1))
    assert summary.failed == []
    assert summary.refreshed == [s.isoformat() for s in held[: ROLLING_SESSIONS + 1]]
    assert _table(settings, "session_analytics", held[0])["return"].notna().all()


def test_forecasts_held_for_a_later_session_are_refreshed_and_none_added(tmp_path: Path) -> None:
    ordered = Settings(data_dir=tmp_path / "ordered", symbols=("AAPL",))
    assert not _backfill(ordered, date(2026, 11, 13), date(2026, 11, 24)).failed
    assert materialise_forecasts(ordered, date(2026, 11, 24)) is None
    summary = _backfill(ordered, date(2026, 11, 10), date(2026, 11, 12))
    assert summary.failed == [] and "2026-11-24" in summary.refreshed

    union = Settings(data_dir=tmp_path / "union", symbols=("AAPL",))
    assert not _backfill(union, date(2026, 11, 10), date(2026, 11, 24)).failed
    assert materialise_forecasts(union, date(2026, 11, 24)) is None
    forecasts = {k: v for k, v in _objects(ordered).items() if "forecast" in k}
    assert sorted(forecasts) == [
        "forecast_skill/date=2026-11-24/part.parquet",
        "price_forecasts/date=2026-11-24/part.parquet",
    ]
    assert _objects(ordered) == _objects(union)


def test_the_refresh_plan_follows_the_declared_windows_and_only_held_objects(
    tmp_path: Path,
) -> None:
    """Runs of consecutive held sessions per job and asset set, none for upstream assets. The
    analytics' window reaches ROLLING_SESSIONS + 1 sessions on: through corporate_actions of the
    next session, whose gate reads the written session's close."""
    settings = Settings(data_dir=tmp_path / "data")
    defs = build_definitions(settings)
    lake = lake_store(settings)
    later = sessions_in(date(2026, 10, 2), date(2026, 11, 30))
    gap = later[12]
    for session in later:
        if session != gap:
            lake.put(day_key("session_analytics", session), b"")
    lake.put(day_key("forecast_skill", later[3]), b"")
    materialised = downstream.job_assets(defs)["history_job"]
    runs = downstream.plan_refresh(
        defs, lake, {k.to_user_string() for k in materialised}, [date(2026, 10, 1)],
        SESSIONS_PER_RUN,
    )  # fmt: skip
    analytics = [run for run in runs if run.assets == ("session_analytics",)]
    assert all(run.job == "history_job" for run in analytics)
    assert [run.sessions for run in analytics] == [
        tuple(later[:10]), tuple(later[10:12]), tuple(later[13 : ROLLING_SESSIONS + 1])
    ]  # fmt: skip
    assert [(r.job, r.assets, r.sessions) for r in runs if r not in analytics] == [
        ("forecast_job", ("forecast_skill",), (later[3],))
    ]


def test_a_failed_refresh_is_a_failed_session_of_the_summary(tmp_path: Path) -> None:
    """A held forecast whose session has no bars cannot be recomputed: named, not hidden."""
    settings = Settings(data_dir=tmp_path / "data", symbols=("AAPL",))
    lake_store(settings).put(day_key("forecast_skill", date(2026, 11, 20)), b"")
    summary = _backfill(settings, date(2026, 11, 19), date(2026, 11, 19))
    assert summary.refreshed == []
    assert [f["session"] for f in summary.failed] == ["2026-11-20"]
    assert "refreshing forecast_skill" in summary.failed[0]["error"]
    assert "2026-11-20" in summary.failed[0]["error"]

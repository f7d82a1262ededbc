"""Freshness of latest_prices: stale in a session fails, closed markets pass; judged on a fake
clock (the minute a run judges is its tag), through the check's own job."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance

from marketdata_assets import stores
from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.freshness import AS_OF_TAG, judge
from marketdata_assets.latest import LatestPrice
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.graph


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


IN_SESSION = utc("2026-11-25T11:00-05:00")  # a Wednesday, New York time


@pytest.mark.parametrize(
    ("last_update", "now", "passed"),
    [
        (IN_SESSION - timedelta(minutes=2), IN_SESSION, True),
        (IN_SESSION - timedelta(minutes=3), IN_SESSION, True),  # exactly 3 minutes: still fresh
        (IN_SESSION - timedelta(minutes=3), IN_SESSION + timedelta(seconds=1), False),
        (IN_SESSION - timedelta(minutes=20), IN_SESSION, False),
        (None, IN_SESSION, False),  # never updated
        # The session's first minutes: yesterday's close is not a stale table yet...
        (utc("2026-11-24T15:59-05:00"), utc("2026-11-25T09:33-05:00"), True),
        # ...but three minutes after the open without a tick is.
        (utc("2026-11-24T15:59-05:00"), utc("2026-11-25T09:33:01-05:00"), False),
        (None, utc("2026-11-25T09:34-05:00"), False),
        # The day after Thanksgiving closes at 13:00: stale before, resting after.
        (utc("2026-11-27T12:00-05:00"), utc("2026-11-27T12:59-05:00"), False),
    ],
)
def test_during_a_session_the_table_must_be_at_most_three_minutes_old(
    last_update: datetime | None, now: datetime, passed: bool
) -> None:
    verdict, metadata = judge(last_update, now)
    assert verdict is passed
    assert metadata["market"] == "open"


@pytest.mark.parametrize(
    "now",
    [
        utc("2026-11-25T21:00-05:00"),  # night
        utc("2026-11-25T16:00-05:00"),  # the close
        utc("2026-11-28T11:00-05:00"),  # Saturday
        utc("2026-11-26T11:00-05:00"),  # Thanksgiving
        utc("2026-11-27T13:00-05:00"),  # after the early close
    ],
)
def test_a_closed_market_passes_however_old_the_table(now: datetime) -> None:
    for last_update in (None, now - timedelta(days=3)):
        verdict, metadata = judge(last_update, now)
        assert verdict is True and metadata["market"] == "closed"


def _write(settings: Settings, ticks: list[datetime]) -> None:
    stores.latest_store(settings).upsert(
        LatestPrice(f"S{i}", 100.0, "USD", tick + timedelta(seconds=5), tick)
        for i, tick in enumerate(ticks)
    )


def _freshness_run(settings: Settings, as_of: datetime) -> dict[str, object]:
    job = build_definitions(settings).resolve_job_def("freshness_job")
    with DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}}) as instance:
        result = job.execute_in_process(
            instance=instance, tags={AS_OF_TAG: format_tick(as_of)}, raise_on_error=False
        )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_key.to_user_string() == "latest_prices"
    return {"passed": evaluation.passed, **{k: v.value for k, v in evaluation.metadata.items()}}


def test_the_check_reads_the_table_and_runs_on_its_own(tmp_path: Path) -> None:
    """The freshness job runs only the check; the newest tick in the table is what counts."""
    settings = Settings(data_dir=tmp_path)
    _write(settings, [IN_SESSION - timedelta(minutes=30), IN_SESSION - timedelta(minutes=2)])
    fresh = _freshness_run(settings, IN_SESSION)
    assert fresh["passed"] is True
    assert (fresh["last_update"], fresh["age_s"], fresh["symbols"]) == ("2026-11-25T15:58Z", 120, 2)

    stale = _freshness_run(settings, IN_SESSION + timedelta(minutes=2))
    assert stale["passed"] is False and stale["age_s"] == 240

    thanksgiving = _freshness_run(settings, utc("2026-11-26T10:00-05:00"))
    assert thanksgiving["passed"] is True and thanksgiving["market"] == "closed"


def test_an_empty_table_in_session_fails(tmp_path: Path) -> None:
    run = _freshness_run(Settings(data_dir=tmp_path), IN_SESSION)
    assert run["passed"] is False and run["last_update"] == "never"


def test_the_tick_job_leaves_the_freshness_check_to_its_own_job(tmp_path: Path) -> None:
    defs = build_definitions(Settings(data_dir=tmp_path))
    tick_nodes = set(defs.resolve_job_def("tick_job").graph.node_dict)
    assert "latest_prices" in tick_nodes
    assert "latest_prices_fresh_in_session" not in tick_nodes
    assert set(defs.resolve_job_def("freshness_job").graph.node_dict) == {
        "latest_prices_fresh_in_session"
    }

"""A backfill's batches in parallel worker processes: the lake they leave is exactly the one a
backfill of one batch at a time leaves (byte for byte, failures counted alike), the runs really
overlapped, and the stages follow the windows the Definitions declare."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, RunsFilter

from marketdata_assets.definitions import build_definitions
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution import backfill, parallel
from marketdata_assets.execution.batches import RANGE_START
from marketdata_assets.execution.stages import stages
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.providers.stub.history import StubHistory
from marketdata_assets.settings import Settings
from marketdata_tests.test_history_pipeline import _objects

SYMBOLS = ("AAPL", "MSFT")
FIRST, LAST = date(2025, 10, 13), date(2025, 10, 31)  # 15 sessions: 10 and 5, or 3 x 5
MEET_S = 120.0  # how long a worker's first fetch waits for the other worker's


def _run(folder: Path, workers: int) -> tuple[backfill.BackfillSummary, dict[str, bytes]]:
    """A backfill of FIRST..LAST with `workers` batches at once, recorded in a persistent
    instance under `folder` (as the CLI's): its summary and the objects it left."""
    settings = Settings(data_dir=folder / "data", symbols=SYMBOLS, backfill_concurrency=workers)
    planned = backfill.plan(settings, FIRST, LAST, None, "stub", None, False)
    with _instance(folder) as instance:
        summary = backfill.run(settings, planned, instance=instance)
    return summary, _objects(settings)


def _instance(folder: Path) -> DagsterInstance:
    """The persistent instance under `folder` (telemetry off, as the CLI's dagster.yaml)."""
    (folder / "dagster").mkdir(parents=True, exist_ok=True)
    return DagsterInstance.local_temp(
        str(folder / "dagster"), overrides={"telemetry": {"enabled": False}}
    )


def _meeting(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each process's first stub fetch marks itself and waits until two processes have: only
    batches fetching at the same time get past it without waiting MEET_S (workers are forked,
    so they inherit the patch)."""
    fetch = StubHistory.fetch
    folder.mkdir()

    def fetch_when_met(self: StubHistory, session: date, symbols: Sequence[str]) -> bytes:
        mine = folder / f"fetching-{os.getpid()}"
        if not mine.exists():
            mine.touch()
            began = time.monotonic()
            while len(list(folder.glob("fetching-*"))) < 2 and time.monotonic() - began < MEET_S:
                time.sleep(0.02)
            if len(list(folder.glob("fetching-*"))) >= 2:
                (folder / f"met-{os.getpid()}").touch()
        return fetch(self, session, symbols)

    monkeypatch.setattr(StubHistory, "fetch", fetch_when_met)


@pytest.mark.system  # the batches run in worker processes
def test_a_parallel_backfill_writes_exactly_what_one_batch_at_a_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same summary, same objects byte for byte (raw, bars, quarantine, daily bars, actions,
    analytics), while two batches really fetched at once, in two processes whose runs overlap
    in the instance."""
    sequential, one_at_a_time = _run(tmp_path / "sequential", 1)
    assert sequential.failed == [] and sequential.sessions == 15

    meeting = tmp_path / "meeting"
    _meeting(meeting, monkeypatch)
    summary, objects = _run(tmp_path / "parallel", 2)
    assert summary == sequential
    assert objects.keys() == one_at_a_time.keys() and objects == one_at_a_time
    assert len(list(meeting.glob("met-*"))) == 2  # two workers, each saw the other fetching

    with _instance(tmp_path / "parallel") as instance:
        records = instance.get_run_records(RunsFilter(job_name="history_job"))
    assert {os.getpid()} & {int(p.name.split("-")[1]) for p in meeting.glob("met-*")} == set()
    spans = {
        (r.dagster_run.tags[RANGE_START], r.start_time, r.end_time) for r in records if r.end_time
    }
    # Runs of three batches of 5 (how their stages group into runs depends on which ends first).
    assert len(spans) == len(records)
    assert {start for start, _, _ in spans} == {"2025-10-13", "2025-10-20", "2025-10-27"}
    overlapping = {
        (a, b)
        for a, a_start, a_end in spans
        for b, b_start, b_end in spans
        if a < b and a_start is not None and b_start is not None
        if a_start < b_end and b_start < a_end
    }
    assert ("2025-10-13", "2025-10-20") in overlapping  # the first two batches' raw and gate


@pytest.mark.system  # the batches run in worker processes
def test_a_batch_failing_in_a_worker_fails_its_sessions_as_it_does_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step raising for one session of the second batch fails that batch's sessions (one line
    each), and the others land: the same summary and objects as one batch at a time."""
    from marketdata_assets.history import daily

    summarise = daily.daily_bars

    def broken(bars: pd.DataFrame) -> pd.DataFrame:
        if len(bars) and (bars["start"].dt.tz_convert("America/New_York").dt.date == LAST).any():
            raise RuntimeError("disk on fire")
        return summarise(bars)

    monkeypatch.setattr(daily, "daily_bars", broken)  # forked workers inherit it
    sequential, one_at_a_time = _run(tmp_path / "sequential", 1)
    summary, objects = _run(tmp_path / "parallel", 2)
    last_batch = [s.isoformat() for s in sessions_in(FIRST, LAST)[10:]]
    assert [f["session"] for f in summary.failed] == last_batch
    assert all("disk on fire" in f["error"] for f in summary.failed)
    assert summary == sequential and objects == one_at_a_time


@pytest.mark.graph
def test_a_stage_runs_after_the_stages_whose_assets_it_reads_through_a_window() -> None:
    """actions_gate reads the session before's daily_bars, session_analytics 20 sessions of
    daily_bars and corporate_actions: each runs a stage after what it reads; an op's outputs
    share a stage."""
    found = stages(build_definitions(Settings()), "history_job")
    names = [{key.to_user_string() for key in stage} for stage in found]
    assert names == [
        {"raw_history", "minute_bars", "bars_quarantine", "daily_bars"},
        {"corporate_actions", "actions_quarantine"},
        {"session_analytics"},
    ]
    assert AssetKey("session_analytics") in found[-1]


@pytest.mark.graph
def test_workers_are_the_cores_unless_the_setting_says_otherwise() -> None:
    cores = len(os.sched_getaffinity(0))
    assert parallel.cores() == cores
    assert parallel.backfill_workers(Settings.from_env({}), 100) == cores
    assert parallel.backfill_workers(Settings.from_env({}), 1) == 1  # never more than batches
    three = Settings.from_env({"MARKETDATA_BACKFILL_CONCURRENCY": "3"})
    assert parallel.backfill_workers(three, 100) == 3
    with pytest.raises(ConfigError, match=r"^MARKETDATA_BACKFILL_CONCURRENCY='0': .*1 to 64"):
        Settings.from_env({"MARKETDATA_BACKFILL_CONCURRENCY": "0"})

"""A backfill killed part way (kill -9) resumes: the rerun finishes the range, and the lake then
holds exactly what one uninterrupted backfill writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from marketdata_assets.history.done import done_symbols
from marketdata_assets.lake import day_key
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.test_history_pipeline import _backfill, _objects

pytestmark = pytest.mark.system  # the backfill runs in a subprocess, which is killed


def test_a_backfill_killed_part_way_resumes_to_the_objects_of_a_clean_run(tmp_path: Path) -> None:
    """kill -9 as soon as the first session's raw responses land; the rerun finishes the range,
    and the lake then holds exactly what one uninterrupted backfill writes."""
    first, last = date(2025, 11, 3), date(2025, 11, 18)  # 12 sessions: two runs of 10 and 2
    command = [sys.executable, "-m", "marketdata_assets.cli", "backfill", "--from",
               first.isoformat(), "--to", last.isoformat(), "--symbols", "AAPL,MSFT",
               "--provider", "stub", "--json"]  # fmt: skip
    killed = Settings(data_dir=tmp_path / "killed", symbols=("AAPL", "MSFT"))
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(killed.data_dir)}
    env.pop("DAGSTER_HOME", None)
    landed = killed.data_dir / day_key("raw_history", first)
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while not landed.exists() and run.poll() is None:
        threading.Event().wait(0.02)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    sessions = sessions_in(first, last)
    lake = lake_store(killed)
    assert any(done_symbols(lake, s) != {"AAPL", "MSFT"} for s in sessions)  # stopped part way

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["failed"] == [] and 0 < summary["sessions"] <= len(sessions)
    assert [done_symbols(lake, s) for s in sessions] == [{"AAPL", "MSFT"}] * len(sessions)

    clean = Settings(data_dir=tmp_path / "clean", symbols=("AAPL", "MSFT"))
    assert not _backfill(clean, first, last).failed
    assert _objects(killed) == _objects(clean)

"""A session in one warm process does not drift (issue 23, the shortened form of bench/soak.py):
50 consecutive ticks through the Lambda handler, as a warm container runs them, on moto. From
tick 10 on, resident memory stays within a bound, the keys S3 listings return each tick stay the
same (no listing of a prefix that grows with the day), and no thread or file handle is left
behind."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from marketdata_assets.lake import aws_requests
from marketdata_assets.lake.keys import RECENT_MINUTES
from marketdata_tests.conftest import create_lake_and_table

pytestmark = pytest.mark.graph

OPEN = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
TICKS, BASE = 50, 10
SYMBOLS = tuple(f"S{n:03d}" for n in range(10))
GROWTH_MB = 40  # generous: tick 10 to 50 grew 1-3 MB here; a leak of a tick's frames is more


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _threads() -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Threads:"))


def test_fifty_warm_ticks_keep_memory_listings_threads_and_handles_flat(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from marketdata_assets.lambda_handler import handler

    for name, value in {
        "MARKETDATA_PROFILE": "aws",
        "MARKETDATA_BUCKET": "lake",
        "MARKETDATA_TABLE": "latest",
        "MARKETDATA_ALWAYS_OPEN": "1",
        "MARKETDATA_LOG_LEVEL": "CRITICAL",
        "MARKETDATA_SYMBOLS": ",".join(SYMBOLS),
    }.items():
        monkeypatch.setenv(name, value)
    samples = []
    with mock_aws():
        create_lake_and_table("lake", "latest")
        for n in range(TICKS):
            before = aws_requests.snapshot()
            with contextlib.redirect_stdout(io.StringIO()):
                result = handler({"time": (OPEN + timedelta(minutes=n)).isoformat()}, None)
            spent = aws_requests.since(before)
            assert result["validated"] == len(SYMBOLS), result
            fds = len(os.listdir("/proc/self/fd"))
            lists = spent.requests.get("s3.ListObjectsV2", 0)
            samples.append((_rss_mb(), _threads(), fds, lists, spent.listed))
    base, last = samples[BASE - 1], samples[-1]
    assert last[0] - base[0] <= GROWTH_MB, (base[0], last[0])
    # the same listings every tick once the session holds RECENT_MINUTES earlier ticks: under a
    # listing of the day's folder tick n returned n - 1 keys, 49 at the 50th
    steady = {sample[3:] for sample in samples[RECENT_MINUTES:]}
    assert len(steady) == 1, steady
    (_, listed), *_ = steady
    assert listed <= RECENT_MINUTES + 1
    assert last[1] <= base[1] and last[2] <= base[2], (base, last)  # threads, file handles


def test_a_ticks_s3_requests_do_not_depend_on_its_symbols(
    aws_credentials: None, tmp_path: Path
) -> None:
    from moto import mock_aws

    from marketdata_assets.execution.tick import run_tick
    from marketdata_assets.settings import Settings

    s3: dict[int, dict[str, int]] = {}
    with mock_aws():
        create_lake_and_table("lake", "latest")
        for minute, size in enumerate((3, 60)):
            symbols = tuple(f"S{n:03d}" for n in range(size))
            settings = Settings(
                profile="aws", bucket="lake", table="latest", symbols=symbols, data_dir=tmp_path,
                log_level="CRITICAL",
            )  # fmt: skip
            # the same minute of two days, so each finds the same earlier reference (none)
            counts = run_tick(settings, OPEN + timedelta(days=minute * 8)).aws_requests
            assert counts is not None and counts["dynamodb.UpdateItem"] == size
            s3[size] = {name: n for name, n in counts.items() if name.startswith("s3.")}
    assert s3[3] == s3[60]  # one object per dataset a tick, never one per symbol

"""A repeated quote costs no write (issue 22): a symbol whose price and event time equal what the
as-of reference says an earlier tick gave the latest table is not written again, on SQLite and
on DynamoDB (moto's in-process mock), and is counted as `latest_unchanged`. The verdict is
as-of: a rerun decides the same after later ticks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketdata_assets.execution.tick import TickSummary, run_tick
from marketdata_assets.lake import aws_requests, object_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_tests.conftest import TICK, create_lake_and_table, good, line

pytestmark = pytest.mark.graph

MINUTE = timedelta(minutes=1)
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
QUOTED = TICK + timedelta(seconds=5)


@pytest.fixture(params=["sqlite", "dynamodb"])
def profile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data", log_level="CRITICAL")
        return
    request.getfixturevalue("aws_credentials")
    from moto import mock_aws

    with mock_aws():
        create_lake_and_table("lake", "latest")
        yield Settings(
            profile="aws", bucket="lake", table="latest", data_dir=tmp_path, log_level="CRITICAL"
        )


def quotes(folder: Path, name: str, prices: dict[str, tuple[float, datetime]]) -> str:
    """A replay file: one quote per symbol at its price and event time."""
    path = folder / f"{name}.jsonl"
    path.write_text(
        "".join(line(**good(s, p, event_ts=at.isoformat())) + "\n" for s, (p, at) in prices.items())
    )
    return str(path)


def tick(settings: Settings, at: datetime, source: str) -> tuple[TickSummary, int]:
    """Run the tick (with a run record); the summary and the DynamoDB writes it made."""
    before = aws_requests.snapshot()
    summary = run_tick(
        settings.with_overrides(provider="replay", source=source), at, origin=RunOrigin("cli")
    )
    return summary, aws_requests.since(before).requests.get("dynamodb.UpdateItem", 0)


def counts(summary: TickSummary) -> tuple[int, int, int]:
    return summary.latest_updated, summary.latest_stale, summary.latest_unchanged


def test_a_repeated_quote_is_not_written_again_and_a_changed_one_is(
    profile: Settings, tmp_path: Path
) -> None:
    same = quotes(tmp_path, "same", dict.fromkeys(SYMBOLS, (100.0, QUOTED)))
    moved = {**dict.fromkeys(SYMBOLS, (100.0, QUOTED)), "AAA": (101.0, QUOTED + MINUTE)}
    moved["BBB"] = (100.0, QUOTED + MINUTE)  # the same price observed later: a new quote
    changed = quotes(tmp_path, "changed", moved)
    ticks = [TICK + k * MINUTE for k in range(3)]

    first, writes = tick(profile, ticks[0], same)
    assert counts(first) == (4, 0, 0)
    version, table = latest_store(profile).version(), latest_store(profile).all()

    repeated, writes = tick(profile, ticks[1], same)
    assert counts(repeated) == (0, 0, 4) and writes == 0
    assert repeated.as_dict()["latest_unchanged"] == 4
    assert latest_store(profile).all() == table
    if profile.profile == "local":  # SQLite: the file was not written either
        assert latest_store(profile).version() == version
    record = run_records.read(lake_store(profile), ticks[1])
    assert record is not None and record["latest_unchanged"] == 4

    after, writes = tick(profile, ticks[2], changed)
    assert counts(after) == (2, 0, 2)
    assert writes == (2 if profile.profile == "aws" else 0)
    prices = {r.symbol: (r.price, r.event_ts, r.tick) for r in latest_store(profile).all()}
    assert prices["AAA"] == (101.0, QUOTED + MINUTE, ticks[2])
    assert prices["BBB"] == (100.0, QUOTED + MINUTE, ticks[2])
    assert prices["CCC"] == (100.0, QUOTED, ticks[0])  # written once, by the first tick

    # As-of: a rerun after later ticks judges against the reference before it, so the same.
    again, writes = tick(profile, ticks[1], same)
    assert counts(again) == (0, 0, 4) and writes == 0
    rerun, _ = tick(profile, ticks[2], changed)
    assert counts(rerun) == (0, 2, 2)  # the two changed prices are in the table already


def test_a_reference_written_before_event_ts_was_kept_still_reads(
    profile: Settings, tmp_path: Path
) -> None:
    same = quotes(tmp_path, "same", dict.fromkeys(SYMBOLS, (100.0, QUOTED)))
    tick(profile, TICK, same)
    lake = lake_store(profile)
    key = object_key("reference", TICK)
    stored = decode("reference", lake.get(key))
    assert isinstance(stored, pd.DataFrame) and "event_ts" in stored
    sink = io.BytesIO()  # what the writer before this change left: no event_ts, no written_tick
    old = stored.drop(columns=["event_ts", "written_tick"])
    pq.write_table(pa.Table.from_pandas(old, preserve_index=False), sink)
    lake.put(key, sink.getvalue())

    repeated, _ = tick(profile, TICK + MINUTE, same)
    assert (repeated.validated, repeated.latest_unchanged) == (4, 0)
    assert repeated.latest_updated + repeated.latest_stale == 4
    after = decode("reference", lake.get(object_key("reference", TICK + MINUTE)))
    assert isinstance(after, pd.DataFrame)
    assert list(after["written_tick"]) == [TICK + MINUTE] * 4

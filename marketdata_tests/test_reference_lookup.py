"""The newest earlier object (`latest_key_before`, how a tick finds its as-of price reference)
keeps its contract on both backends, and its cost does not grow with the day: at every tick of
a 390-minute session it makes one S3 listing returning at most RECENT_MINUTES keys, where a
listing of the day's folder returned one key per earlier tick (issue 22)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.lake import (
    LocalObjectStore,
    ObjectStore,
    aws_requests,
    latest_key_before,
    object_key,
)
from marketdata_assets.lake.keys import LOOKBACK_DAYS, RECENT_MINUTES, WINDOW_MINUTES, day_of_key
from marketdata_assets.lake.s3 import S3ObjectStore

pytestmark = pytest.mark.domain

BUCKET = "lake"
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
OPEN = MONDAY.replace(hour=14, minute=30)  # 09:30 in New York


def expected(held: set[datetime], tick: datetime) -> str | None:
    """What the contract says: the newest minute strictly before `tick`, within the lookback."""
    oldest = tick.date() - timedelta(days=LOOKBACK_DAYS)
    earlier = [t for t in held if t < tick.replace(second=0) and t.date() >= oldest]
    return object_key("reference", max(earlier)) if earlier else None


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "lake")
        return
    request.getfixturevalue("aws_credentials")
    from moto import mock_aws

    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket=BUCKET)
        yield S3ObjectStore(aws_client("s3"), BUCKET)


minutes = st.integers(0, 10 * 24 * 60 - 1).map(lambda m: MONDAY + timedelta(minutes=m))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(held=st.sets(minutes, max_size=40), ticks=st.lists(minutes, min_size=1, max_size=8))
def test_the_newest_object_before_a_tick_is_found_from_any_minute(
    lake: ObjectStore, held: set[datetime], ticks: list[datetime]
) -> None:
    stored = {key for key in lake.keys("reference/")}
    for minute in held:
        if object_key("reference", minute) not in stored:
            lake.put(object_key("reference", minute), b"r")
    # objects of the minute that are no reference, and of another dataset, are never the answer
    lake.put(object_key("reference", MONDAY).replace("reference.parquet", "notes.txt"), b"n")
    lake.put(object_key("validated", MONDAY + timedelta(days=3)), b"v")
    every = {
        datetime.strptime(k.split("/")[1][5:] + k.split("/")[2][7:], "%Y-%m-%d%H%M").replace(
            tzinfo=UTC
        )
        for k in lake.keys("reference/")
        if k.endswith(".parquet")
    }
    for tick in ticks:
        assert latest_key_before(lake, "reference", tick) == expected(every, tick), tick


def test_a_rerun_of_an_old_minute_finds_the_object_before_it_not_the_newest(
    lake: ObjectStore,
) -> None:
    for n in range(120):
        lake.put(object_key("reference", OPEN + timedelta(minutes=n)), b"r")
    old = OPEN + timedelta(minutes=37)
    assert latest_key_before(lake, "reference", old) == object_key(
        "reference", old - timedelta(minutes=1)
    )
    assert latest_key_before(lake, "reference", OPEN) is None
    friday = OPEN - timedelta(days=3) + timedelta(hours=6, minutes=29)  # 20:59, the last minute
    lake.put(object_key("reference", friday), b"f")
    assert latest_key_before(lake, "reference", OPEN) == object_key("reference", friday)
    assert day_of_key(latest_key_before(lake, "reference", OPEN) or "") == date(2026, 11, 20)


def test_each_tick_of_a_session_lists_a_bounded_number_of_keys(aws_credentials: None) -> None:
    from moto import mock_aws

    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket=BUCKET)
        lake = S3ObjectStore(aws_client("s3"), BUCKET)
        friday_close = OPEN - timedelta(days=3) + timedelta(hours=6, minutes=29)
        lake.put(object_key("reference", friday_close), b"f")
        spent = []
        for n in range(390):
            tick = OPEN + timedelta(minutes=n)
            before = aws_requests.snapshot()
            found = latest_key_before(lake, "reference", tick)
            cost = aws_requests.since(before)
            spent.append((cost.requests.get("s3.ListObjectsV2", 0), cost.listed))
            assert found == object_key(
                "reference", tick - timedelta(minutes=1) if n else friday_close
            )
            lake.put(object_key("reference", tick), b"r")
    first, *rest = spent
    # the session's first tick walks back over the weekend: its own minutes, a one-key listing
    # per day, and Friday's evening an hour at a time (21:00 to 24:00 empty), never a whole day
    assert first == (2 + 3 + 4, 1 + 1)
    # every later tick: one listing of the minutes just before it, however long the day
    assert rest == [(1, min(n, RECENT_MINUTES)) for n in range(1, 390)]
    assert 24 * 60 // WINDOW_MINUTES == 24  # a day walked whole is 24 listings at most


def test_the_run_record_sensor_lists_only_the_records_after_its_cursor(
    aws_credentials: None,
) -> None:
    from moto import mock_aws

    from marketdata_assets.operations import run_records
    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket=BUCKET)
        lake = S3ObjectStore(aws_client("s3"), BUCKET)
        keys = [run_records.record_key(OPEN + timedelta(minutes=n)) for n in range(300)]
        for key in keys:
            lake.put(key, b"{}")
        lake.put(keys[0].replace("run.json", "notes.txt"), b"not a record")
        now = OPEN + timedelta(hours=6)
        before = aws_requests.snapshot()
        assert run_records.keys_after(lake, keys[289], 50, now) == keys[290:]
        assert aws_requests.since(before).listed == 10  # not the day's 300 records
        assert run_records.keys_after(lake, keys[9], 4, now) == keys[10:14]
        assert run_records.keys_after(lake, None, 3, now) == keys[:3]  # the stray is skipped

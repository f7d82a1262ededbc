"""The compacted months of minute_bars (`history.compacted`): a history read answers exactly as
over the session objects alone, whether the months are compacted, absent, stale after a
session was rewritten or removed, or short of sessions added since.

Every read is compared with the same read over the same lake with the compacted objects
hidden (`SessionsOnly`), as pandas frames: the rows, their order, their types.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.history import compacted
from marketdata_assets.history.held import sessions_held
from marketdata_assets.history.query import bars
from marketdata_assets.lake import LakeError, LocalObjectStore, ObjectStore, day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.keys import month_key
from marketdata_tests.test_history_query import minute_bars

OCTOBER = (date(2026, 10, 28), date(2026, 10, 29), date(2026, 10, 30))
NOVEMBER = (date(2026, 11, 2), date(2026, 11, 3))
SESSIONS = (*OCTOBER, *NOVEMBER)
SYMBOLS = ("AAPL", "MSFT", "NVDA")
LATE = date(2026, 10, 27)  # an October session landed after the month was compacted
# (symbol, interval, first, last) of the reads compared: one symbol and every symbol, at 1m
# and aggregated, within a month, across both and over part of one.
READS = [
    (symbol, interval, first, last)
    for symbol in (*SYMBOLS, None)
    for interval in ("1m", "15m")
    for first, last in ((SESSIONS[0], SESSIONS[-1]), (OCTOBER[1], OCTOBER[2]), (LATE, LATE))
]


class SessionsOnly:
    """The lake without its compacted objects: what every read must equal."""

    def __init__(self, lake: ObjectStore):
        self._lake = lake

    def __getattr__(self, name: str) -> object:
        return getattr(self._lake, name)

    def keys(self, prefix: str) -> list[str]:
        return [k for k in self._lake.keys(prefix) if not k.startswith("minute_bars_monthly/")]

    def versions(self, prefix: str) -> dict[str, str]:
        found = self._lake.versions(prefix)
        return {k: v for k, v in found.items() if not k.startswith("minute_bars_monthly/")}


def land(lake: ObjectStore, day: date, seed: int, symbols: Sequence[str] = SYMBOLS) -> None:
    """Write (or rewrite) one session's minute_bars object: `seed` picks its bars."""
    frames = [minute_bars(day, s, seed * 100 + n) for n, s in enumerate(symbols)]
    lake.put(day_key("minute_bars", day), encode("minute_bars", pd.concat(frames)))


def compact_all(lake: ObjectStore) -> None:
    for month in (date(2026, 10, 1), date(2026, 11, 1)):
        compacted.compact(lake, "minute_bars", month)


def frame(lake: ObjectStore, read: tuple[str | None, str, date, date]) -> pd.DataFrame:
    return bars(lake, *read).table.to_pandas()


def assert_reads_equal_the_sessions(lake: ObjectStore) -> None:
    alone = SessionsOnly(lake)
    for read in READS:
        pd.testing.assert_frame_equal(frame(lake, read), frame(alone, read), obj=str(read))  # type: ignore[arg-type]


def covered_days(lake: ObjectStore, symbol: str | None, days: Sequence[date]) -> frozenset[date]:
    """The sessions of `days` a read of `symbol` takes from compacted months."""
    versions = lake.versions("minute_bars/")
    held = sessions_held("minute_bars", frozenset(versions))
    return compacted.covered(
        lake, "minute_bars", [d for d in days if d in held], versions, symbol
    ).days


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[LocalObjectStore]:
    store = LocalObjectStore(tmp_path / "lake")
    for n, day in enumerate(SESSIONS):
        land(store, day, seed=n)
    yield store


@pytest.mark.domain
def test_compacted_months_answer_every_read_exactly_as_their_sessions(lake) -> None:
    before = {read: frame(lake, read) for read in READS}
    compact_all(lake)
    assert covered_days(lake, "AAPL", SESSIONS) == frozenset(SESSIONS)
    assert covered_days(lake, None, SESSIONS) == frozenset(SESSIONS)
    for read in READS:
        pd.testing.assert_frame_equal(frame(lake, read), before[read], obj=str(read))
    got = bars(lake, "MSFT", "1m", SESSIONS[0], SESSIONS[-1])
    assert got.table.num_rows == 5 * 390 and {r["symbol"] for r in got.rows} == {"MSFT"}
    assert got.rows[0]["start"] == "2026-10-28T13:30:00Z"


@pytest.mark.domain
def test_a_rewritten_session_makes_its_month_stale_and_the_read_follows_the_rewrite(lake) -> None:
    compact_all(lake)
    old = frame(lake, ("AAPL", "1m", OCTOBER[0], OCTOBER[-1]))
    land(lake, OCTOBER[1], seed=99)  # a backfill rewrites one session of October
    assert covered_days(lake, "AAPL", SESSIONS) == frozenset(NOVEMBER)
    new = frame(lake, ("AAPL", "1m", OCTOBER[0], OCTOBER[-1]))
    assert not new.equals(old)
    assert_reads_equal_the_sessions(lake)
    compacted.compact(lake, "minute_bars", date(2026, 10, 1))  # compacted again: current
    assert covered_days(lake, "AAPL", SESSIONS) == frozenset(SESSIONS)
    pd.testing.assert_frame_equal(frame(lake, ("AAPL", "1m", OCTOBER[0], OCTOBER[-1])), new)


@pytest.mark.domain
def test_a_session_landed_after_the_compaction_is_read_beside_its_month(lake) -> None:
    compact_all(lake)
    land(lake, LATE, seed=7, symbols=("AAPL",))
    assert covered_days(lake, "AAPL", (LATE, *OCTOBER)) == frozenset(OCTOBER)
    got = bars(lake, "AAPL", "1m", LATE, OCTOBER[-1]).rows
    assert len(got) == 4 * 390 and got[0]["start"] == "2026-10-27T13:30:00Z"
    assert_reads_equal_the_sessions(lake)


@pytest.mark.domain
def test_a_removed_session_makes_its_month_stale(lake) -> None:
    compact_all(lake)
    path = lake.local_path(day_key("minute_bars", NOVEMBER[0]))
    assert path is not None
    path.unlink()
    assert covered_days(lake, "AAPL", SESSIONS) == frozenset(OCTOBER)
    assert bars(lake, "AAPL", "1m", NOVEMBER[0], NOVEMBER[-1]).table.num_rows == 390
    assert_reads_equal_the_sessions(lake)


@pytest.mark.domain
def test_without_compacted_months_the_sessions_answer(lake) -> None:
    assert covered_days(lake, "AAPL", SESSIONS) == frozenset()
    assert_reads_equal_the_sessions(lake)


@pytest.mark.domain
def test_every_symbol_of_part_of_a_month_is_read_from_the_sessions(lake) -> None:
    """Reading every symbol of two of October's three sessions from the compacted month would
    decode all of it: the sessions' own objects answer."""
    compact_all(lake)
    assert covered_days(lake, None, OCTOBER[1:]) == frozenset()
    assert covered_days(lake, "AAPL", OCTOBER[1:]) == frozenset(OCTOBER[1:])
    assert_reads_equal_the_sessions(lake)


@pytest.mark.domain
def test_a_compacted_month_is_one_row_group_per_symbol_with_its_manifest(lake) -> None:
    import json

    import pyarrow.parquet as pq

    done = compacted.compact(lake, "minute_bars", date(2026, 10, 1))
    assert done is not None and (done.sessions, done.rows) == (3, 3 * 3 * 390)
    path = lake.local_path(done.key)
    assert path is not None and done.key == month_key("minute_bars_monthly", OCTOBER[0])
    meta = pq.read_metadata(path)
    column = meta.schema.to_arrow_schema().get_field_index("symbol")
    stats = [meta.row_group(g).column(column).statistics for g in range(meta.num_row_groups)]
    assert [(s.min, s.max) for s in stats] == [(s, s) for s in SYMBOLS]
    manifest = json.loads(meta.metadata[compacted.MANIFEST])
    assert manifest == {
        day_key("minute_bars", d): lake.versions("minute_bars/")[day_key("minute_bars", d)]
        for d in OCTOBER
    }
    assert compacted.compact(lake, "minute_bars", date(2026, 9, 1)) is None  # nothing held


@pytest.mark.domain
def test_a_compacted_object_without_its_manifest_is_one_line_naming_it(lake) -> None:
    compact_all(lake)
    key = month_key("minute_bars_monthly", OCTOBER[0])
    lake.put(key, lake.get(day_key("minute_bars", OCTOBER[0])))  # a Parquet, no manifest
    with pytest.raises(LakeError, match=f"read {key} failed: a compacted object without"):
        bars(lake, "AAPL", "1m", OCTOBER[0], OCTOBER[-1])


@pytest.mark.domain
def test_the_s3_lake_reads_its_compacted_months_as_the_local_one(lake, aws_credentials) -> None:
    from moto import mock_aws

    from marketdata_assets.lake.s3 import S3ObjectStore
    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket="lake")
        bucket = S3ObjectStore(aws_client("s3"), "lake")
        for key in lake.keys("minute_bars/"):
            bucket.put(key, lake.get(key))
        compact_all(bucket)
        assert covered_days(bucket, "AAPL", SESSIONS) == frozenset(SESSIONS)
        for read in READS[:6]:
            pd.testing.assert_frame_equal(frame(bucket, read), frame(lake, read), obj=str(read))
        land(bucket, OCTOBER[0], seed=42)
        assert covered_days(bucket, "AAPL", SESSIONS) == frozenset(NOVEMBER)
        assert_reads_equal_the_sessions(bucket)


# One step of a lake's life: land (or rewrite) a session with a seed, or compact a month.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("land"), st.sampled_from((LATE, *SESSIONS)), st.integers(0, 3)),
        st.tuples(st.just("compact"), st.sampled_from((date(2026, 10, 1), date(2026, 11, 1)))),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.domain
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_after_any_landings_and_compactions_reads_equal_the_sessions(steps: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = LocalObjectStore(Path(folder))
        land(store, SESSIONS[0], seed=0)
        for step in steps:
            if step[0] == "land":
                land(store, step[1], seed=step[2], symbols=SYMBOLS[: 1 + step[2] % 3])
            else:
                compacted.compact(store, "minute_bars", step[1])
            read = ("AAPL", "1m", LATE, SESSIONS[-1])
            pd.testing.assert_frame_equal(frame(store, read), frame(SessionsOnly(store), read))  # type: ignore[arg-type]
            every = (None, "15m", LATE, SESSIONS[-1])
            pd.testing.assert_frame_equal(frame(store, every), frame(SessionsOnly(store), every))  # type: ignore[arg-type]


@pytest.mark.graph
def test_a_backfill_rewriting_a_compacted_session_recompacts_its_month(tmp_path: Path) -> None:
    """Sessions backfilled, their month compacted through Dagster, then a backfill adding a
    symbol rewrites them: reads follow the rewrite, and the refresh made the month current."""
    from dagster import materialize

    from marketdata_assets.definitions import build_definitions
    from marketdata_assets.execution import backfill
    from marketdata_assets.settings import Settings
    from marketdata_assets.stores import lake_store

    settings = Settings(data_dir=tmp_path / "data", symbols=("AAPL", "MSFT"))
    first, last = date(2025, 11, 24), date(2025, 11, 25)
    backfill.run(settings, backfill.plan(settings, first, last, None, "stub", None, False))
    defs = build_definitions(settings)
    done = materialize(
        [defs.get_assets_def("minute_bars_monthly")],
        partition_key="2025-11-24",
        resources=defs.resources,
        selection=["minute_bars_monthly"],
    )
    assert done.success
    lake = lake_store(settings)
    assert covered_days(lake, "AAPL", (first, last)) == {first, last}
    wider = ("AAPL", "MSFT", "NVDA")
    summary = backfill.run(
        settings, backfill.plan(settings, last, last, wider, "stub", None, False)
    )
    assert summary.failed == [] and summary.refreshed == [last.isoformat()]
    assert covered_days(lake, "NVDA", (first, last)) == {first, last}  # recompacted: current
    nvda = bars(lake, "NVDA", "1m", first, last)
    assert nvda.table.num_rows == 390 and nvda.rows[0]["start"] == "2025-11-25T14:30:00Z"
    for symbol in (*wider, None):
        for interval in ("1m", "5m"):
            read = (symbol, interval, first, last)
            pd.testing.assert_frame_equal(frame(lake, read), frame(SessionsOnly(lake), read))  # type: ignore[arg-type]

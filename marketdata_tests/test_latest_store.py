"""The store contract: every latest-price store passes these (SQLite now, DynamoDB later)."""

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.latest import LatestPrice, LatestPriceStore
from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore
from marketdata_assets.latest.sqlite import SqliteLatestPriceStore
from marketdata_tests.conftest import create_lake_and_table

pytestmark = pytest.mark.domain

T0 = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
StoreFactory = Callable[[], LatestPriceStore]


@pytest.fixture(params=["sqlite", "dynamodb"])
def new_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """Makes fresh, empty stores of one kind; the same tests run against each kind."""
    counter = iter(range(10**6))
    if request.param == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield lambda: SqliteLatestPriceStore(Path(folder) / f"{next(counter)}.sqlite")
        return
    request.getfixturevalue("aws_credentials")
    from moto import mock_aws

    from marketdata_assets.stores import aws_client

    def dynamo_store() -> LatestPriceStore:
        name = f"latest-{next(counter)}"
        create_lake_and_table(f"bucket-{name}", name)
        return DynamoLatestPriceStore(aws_client("dynamodb"), name)

    with mock_aws():
        yield dynamo_store


def price(symbol: str, value: float, micros: int, tick: datetime = T0) -> LatestPrice:
    return LatestPrice(symbol, value, "USD", T0 + timedelta(microseconds=micros), tick)


def test_newer_price_replaces_older(new_store: StoreFactory) -> None:
    store = new_store()
    assert store.upsert([price("AAPL", 1.0, 10)]).updated == 1
    assert store.upsert([price("AAPL", 2.0, 11)]).updated == 1
    assert [(r.symbol, r.price) for r in store.all()] == [("AAPL", 2.0)]


def test_older_or_equal_price_never_overwrites_and_counts_as_stale(new_store: StoreFactory) -> None:
    store = new_store()
    store.upsert([price("AAPL", 2.0, 10)])
    result = store.upsert([price("AAPL", 1.0, 9), price("MSFT", 5.0, 1)])
    again = store.upsert([price("AAPL", 3.0, 10)])
    assert (result.updated, result.stale, again.updated, again.stale) == (1, 1, 0, 1)
    assert {r.symbol: r.price for r in store.all()} == {"AAPL": 2.0, "MSFT": 5.0}


def test_rows_round_trip_with_utc_microseconds(new_store: StoreFactory) -> None:
    store = new_store()
    row = price("BRK.B", 412.5, 123_456, tick=T0)
    store.upsert([row])
    assert store.all() == [row]


def test_a_version_changes_when_the_table_is_written_or_is_none(new_store: StoreFactory) -> None:
    store = new_store()
    empty = store.version()
    store.upsert([price("AAPL", 1.0, 10)])
    written = store.version()
    assert store.all() and store.version() == written  # reading changes nothing
    if isinstance(store, SqliteLatestPriceStore):
        assert empty != written
    else:  # DynamoDB has nothing cheaper to look at than the rows: readers keep them a while
        assert empty is written is None


writes = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 50), st.floats(0.01, 1e6)),
    min_size=1,
    max_size=30,
)


# new_store is a factory: each example makes a fresh, empty store, so sharing it is safe.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(writes, min_size=1, max_size=4))
def test_any_order_of_writes_ends_with_the_newest_event_per_symbol(
    new_store: StoreFactory, batches: list[list[tuple[str, int, float]]]
) -> None:
    store = new_store()
    for batch in batches:
        store.upsert([price(s, p, micros) for s, micros, p in batch])
    everything = [w for batch in batches for w in batch]
    newest = {s: max(m for sym, m, _ in everything if sym == s) for s, _, _ in everything}
    held = {r.symbol: r for r in store.all()}
    assert {s: r.event_ts for s, r in held.items()} == {
        s: T0 + timedelta(microseconds=m) for s, m in newest.items()
    }
    # The price held is one that was written with that newest timestamp (the first such write).
    for symbol, row in held.items():
        first = next(
            p for batch in batches for s, m, p in batch if s == symbol and m == newest[symbol]
        )
        assert row.price == first


def test_remove_deletes_one_symbols_row_and_says_whether_it_held_one(
    new_store: StoreFactory,
) -> None:
    store = new_store()
    assert store.remove("AAPL") is False  # an empty (or not yet created) table
    store.upsert([price("AAPL", 1.0, 10), price("ZZZZ", 2.0, 10)])
    assert store.remove("ZZZZ") is True
    assert [row.symbol for row in store.all()] == ["AAPL"]
    assert store.remove("ZZZZ") is False
    store.upsert([price("ZZZZ", 3.0, 5)])  # an older price than the one removed lands again
    assert [(row.symbol, row.price) for row in store.all()] == [("AAPL", 1.0), ("ZZZZ", 3.0)]

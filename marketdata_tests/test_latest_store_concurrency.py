"""Concurrent writers leave the newest price, on stores whose conditional writes are atomic
across threads: SQLite, and DynamoDB on moto's server (moto's in-process mock applies
conditional writes without that atomicity, so it cannot judge this)."""

import threading
from datetime import timedelta

import pytest

from marketdata_assets.latest import LatestPrice, LatestPriceStore
from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore
from marketdata_assets.latest.sqlite import SqliteLatestPriceStore
from marketdata_assets.stores import aws_client
from marketdata_tests.conftest import TICK, create_lake_and_table


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.domain),
        pytest.param("dynamodb", marks=pytest.mark.system),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> LatestPriceStore:
    if request.param == "sqlite":
        return SqliteLatestPriceStore(tmp_path / "latest.sqlite")
    request.getfixturevalue("aws_credentials")
    monkeypatch.setenv("AWS_ENDPOINT_URL", request.getfixturevalue("moto_server"))
    create_lake_and_table("lake", "latest")
    return DynamoLatestPriceStore(aws_client("dynamodb"), "latest")


def price(symbol: str, value: float, micros: int) -> LatestPrice:
    return LatestPrice(symbol, value, "USD", TICK + timedelta(microseconds=micros), TICK)


def test_concurrent_writers_leave_the_newest_price(store: LatestPriceStore) -> None:
    symbols = [f"S{i}" for i in range(8)]

    failures: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for step in range(offset, 80, 4):
                store.upsert([price(s, float(step), step) for s in symbols])
        except BaseException as error:  # a writer that dies must fail the test, not vanish
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert {r.symbol: r.price for r in store.all()} == dict.fromkeys(symbols, 79.0)

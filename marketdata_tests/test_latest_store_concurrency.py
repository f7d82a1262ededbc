"""Concurrent writers leave the newest price, on stores whose conditional writes are atomic
across threads: SQLite, and DynamoDB on moto's server (moto's in-process mock applies
conditional writes without that atomicity, so it cannot judge this). On DynamoDB each upsert
also issues its own writes `WRITERS` at a time, on the process's client with adaptive retries,
and newer-wins holds when DynamoDB throttles some of them and they are retried."""

import threading
from datetime import timedelta
from typing import Any

import pytest

from marketdata_assets.lake import aws_requests
from marketdata_assets.latest import LatestPrice, LatestPriceStore
from marketdata_assets.latest.dynamodb import WRITERS, DynamoLatestPriceStore
from marketdata_assets.latest.sqlite import SqliteLatestPriceStore
from marketdata_assets.stores import aws_client
from marketdata_tests.conftest import TICK, create_lake_and_table


def dynamodb(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's DynamoDB client, on moto's server, with the lake's table."""
    request.getfixturevalue("aws_credentials")
    monkeypatch.setenv("AWS_ENDPOINT_URL", request.getfixturevalue("moto_server"))
    create_lake_and_table("lake", "latest")
    return aws_client("dynamodb")


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.domain),
        pytest.param("dynamodb", marks=pytest.mark.system),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> LatestPriceStore:
    if request.param == "sqlite":
        return SqliteLatestPriceStore(tmp_path / "latest.sqlite")
    return DynamoLatestPriceStore(dynamodb(request, monkeypatch), "latest")


def price(symbol: str, value: float, micros: int) -> LatestPrice:
    return LatestPrice(symbol, value, "USD", TICK + timedelta(microseconds=micros), TICK)


def write_concurrently(store: LatestPriceStore, symbols: list[str], steps: int = 80) -> None:
    """Four threads upsert every symbol at interleaved steps (thread k: k, k+4, ...), each
    step's price its own number; a writer that dies fails the test."""
    failures: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for step in range(offset, steps, 4):
                store.upsert([price(s, float(step), step) for s in symbols])
        except BaseException as error:  # a writer that dies must fail the test, not vanish
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_concurrent_writers_leave_the_newest_price(store: LatestPriceStore) -> None:
    symbols = [f"S{i}" for i in range(8)]
    write_concurrently(store, symbols)
    assert {r.symbol: r.price for r in store.all()} == dict.fromkeys(symbols, 79.0)


class Throttling:
    """DynamoDB saying "slow down" to the first attempt of the writes of even-numbered symbols
    at step 5: the answer is made in the client before the request is sent
    (`before-send`), so which writes are throttled is decided by the test, not by timing. (Few
    enough that botocore's retry quota, 500 tokens at 5 a retry, is not drained: beyond it a
    throttled write fails, and the tick with it.)"""

    def __init__(self) -> None:
        self.throttled = 0
        self.retried = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        attempt = request.headers.get("amz-sdk-request", b"")
        attempt = attempt.decode() if isinstance(attempt, bytes) else attempt
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if "UpdateItem" not in str(request.headers.get("X-Amz-Target", b"")):
            return None
        if not attempt.startswith("attempt=1;"):
            with self._lock:
                self.retried += 1
            return None
        step = int(body.split('":price": {"N": "')[1].split(".")[0])
        symbol = int(body.split('"symbol": {"S": "S')[1].split('"')[0])
        if step != 5 or symbol % 2:
            return None
        with self._lock:
            self.throttled += 1
        error = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
        error += b'"message":"Rate of requests exceeds the allowed throughput."}'
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "throttled"}
        return AWSResponse(request.url, 400, headers, _Body(error))


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@pytest.mark.system
def test_throttled_concurrent_writes_are_retried_and_leave_the_newest_price(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = dynamodb(request, monkeypatch)
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.config.max_pool_connections >= WRITERS
    throttling = Throttling()
    client.meta.events.register_first("before-send", throttling, unique_id="test-throttling")
    symbols = [f"S{i}" for i in range(2 * WRITERS)]  # each upsert fills every writer twice
    before = aws_requests.snapshot()
    try:
        write_concurrently(DynamoLatestPriceStore(client, "latest"), symbols, steps=8)
    finally:
        client.meta.events.unregister("before-send", unique_id="test-throttling")
    throttled = len(symbols) // 2  # step 5 of half the symbols, once each
    assert (throttling.throttled, throttling.retried) == (throttled, throttled)
    sent = aws_requests.since(before).requests["dynamodb.UpdateItem"]
    assert sent == 8 * len(symbols) + throttled  # every write, and every throttled one again
    rows = DynamoLatestPriceStore(client, "latest").all()
    assert {r.symbol: (r.price, r.event_ts) for r in rows} == dict.fromkeys(
        symbols, (7.0, TICK + timedelta(microseconds=7))
    )

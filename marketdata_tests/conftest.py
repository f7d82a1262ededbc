from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketdata_assets.settings import Settings

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)


@pytest.fixture
def tick() -> datetime:
    return TICK


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def line(**fields: object) -> str:
    """A JSON Lines record (helper for building payloads)."""
    import json

    return json.dumps(fields)


def good(symbol: str = "AAPL", price: object = 100.0, **overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "symbol": symbol,
        "price": price,
        "volume": 10,
        "currency": "USD",
        "event_ts": "2026-11-25T14:31:05Z",
    }
    record.update(overrides)
    return record


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def create_lake_and_table(bucket: str, table: str) -> None:
    """What Terraform stands up, for tests: the bucket and the on-demand table."""
    import boto3

    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_budget_table(table: str) -> None:
    """What Terraform stands up for the request budget: an on-demand table keyed by `budget`."""
    import boto3

    boto3.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "budget", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "budget", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def aws_settings(aws_credentials: None, tmp_path: Path) -> Iterator[Settings]:
    """The aws profile on moto's in-process mock, with an empty bucket and table."""
    from moto import mock_aws

    with mock_aws():
        create_lake_and_table("lake", "latest")
        yield Settings(profile="aws", bucket="lake", table="latest", data_dir=tmp_path / "unused")


def free_port() -> int:
    """A free TCP port on the loopback interface, for servers the tests start."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port, for clients that are not in-process boto3
    (subprocesses, pyarrow, Terraform); stopped after the test."""
    import urllib.request

    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        # moto's backends live in this process and outlive the server: empty them, so the next
        # test's server starts from nothing.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session's browser tests (see `browser.py`)."""
    from marketdata_tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def web_prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What `web_data.prepare` wrote into a fresh local data dir (under "data_dir")."""
    from marketdata_tests.web_data import prepare

    folder = tmp_path_factory.mktemp("web") / "data"
    return {"data_dir": folder, **prepare(folder)}


@pytest.fixture(scope="session")
def web_data_dir(web_prepared: dict[str, object]) -> Path:
    """A local data dir with stub history and ticks for the dashboard (see `web_data.prepare`)."""
    folder = web_prepared["data_dir"]
    assert isinstance(folder, Path)
    return folder


@pytest.fixture(scope="session")
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local data dir nothing has written to yet."""
    return tmp_path_factory.mktemp("web_empty") / "data"

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from marketdata_assets.settings import Settings

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)

# Every test has exactly one tier (`make test-fast` runs domain and graph, `make test` all three).
TIERS = ("domain", "graph", "system")


def tier_problem(item: pytest.Item) -> str | None:
    """Why `item` does not have exactly one tier marker, or None when it has."""
    tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
    if len(tiers) == 1:
        return None
    if not tiers:
        return "has no tier: mark it (or its module's pytestmark) domain, graph or system"
    return f"has {len(tiers)} tiers ({', '.join(tiers)}): keep one"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """A module or class with a test that has no tier, or two, fails to collect, naming it."""
    report: Any = yield
    if report.passed:
        problems = {
            f"{item.nodeid.split('[')[0]} {why}"
            for item in report.result
            if isinstance(item, pytest.Function) and (why := tier_problem(item))
        }
        if problems:
            report.outcome, report.result = "failed", []
            report.longrepr = "\n".join(sorted(problems))
    return report  # type: ignore[no-any-return]


def importing() -> bool:
    """Whether a module is being imported: what a library does then (Dagster's vendored croniter
    runs `file` through platform.architecture()) is not the test's doing."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@pytest.fixture(autouse=True)
def tier_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A domain or graph test that starts a subprocess or listens on a socket (a server) fails,
    and so does a domain test that imports Dagster or creates a Dagster instance (every run,
    materialisation and sensor evaluation makes one): they belong to a later tier."""
    tier = next(m.name for m in request.node.iter_markers() if m.name in TIERS)
    if tier == "system":
        yield
        return
    seen: list[str] = []

    def noting(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if not importing():
                seen.append(what)
            return original(*args, **kwargs)

        return call

    spawn, listen = subprocess.Popen.__init__, socket.socket.listen
    monkeypatch.setattr(subprocess.Popen, "__init__", noting("starts a subprocess", spawn))
    monkeypatch.setattr(socket.socket, "listen", noting("listens on a socket", listen))
    dagster = sys.modules.get("dagster")
    if tier == "domain" and dagster is not None:
        instance = dagster.DagsterInstance
        monkeypatch.setattr(instance, "__init__", noting("runs Dagster", instance.__init__))
    yield
    if tier == "domain" and dagster is None and "dagster" in sys.modules:
        seen.append("imports Dagster")
    if seen:
        later = "graph" if seen[0] in ("imports Dagster", "runs Dagster") else "system"
        pytest.fail(f"{request.node.nodeid} is marked {tier} but {seen[0]}: mark it {later}")


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


class StoreClock:
    """moto's clock (its S3 objects' Last-Modified and its responses' Date), set by the test."""

    def __init__(self) -> None:
        import datetime

        self.now = datetime.datetime(2026, 11, 25, 14, 31)  # naive UTC, as moto keeps it

    def __call__(self) -> object:
        return self.now

    def advance(self, seconds: float) -> None:
        import datetime

        self.now += datetime.timedelta(seconds=seconds)

    def s3(self) -> Any:
        """A boto3 S3 client of its own (not the process's shared one) whose answers carry the
        Date header real S3 sends on every answer (moto's in-process GetObject leaves it out),
        from this clock."""
        from email.utils import format_datetime

        import boto3

        client = boto3.client("s3")

        def dated(parsed: dict[str, Any], **_: Any) -> None:
            headers = parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPHeaders", {})
            headers.setdefault("date", format_datetime(self.now.replace(tzinfo=UTC), usegmt=True))

        client.meta.events.register("after-call.s3.GetObject", dated)
        return client


@pytest.fixture
def store_clock(monkeypatch: pytest.MonkeyPatch) -> StoreClock:
    """The in-process S3's clock, moved only by the test (`advance`)."""
    import moto.core.responses
    import moto.s3.models

    clock = StoreClock()
    monkeypatch.setattr(moto.s3.models, "utcnow", clock)
    monkeypatch.setattr(moto.core.responses, "utcnow", clock)
    return clock


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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per module of browser tests (see `browser.py`). Not one per
    session: Playwright's sync API keeps an asyncio loop running in the main thread while it is
    open, and every later test calling `asyncio.run` (Dagster's automation-condition evaluation)
    would fail with "cannot be called from a running event loop"."""
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
def actions_week_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local data dir with the stub's week of splits and dividends (`web_data.ACTIONS_WEEK`)."""
    from marketdata_tests.web_data import prepare_actions_week

    folder = tmp_path_factory.mktemp("actions_week") / "data"
    prepare_actions_week(folder)
    return folder


@pytest.fixture(scope="session")
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local data dir nothing has written to yet."""
    return tmp_path_factory.mktemp("web_empty") / "data"

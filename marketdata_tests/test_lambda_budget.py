"""Inside the Lambda the fetch gets only what the invocation has left: a slow provider after a
cold start still lands raw, and the invocation returns, before the invocation's deadline.

The cold start is what the fake context says: it has already eaten most of the timeout, so the
handler starts with little time left. The handler runs in-process on the local profile against
a loopback provider whose slow symbols dribble their headers (see provider_server).
"""

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import object_key
from marketdata_assets.lambda_handler import handler
from marketdata_assets.operations.time_budget import MARGIN_S, REST_OF_TICK_S
from marketdata_assets.settings import Settings
from marketdata_tests.provider_server import ProviderServer, envelopes, serving
from marketdata_tests.test_yahoo_provider import chart_for

pytestmark = pytest.mark.system

TICK = datetime(2025, 11, 25, 14, 31, tzinfo=UTC)  # the recorded chart's minute
EVENT = {"source": "marketdata.scheduler", "scheduled_time": "2025-11-25T14:31:00Z"}
FAST, SLOW = ["AAPL", "MSFT"], ["SLOW1", "SLOW2"]


class LateInvocation:
    """A Lambda context whose invocation ends `remaining_s` after it was made."""

    aws_request_id = "late-invocation"
    function_name = "marketdata-tick"

    def __init__(self, remaining_s: float):
        self.deadline = time.monotonic() + remaining_s
        self.wall_deadline = time.time() + remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


@pytest.fixture(scope="module", autouse=True)
def _imports_paid(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One tick first, so the process holds Dagster and Great Expectations like a warm Lambda
    (the cold start's cost is the context's short remaining time)."""
    run_tick(Settings(data_dir=tmp_path_factory.mktemp("warm")), TICK)


@pytest.fixture
def slow_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The lake folder of a Lambda-like environment whose provider is slow for SLOW."""
    server = ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for)
    for symbol in SLOW:  # headers one byte every 0.5 s: never a whole answer in time
        server.answers[symbol] = [(200, chart_for(symbol), 0.0, "headers")]
    for name, value in {
        "MARKETDATA_DATA_DIR": str(tmp_path),
        "MARKETDATA_PROVIDER": "yahoo",
        "MARKETDATA_SYMBOLS": ",".join(FAST + SLOW),
        "MARKETDATA_ALWAYS_OPEN": "1",
        "MARKETDATA_YAHOO_URL": server.url,
    }.items():
        monkeypatch.setenv(name, value)
    with serving(server):
        yield tmp_path


def test_a_slow_provider_after_a_cold_start_still_lands_raw_in_time(slow_provider: Path) -> None:
    # Enough for the rest of the tick, its margin and two seconds of fetching. The static
    # deadline would let each slow symbol try four 5-second requests: over 20 s of fetching.
    context = LateInvocation(remaining_s=REST_OF_TICK_S + MARGIN_S + 2)
    result = handler(EVENT, context)
    assert context.get_remaining_time_in_millis() > 0  # returned before the invocation's end
    assert (result["raw"], result["validated"], result["provider_errors"]) == (2, 2, 2)
    raw = slow_provider / object_key("raw", TICK)
    assert raw.stat().st_mtime < context.wall_deadline
    lines = envelopes(gzip.decompress(raw.read_bytes()))
    assert sorted(lines) == sorted(FAST + SLOW)
    for symbol in SLOW:  # one request, cut off by the fetch deadline, not four
        assert lines[symbol]["fetch"]["error"].startswith("Timeout")
        assert lines[symbol]["fetch"]["attempts"] == 1
    assert all("error" not in lines[symbol]["fetch"] for symbol in FAST)


def test_with_no_time_left_to_fetch_raw_still_lands_and_the_tick_fails(
    slow_provider: Path,
) -> None:
    context = LateInvocation(remaining_s=REST_OF_TICK_S + MARGIN_S - 1)
    with pytest.raises(TickFailed, match="every symbol failed at the provider"):
        handler(EVENT, context)
    lines = envelopes(gzip.decompress((slow_provider / object_key("raw", TICK)).read_bytes()))
    assert sorted(lines) == sorted(FAST + SLOW)
    for line in lines.values():  # never requested
        assert line["fetch"]["error"].startswith("DeadlineExceeded")
        assert line["fetch"]["attempts"] == 0

"""The tick's fetch concurrency: `MARKETDATA_FETCH_CONCURRENCY` requests in flight, exactly,
over connections reused through the tick; and a tick of many symbols against a slow provider
done in a fraction of the time a sequential fetch needs."""

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from marketdata_assets.execution.tick import run_tick
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.providers.deadlines import PerThread
from marketdata_assets.providers.registry import build_provider
from marketdata_assets.settings import Settings
from marketdata_tests.conftest import TICK
from marketdata_tests.provider_server import ProviderServer, envelopes, serving
from marketdata_tests.test_yahoo_provider import chart_for


@pytest.fixture
def yahoo() -> Iterator[ProviderServer]:
    server = ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for, keep_alive=True)
    with serving(server):
        yield server


def _settings(folder: Path, server: ProviderServer, env: dict[str, str]) -> Settings:
    """The settings a deployment with `env` reads, Yahoo on the loopback server."""
    return Settings.from_env(
        {
            "MARKETDATA_DATA_DIR": str(folder),
            "MARKETDATA_PROVIDER": "yahoo",
            "MARKETDATA_YAHOO_URL": server.url,
            **env,
        }
    )


@pytest.mark.system
@pytest.mark.parametrize("cap", [4, 16])
def test_the_fetch_keeps_exactly_the_configured_requests_in_flight(
    yahoo: ProviderServer, tmp_path: Path, cap: int
) -> None:
    # Every request waits at the gate until `cap` requests wait there together: a fetch that
    # kept fewer in flight would never pass it (the timeout only ends such a test), so `cap`
    # in flight at once is forced, not left to timing; the server counts the requests in flight
    # at every arrival, so one more than `cap`, whenever it came, is seen.
    yahoo.gate = threading.Barrier(cap, timeout=60)
    symbols = [f"S{i:03d}" for i in range(3 * cap)]
    settings = _settings(
        tmp_path,
        yahoo,
        {"MARKETDATA_FETCH_CONCURRENCY": str(cap), "MARKETDATA_SYMBOLS": ",".join(symbols)},
    )
    lines = envelopes(build_provider(settings).fetch(TICK))
    assert sorted(lines) == symbols and not [s for s, e in lines.items() if "error" in e["fetch"]]
    assert yahoo.most_in_flight == cap
    # One client for the tick, its pool as large as the cap: no connection a request.
    assert len(yahoo.requests) == 3 * cap and yahoo.connections <= cap


@pytest.mark.system
def test_a_thousand_symbol_tick_against_a_slow_provider_needs_a_fraction_of_a_sequential_fetch(
    yahoo: ProviderServer, tmp_path: Path
) -> None:
    delay_s, count = 0.1, 1_000
    symbols = [f"S{i:04d}" for i in range(count)]
    for symbol in symbols:
        yahoo.answers[symbol] = [(200, chart_for(symbol), delay_s, False)]
    settings = _settings(tmp_path, yahoo, {"MARKETDATA_SYMBOLS": ",".join(symbols)})
    summary = run_tick(settings, TICK, origin=RunOrigin("cli"))
    assert (summary.raw, summary.provider_errors) == (count, 0)
    sequential_ms = count * delay_s * 1000  # each answer waited for in turn: 100 s
    # Half of that: out of reach of a sequential fetch, or of 2 requests at a time (50 s
    # fetching alone), even before curating, gating and writing 1,000 rows. (64 in flight
    # fetch in about 2 s; the rest of the tick is CPU, and this machine's cores are shared.)
    assert summary.duration_ms <= sequential_ms / 2
    assert yahoo.most_in_flight <= settings.fetch_concurrency


@pytest.mark.domain
def test_each_thread_has_its_own_transport_and_no_more_threads_than_the_cap_get_one() -> None:
    made: list[httpx.MockTransport] = []

    def make() -> httpx.MockTransport:
        made.append(httpx.MockTransport(lambda request: httpx.Response(200, text="ok")))
        return made[-1]

    shared = PerThread(make, 2)
    outcomes: list[str] = []

    def ask() -> None:
        for _ in range(3):  # a thread's later requests reuse its transport
            try:
                shared.handle_request(httpx.Request("GET", "http://provider.test/"))
                outcomes.append("answered")
            except RuntimeError as refused:
                outcomes.append(str(refused))

    for _ in range(3):  # one after another: the order is the test's, not the scheduler's
        thread = threading.Thread(target=ask)
        thread.start()
        thread.join()
    assert len(made) == 2
    assert outcomes == ["answered"] * 6 + ["more than 2 threads share one transport"] * 3

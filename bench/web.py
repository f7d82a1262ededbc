"""Benchmark: the dashboard under 8 concurrent loopback clients, and /symbol/AAPL in Chromium.

The data dir holds a year of the platform: 500 symbols in the latest-price table (one stub tick,
its raw and validated objects written beside it), AAPL's 1-minute bars, daily bars and session
analytics for 252 sessions, and the last session's for all 500 symbols. The bars are the stub's,
built with the history code (parse, daily bars, analytics) and written straight through the
lake's codecs: `marketdata backfill` of the same year runs the Dagster graph and the Great
Expectations suite per session, and takes minutes.

`marketdata serve` answers in its own process; 8 threads with one keep-alive httpx client each
ask it. Baselines from the same run: /healthz (the floor of the server and client stack) and
each read called directly in this process, without HTTP. In Chromium (Debian's, as the browser
tests drive it) each load of /symbol/AAPL is a fresh page (no cache), timed from navigation to
the page's "charts drawn" marker. Never a pass/fail gate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine  # noqa: E402

from marketdata_assets import stores  # noqa: E402
from marketdata_assets.history import query  # noqa: E402
from marketdata_assets.history.analytics import session_analytics  # noqa: E402
from marketdata_assets.history.daily import daily_bars  # noqa: E402
from marketdata_assets.lake import object_key  # noqa: E402
from marketdata_assets.lake.codecs import encode  # noqa: E402
from marketdata_assets.lake.keys import day_key  # noqa: E402
from marketdata_assets.lake.schemas import BAR_SCHEMA  # noqa: E402
from marketdata_assets.market.calendar import sessions_in  # noqa: E402
from marketdata_assets.providers.history_parse import parse_history  # noqa: E402
from marketdata_assets.providers.stub.history import StubHistory  # noqa: E402
from marketdata_assets.settings import StorageSettings  # noqa: E402
from marketdata_assets.web.reads import Reader  # noqa: E402

SYMBOL = "AAPL"
SYMBOLS = (SYMBOL, *(f"S{i:03d}" for i in range(499)))
LAST_SESSION = date(2026, 11, 24)
TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)  # the next session: every price has a change
SEED = 7
CLIENTS = 8
CHARTS_DRAWN = "body[data-ready=charts]"  # set by symbol.js once its charts are painted
FORECAST_SHOWN = "#forecast :is(.verdict, p.empty, p.error)"
HANG_MS = 300_000  # a wait that never ends fails after this; not a speed limit


@dataclass(frozen=True)
class Scale:
    sessions: int  # of AAPL's history, ending LAST_SESSION
    requests: int  # per client and endpoint, after one warm-up request each
    loads: int  # warm page loads in Chromium


FULL = Scale(sessions=252, requests=40, loads=10)
QUICK = Scale(sessions=21, requests=10, loads=3)


def build(data_dir: Path, sessions: Sequence[date]) -> None:
    """The data dir: the latest-price table, the tick's objects and the history (see above)."""
    settings = StorageSettings(data_dir=data_dir)
    lake = stores.lake_store(settings)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        wide = pool.submit(stub_bars, sessions[-1], SYMBOLS)
        bars = [*pool.map(partial(stub_bars, symbols=(SYMBOL,)), sessions[:-1]), wide.result()]
    daily = [daily_bars(frame) for frame in bars]
    analytics = session_analytics(pd.concat(daily), pd.concat(bars), sessions)
    for session, minutes, days in zip(sessions, bars, daily, strict=True):
        lake.put(day_key("minute_bars", session), encode("minute_bars", minutes))
        lake.put(day_key("daily_bars", session), encode("daily_bars", days))
        held = analytics[analytics["session"] == pd.Timestamp(session)]
        lake.put(day_key("session_analytics", session), encode("session_analytics", held))

    from marketdata_assets.gate.routing import VALIDATED_COLUMNS
    from marketdata_assets.latest import prices_from_frame
    from marketdata_assets.providers.stub.quotes import StubProvider
    from marketdata_assets.tick.curation import curate

    payload = StubProvider(SYMBOLS, seed=SEED).fetch(TICK)
    validated = curate(payload, TICK)[VALIDATED_COLUMNS]  # the stub's quotes are all clean
    assert validated["price"].notna().all() and len(validated) == len(SYMBOLS)
    lake.put(object_key("raw", TICK), encode("raw", payload))
    lake.put(object_key("validated", TICK), encode("validated", validated))
    written = stores.latest_store(settings).upsert(prices_from_frame(validated))
    assert written.updated == len(SYMBOLS), written


def stub_bars(session: date, symbols: Sequence[str]) -> pd.DataFrame:
    """The stub's 1-minute bars of `symbols` in `session` (BAR_SCHEMA; it delivers no bad row)."""
    stub = StubHistory(seed=SEED)
    candidates = parse_history(stub.fetch(session, symbols), session).candidates
    assert candidates["problem"].isna().all(), f"{session}: the stub delivered a bad row"
    frame = candidates[list(BAR_SCHEMA)].astype(BAR_SCHEMA)
    return frame.sort_values(["symbol", "start"], ignore_index=True)


@contextmanager
def dashboard(data_dir: Path) -> Iterator[tuple[str, int]]:
    """`marketdata serve` on a free loopback port over `data_dir`: its base URL and pid."""
    from marketdata_tests.conftest import free_port

    port = free_port()
    command = [str(Path(sys.executable).with_name("marketdata")), "serve", "--port", str(port)]
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(data_dir), "MARKETDATA_PROFILE": "local"}
    server = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness poll
            if server.poll() is not None:
                raise SystemExit(f"marketdata serve exited: {server.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                httpx.get(f"{base}/healthz").raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass(frozen=True)
class Load:
    latencies: np.ndarray  # seconds, every timed request
    seconds: float  # wall time of the timed requests
    server_cpu: float = 0.0  # CPU seconds the server process used meanwhile
    client_cpu: float = 0.0  # CPU seconds this process (the clients) used meanwhile

    def p(self, q: float) -> float:
        return float(np.percentile(self.latencies, q))

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def hammer(urls: Sequence[str], clients: int, warm: str, server: int) -> Load:
    """`clients` threads, one keep-alive client each, share out `urls` (client i asks every
    `clients`-th) after one warm-up request for `warm`; all start together. Also the CPU time
    the `server` process and this one used meanwhile."""
    start = threading.Barrier(clients + 1)

    def client(mine: Sequence[str]) -> list[float]:
        with httpx.Client(timeout=120) as http:
            http.get(warm).raise_for_status()
            start.wait(HANG_MS / 1000)
            times = []
            for url in mine:
                began = time.perf_counter()
                answer = http.get(url)
                times.append(time.perf_counter() - began)
                answer.raise_for_status()
            return times

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, urls[i::clients]) for i in range(clients)]
        start.wait(HANG_MS / 1000)
        began, cpu, served = time.perf_counter(), time.process_time(), _cpu(server)
        latencies = [t for future in futures for t in future.result()]
        seconds = time.perf_counter() - began
        cpu, served = time.process_time() - cpu, _cpu(server) - served
    return Load(np.array(latencies), seconds, served, cpu)


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) process `pid` has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def direct(read: Callable[[], object] | None, requests: int) -> Load | None:
    """`read` called in this process, one call after another, after one warm-up call."""
    if read is None:
        return None
    read()
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return Load(np.array(times), sum(times))


# In the page, in ms from navigation start: when the marker is set, and the phases before it
# (the charts' data: the bars and analytics the page fetches before drawing).
_MARK_DRAWN = """new MutationObserver((_, observer) => {
  if (document.body?.dataset.ready === "charts") {
    window.chartsDrawnAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });"""
_PHASES = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const charted = performance
    .getEntriesByType("resource")
    .filter((e) => e.name.includes("/api/bars/") || e.name.includes("/api/analytics/"));
  return {
    html: nav.responseEnd,
    scripts: nav.domContentLoadedEventEnd,
    api: Math.max(...charted.map((e) => e.responseEnd)),
    drawn: window.chartsDrawnAt,
  };
}"""
PHASES = ("html", "scripts", "api", "drawn")  # see _PHASES


@dataclass(frozen=True)
class PageLoads:
    first: float  # seconds: the server's first load, navigation to charts drawn
    forecast: float  # seconds after it until its forecast showed (the model libraries load)
    warm: list[float]  # seconds: later loads, each a fresh page (no browser cache)
    phases: list[dict[str, float]]  # of the later loads, in the page (ms from navigation start)


def page_loads(base: str, loads: int) -> PageLoads:
    """/symbol/AAPL in Chromium, timed from navigation to the page's charts-drawn marker."""
    from marketdata_tests.browser import PageWatch, chromium

    with chromium() as browser:

        def load() -> tuple[PageWatch, float]:
            watch = PageWatch.open(browser, 1280, 900)
            watch.page.set_default_timeout(HANG_MS)
            watch.page.add_init_script(_MARK_DRAWN)
            began = time.perf_counter()
            watch.page.goto(f"{base}/symbol/{SYMBOL}", wait_until="commit")
            watch.page.wait_for_selector(CHARTS_DRAWN)
            seconds = time.perf_counter() - began
            if watch.faults:
                raise SystemExit(f"/symbol/{SYMBOL}: the page reported {watch.faults}")
            return watch, seconds

        watch, first = load()
        began = time.perf_counter()
        watch.page.wait_for_selector(FORECAST_SHOWN)  # the server is idle again after it
        forecast = time.perf_counter() - began
        watch.page.close()
        warm, phases = [], []
        for _ in range(loads):
            watch, seconds = load()
            warm.append(seconds)
            phases.append(watch.page.evaluate(_PHASES))
            watch.page.close()
    return PageLoads(first, forecast, warm, phases)


@dataclass(frozen=True)
class Endpoint:
    label: str
    paths: list[str]  # asked in turn: one path, or a new range each request (no kept answer)
    # The endpoint's read without HTTP: uncached (what a request costs when the server's kept
    # answer is stale) and as the server makes it (its Reader, reused between requests).
    cold: Callable[[], object] | None
    served: Callable[[], object] | None
    target: str


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="21 sessions, fewer requests")
    scale = QUICK if parser.parse_args().quick else FULL
    sessions = sessions_in(date(LAST_SESSION.year - 2, 1, 1), LAST_SESSION)[-scale.sessions :]
    first, last = sessions[0], sessions[-1]
    print(f"bench/web.py on {machine()}; load average {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data_dir = Path(tmp) / "data"
        began = time.perf_counter()
        build(data_dir, sessions)
        print(
            f"data dir: {len(SYMBOLS)} latest prices; {SYMBOL}'s 1-minute and daily bars and "
            f"analytics for {len(sessions)} sessions {first}..{last}, {len(SYMBOLS)} symbols' on "
            f"{last} (built in {time.perf_counter() - began:.1f} s)"
        )
        settings = StorageSettings(data_dir=data_dir)
        reader = Reader(stores.lake_store(settings), stores.latest_store(settings))
        n = CLIENTS * scale.requests
        fresh = range(scale.requests + n)  # distinct requests: the 1 client's, then the 8's
        half = len(sessions) // 2
        ranges = [(sessions[i % half], sessions[-1 - i // half]) for i in fresh]
        endpoints = [
            Endpoint("/healthz", ["/healthz"], None, None, "-"),
            Endpoint(f"/api/latest ({len(SYMBOLS)} symbols)", ["/api/latest"],
                     lambda: Reader(reader.lake, reader.table).latest_json(), reader.latest_json,
                     "p50 <= 20, p95 <= 50"),
            Endpoint("/api/bars 1m, one session", [f"/api/bars/{SYMBOL}?{_one(last)}"],
                     lambda: query.bars(reader.lake, SYMBOL, "1m", last, last),
                     lambda: reader.bars_json(SYMBOL, "1m", last, last), "p95 <= 100"),
            Endpoint("  a new symbol each request",
                     [f"/api/bars/{SYMBOLS[i]}?{_one(last)}" for i in fresh],
                     None, None, "p95 <= 100"),
            Endpoint(f"/api/bars 1d, {len(sessions)} sessions",
                     [f"/api/bars/{SYMBOL}?interval=1d&from={first}&to={last}"],
                     lambda: query.bars(reader.lake, SYMBOL, "1d", first, last),
                     lambda: reader.bars_json(SYMBOL, "1d", first, last), "p95 <= 100"),
            Endpoint("  a new range each request",
                     [f"/api/bars/{SYMBOL}?interval=1d&from={a}&to={b}" for a, b in ranges],
                     None, None, "p95 <= 100"),
        ]  # fmt: skip
        with dashboard(data_dir) as (base, server):
            pages = page_loads(base, scale.loads)
            figures = []
            for endpoint in endpoints:
                urls = [base + path for path in endpoint.paths]
                if len(urls) == 1:  # the same request again: the server may keep its answer
                    warm, alone, together = urls[0], urls * scale.requests, urls * n
                else:  # each request new: nothing kept can answer it
                    warm, alone, together = base + "/healthz", urls[: scale.requests], urls[-n:]
                answer = httpx.get(urls[0]).json()
                size = len(answer) if isinstance(answer, list) else 1
                assert endpoint.served is None or size == _rows(endpoint.served()) > 1, urls[0]
                figures.append(
                    (
                        endpoint,
                        size,
                        direct(endpoint.cold, scale.requests),
                        direct(endpoint.served, scale.requests),
                        hammer(alone, 1, warm, server),
                        hammer(together, CLIENTS, warm, server),
                    )
                )
    print(
        f"{'request':<28} {'rows':>5} | {'uncached':>8} {'direct':>7} | {'1 client':>8} | "
        f"{CLIENTS} clients: {'p50':>5} {'p95':>6} {'req/s':>5} {'CPU/req':>13} | target (ms)"
    )
    for endpoint, size, cold, served, one, many in figures:
        per = [1000 * cpu / len(many.latencies) for cpu in (many.server_cpu, many.client_cpu)]
        print(
            f"{endpoint.label:<28} {size:>5} | {_ms(cold, 50):>8} {_ms(served, 50):>7} | "
            f"{_ms(one, 50):>8} | {'':>{len(str(CLIENTS)) + 9}}{_ms(many, 50):>5} "
            f"{_ms(many, 95):>6} {many.rate:>5.0f} {per[0]:>6.1f} {per[1]:>6.1f} | "
            f"{endpoint.target}"
        )
    print(
        f"(ms; p50 but where marked; {CLIENTS} clients x {scale.requests} requests each after one "
        "warm-up request; uncached: the read in this process from nothing, direct: as the "
        "server's Reader makes it, both without HTTP; CPU/req: CPU ms per request of the server "
        "process, then of the clients' process; /healthz is the server and client stack's floor)"
    )
    median = {name: np.median([p[name] for p in pages.phases]) for name in PHASES}
    print(
        f"/symbol/{SYMBOL} in Chromium, navigation to charts drawn: the server's first load "
        f"{pages.first:.2f} s (its forecast shown {pages.forecast:.1f} s later); "
        f"{len(pages.warm)} fresh pages after it: median {np.median(pages.warm):.2f} s, max "
        f"{max(pages.warm):.2f} s | target <= 1.5 s"
    )
    print(
        "  in the page, median ms from navigation start: html received {html:.0f}, scripts run "
        "(DOMContentLoaded) {scripts:.0f}, bars and analytics received {api:.0f}, charts drawn "
        "{drawn:.0f}".format(**median)
    )
    print(f"load average after: {_load()}")


def _rows(answer: object) -> int:
    """How many rows a read gave: a History's, or a JSON list's."""
    if isinstance(answer, bytes):
        return len(json.loads(answer))
    return len(answer.rows)  # type: ignore[attr-defined]


def _one(day: date) -> str:
    return f"interval=1m&from={day}&to={day}"


def _ms(load: Load | None, q: float) -> str:
    if load is None:
        return "-"
    ms = load.p(q) * 1000
    return f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()

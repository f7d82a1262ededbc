"""Benchmark: the tick's fetch of 5,000 symbols against a loopback Yahoo answering each request
in 50-200 ms (uniform, seeded), at several fetch concurrencies beside today's default of 8 in
flight, measured in the same run; then whole ticks at the chosen default (`duration_ms`, from
the start of the run to its last store write), and the bytes a tick lands per symbol with the
whole day's bars (`range=1d`) against the minute's window (`period1`/`period2`).

The server runs in its own process (a thread per connection, HTTP/1.1 keep-alive), so the
client's CPU time (`time.process_time` of this process) is the fetch's alone. Each fetch is the
platform's own: `YahooProvider.fetch` (one httpx client per tick, retries, deadlines,
redaction). `--quick`: 1,000 symbols and fewer settings. Never a pass/fail gate.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine  # noqa: E402

TICK = datetime(2026, 11, 25, 20, 59, tzinfo=UTC)  # 15:59 in New York: the session's last minute
LATENCY_S = (0.05, 0.2)
BASELINE = 8  # requests in flight before the setting existed (FetchPolicy.workers)
CONCURRENCIES = (16, 32, 48, 64, 96, 128)
QUICK = (32, 64)
FETCH_TARGET_S, TICK_TARGET_S = 12.0, 30.0


def serve() -> None:
    """The child: Yahoo on loopback, each answer LATENCY_S late, bodies sized as Yahoo's for
    the query (`yahoo_charts.chart_answer`). Prints its URL; serves until stdin closes."""
    import threading
    from urllib.parse import parse_qs, urlsplit

    from marketdata_tests.provider_server import ProviderServer, Reply, serving
    from marketdata_tests.yahoo_charts import chart_answer

    class ChartServer(ProviderServer):
        def __init__(self) -> None:
            super().__init__(lambda path, _: path.rsplit("/", 1)[-1], str, keep_alive=True)
            self.random = random.Random(7)

        def reply(self, path: str) -> tuple[Reply, str]:
            parts = urlsplit(path)
            query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
            symbol = parts.path.rsplit("/", 1)[-1]
            with self.lock:
                delay = self.random.uniform(*LATENCY_S)
            return (200, chart_answer(symbol, query, TICK), delay, False), symbol

    server = ChartServer()
    server.request_queue_size = 1024
    with serving(server):
        print(server.url, flush=True)
        threading.Thread(target=sys.stdin.read, daemon=True).run()


def fetch(url: str, symbols: list[str], concurrency: int) -> tuple[float, float, int, int]:
    """One tick's fetch at `concurrency`: wall s, client CPU s, symbols fetched, raw bytes."""
    from marketdata_assets.providers.fetching import FetchPolicy
    from marketdata_assets.providers.yahoo.quotes import YahooProvider

    policy = FetchPolicy(deadline_s=600, workers=concurrency)  # the whole fetch, not a cut
    provider = YahooProvider(symbols, policy, base_url=url)
    cpu, began = time.process_time(), time.perf_counter()
    payload = provider.fetch(TICK)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    lines = [json.loads(line) for line in payload.splitlines()]
    return wall, cpu, sum("error" not in line["fetch"] for line in lines), len(payload)


def day_bytes(url: str, symbols: list[str]) -> int:
    """The raw bytes a tick at TICK landed when it asked `range=1d&interval=1m` (before)."""
    import httpx

    from marketdata_assets.providers.deadlines import transport
    from marketdata_assets.providers.fetching import FetchPolicy, Request, fetch_all
    from marketdata_assets.providers.yahoo.quotes import check_response

    requests = [
        Request(s, f"{url}/v8/finance/chart/{s}", {"range": "1d", "interval": "1m"})
        for s in symbols
    ]
    with httpx.Client(transport=transport()) as client:
        return len(fetch_all("yahoo", requests, check_response, FetchPolicy(), client))


def ticks(url: str, symbols: list[str], rounds: int) -> list[dict[str, object]]:
    """Whole ticks at the default concurrency, local profile: their `--json` summaries."""
    from datetime import timedelta

    from marketdata_assets.execution.tick import run_tick
    from marketdata_assets.operations.run_records import RunOrigin
    from marketdata_assets.settings import Settings

    summaries = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"MARKETDATA_YAHOO_URL": url}).with_overrides(
            data_dir=Path(folder), provider="yahoo", symbols=tuple(symbols), log_level="ERROR"
        )
        for round_ in range(rounds + 1):  # the first warms the process up
            tick = TICK - timedelta(minutes=rounds - round_)
            summary = run_tick(settings, tick, origin=RunOrigin("cli")).as_dict()
            if round_:
                summaries.append(summary)
    return summaries


def main() -> None:
    if "--serve" in sys.argv[1:]:
        serve()
        return
    quick = "--quick" in sys.argv[1:]
    size = 1_000 if quick else 5_000
    symbols = [f"S{i:04d}" for i in range(size)]
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    try:
        report(url, symbols, QUICK if quick else CONCURRENCIES, rounds=1 if quick else 3)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


def report(url: str, symbols: list[str], concurrencies: tuple[int, ...], rounds: int) -> None:
    from marketdata_assets.settings import Settings

    print(f"bench/fetch.py on {machine()}; load {os.getloadavg()[0]:.1f}")
    print(f"{len(symbols):,} symbols, Yahoo on loopback answering in {LATENCY_S[0] * 1000:.0f}-"
          f"{LATENCY_S[1] * 1000:.0f} ms (its own process)")  # fmt: skip
    print(f"{'in flight':>9} | {'fetch s':>7} | {'req/s':>6} | {'client CPU s':>12} | "
          f"{'fetched':>7} | {'vs 8':>6}")  # fmt: skip
    base_s = None
    for concurrency in (BASELINE, *concurrencies):
        wall, cpu, fetched, _ = fetch(url, symbols, concurrency)
        base_s = base_s or wall
        print(f"{concurrency:>9} | {wall:>7.2f} | {len(symbols) / wall:>6.0f} | {cpu:>12.2f} | "
              f"{fetched:>7,} | {base_s / wall:>5.1f}x")  # fmt: skip
    default = Settings().fetch_concurrency
    summaries = ticks(url, symbols, rounds)
    durations = [int(str(s["duration_ms"])) / 1000 for s in summaries]
    print(f"whole ticks at the default ({default} in flight), local profile, {rounds} warm: "
          f"duration_ms {' '.join(f'{d:.2f}' for d in durations)} s "
          f"(target {TICK_TARGET_S:.0f} s); validated {[s['validated'] for s in summaries]}")  # fmt: skip
    sample = symbols[:100]
    before = day_bytes(url, sample) / len(sample)
    after = fetch(url, sample, default)[3] / len(sample)
    print(f"raw bytes per symbol at {TICK:%H:%MZ} (the session's last minute): range=1d "
          f"{before:,.0f}, period1/period2 {after:,.0f} ({before / after:.0f}x fewer)")  # fmt: skip


if __name__ == "__main__":
    main()

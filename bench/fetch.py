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
import resource
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
CONCURRENCIES = (32, 64, 96, 128, 192)
QUICK = (64, 128)
FETCH_TARGET_S, TICK_TARGET_S = 12.0, 30.0


def serve() -> None:
    """The child: Yahoo on loopback, each answer LATENCY_S late, bodies sized as Yahoo's for
    the query (`yahoo_charts.chart_answer`). Prints its URL; serves until stdin closes."""
    from marketdata_tests.provider_server import serving
    from marketdata_tests.yahoo_charts import ChartServer

    latency = random.Random(7)
    server = ChartServer(TICK, lambda: latency.uniform(*LATENCY_S))
    with serving(server):
        print(server.url, flush=True)
        sys.stdin.read()


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
    low, high = (round(s * 1000) for s in LATENCY_S)
    print(f"{len(symbols):,} symbols; Yahoo on loopback (own process) answering in {low}-{high} ms")
    print(f"(target: fetched in at most {FETCH_TARGET_S:.0f} s)")
    print("in flight | fetch s | req/s | client CPU s | fetched | vs 8 in flight")
    base_s = None
    for concurrency in (BASELINE, *concurrencies):
        wall, cpu, fetched, _ = fetch(url, symbols, concurrency)
        base_s = base_s or wall
        rate = len(symbols) / wall
        print(
            f"{concurrency:>9} | {wall:>7.2f} | {rate:>5.0f} | {cpu:>12.2f} | {fetched:>7,} | "
            f"{base_s / wall:>4.1f}x"
        )
    default = Settings().fetch_concurrency
    summaries = ticks(url, symbols, rounds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    durations = " ".join(f"{int(str(s['duration_ms'])) / 1000:.2f}" for s in summaries)
    validated = [s["validated"] for s in summaries]
    print(
        f"whole ticks at the default ({default} in flight), local profile, {rounds} warm: "
        f"duration_ms {durations} s (target {TICK_TARGET_S:.0f} s); validated {validated}; "
        f"peak RSS {peak_mb:.0f} MB"
    )
    sample = symbols[:100]
    before = day_bytes(url, sample) / len(sample)
    after = fetch(url, sample, default)[3] / len(sample)
    print(
        f"raw bytes per symbol at {TICK:%H:%MZ} (the session's last minute): range=1d "
        f"{before:,.0f}, period1/period2 {after:,.0f} ({before / after:.0f}x fewer)"
    )


if __name__ == "__main__":
    main()

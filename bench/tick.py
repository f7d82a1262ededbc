"""Benchmark: the cold start of a fresh process (its first tick against importing Great
Expectations alone), then the Lambda handler's warm tick (Dagster in-process) against the same
work done in plain Python, both on moto in-process. `--cold-only` stops after the cold start.

Same stub fetch, curation, Great Expectations gate, S3 objects and conditional DynamoDB writes;
the difference is what Dagster's in-process execution costs. Never a pass/fail gate.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine  # noqa: E402

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SIZES = (500, 5_000)
ROUNDS = 2

ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MARKETDATA_PROFILE": "aws",
    "MARKETDATA_BUCKET": "bench-lake",
    "MARKETDATA_TABLE": "bench-latest",
    "MARKETDATA_ALWAYS_OPEN": "1",
}

COLD_ROUNDS = 5
SESSION_MINUTE = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # NYSE open: the market-hours check runs
SLOW_REPLY_S = 2.0
TARGET_OVER_GE_S = 1.5  # issue 14: a cold first tick within the GE import plus 1.5 s

# Each in a fresh process, timed from inside it (interpreter start-up excluded from both).
GE_ALONE = """
import time
began = time.perf_counter()
import great_expectations
print("FIGURE", time.perf_counter() - began)
"""
COLD_TICK = """
import time
began = time.perf_counter()
from marketdata_assets.lambda_handler import handler
handler({"time": "%s"}, None)
print("FIGURE", time.perf_counter() - began)
"""


def fresh_process(code: str, env: dict[str, str]) -> float:
    """The FIGURE a fresh interpreter prints running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return float(next(r for r in done.stdout.splitlines() if r.startswith("FIGURE")).split()[1])


def cold_start() -> None:
    """The GE import alone against the Lambda handler's import and first tick (10 stub symbols,
    a session minute, aws profile on moto's server, so the child starts with nothing imported
    or built), and the same tick from Yahoo on loopback answering each request SLOW_REPLY_S
    late (the fetch the handler overlaps with its imports). Rounds interleaved so all see the
    same load; medians against the target."""
    import boto3
    from moto.server import ThreadedMotoServer

    from marketdata_tests.provider_server import ProviderServer, serving
    from marketdata_tests.test_yahoo_provider import chart_for

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    for name in ("MARKETDATA_SYMBOLS", "MARKETDATA_ALWAYS_OPEN"):  # the Lambda's own path
        env.pop(name, None)
    yahoo = ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for)
    symbols = [f"S{i}" for i in range(10)]
    for symbol in symbols:
        yahoo.answers[symbol] = [(200, chart_for(symbol), SLOW_REPLY_S, False)]
    slow_env = {
        **env,
        "MARKETDATA_PROVIDER": "yahoo",
        "MARKETDATA_YAHOO_URL": yahoo.url,
        "MARKETDATA_SYMBOLS": ",".join(symbols),
    }
    try:
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        s3.create_bucket(Bucket=ENV["MARKETDATA_BUCKET"])
        boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"]).create_table(
            TableName=ENV["MARKETDATA_TABLE"],
            KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ge, cold, slow = [], [], []
        with serving(yahoo):
            for round_ in range(COLD_ROUNDS):
                ge.append(fresh_process(GE_ALONE, env))
                tick = SESSION_MINUTE + timedelta(minutes=2 * round_)
                cold.append(fresh_process(COLD_TICK % f"{tick:%Y-%m-%dT%H:%M:00Z}", env))
                tick += timedelta(minutes=1)
                slow.append(fresh_process(COLD_TICK % f"{tick:%Y-%m-%dT%H:%M:00Z}", slow_env))
    finally:
        server.stop()
    ge_s, cold_s, slow_s = statistics.median(ge), statistics.median(cold), statistics.median(slow)
    print(f"cold start, {COLD_ROUNDS} fresh processes each (median; runs):")
    print(f"  import great_expectations alone    {ge_s:5.2f} s  ({_runs(ge)})")
    print(f"  handler import + first tick        {cold_s:5.2f} s  ({_runs(cold)})")
    print(
        f"  cold tick - GE import {cold_s - ge_s:+.2f} s, ratio {cold_s / ge_s:.2f}x; target: "
        f"at most GE + {TARGET_OVER_GE_S} s = {ge_s + TARGET_OVER_GE_S:.2f} s "
        f"({'met' if cold_s <= ge_s + TARGET_OVER_GE_S else 'not met'})"
    )
    from marketdata_assets.settings import Settings

    at_once = Settings().fetch_concurrency  # requests in flight (MARKETDATA_FETCH_CONCURRENCY)
    fetch_s = SLOW_REPLY_S * -(-len(symbols) // at_once)
    print(
        f"  same, Yahoo answering {SLOW_REPLY_S:.0f} s late   {slow_s:5.2f} s  ({_runs(slow)}): "
        f"{slow_s - cold_s:+.2f} s over the stub for a fetch of at least {fetch_s:.0f} s"
    )


def _runs(seconds: list[float]) -> str:
    return " ".join(f"{s:.2f}" for s in seconds)


def plain_tick(symbols: tuple[str, ...], tick: datetime) -> int:
    """The tick without Dagster: what the asset graph does, called directly."""
    from marketdata_assets.gate.quarantine import quarantine_rows
    from marketdata_assets.gate.reference import reference_frame, reference_from_frame
    from marketdata_assets.gate.routing import judge, validated_rows
    from marketdata_assets.lake import latest_key_before, object_key
    from marketdata_assets.lake.codecs import decode, encode
    from marketdata_assets.lake.leases import S3Lease
    from marketdata_assets.lake.locks import tick_claim
    from marketdata_assets.lake.s3 import S3ObjectStore
    from marketdata_assets.latest import prices_from_frame
    from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore
    from marketdata_assets.providers.stub.quotes import StubProvider
    from marketdata_assets.stores import aws_client
    from marketdata_assets.tick.curation import curate, split_lines

    s3 = aws_client("s3")
    lake = S3ObjectStore(s3, ENV["MARKETDATA_BUCKET"])
    latest = DynamoLatestPriceStore(aws_client("dynamodb"), ENV["MARKETDATA_TABLE"])
    payload = StubProvider(symbols).fetch(tick)
    with S3Lease(s3, ENV["MARKETDATA_BUCKET"]).hold(tick_claim(tick), "bench"):
        lake.put(object_key("raw", tick), encode("raw", payload))
        curated = curate(payload, tick)
        lake.put(object_key("curated", tick), encode("curated", curated))
        before = latest_key_before(lake, "reference", tick)
        reference = reference_from_frame(decode("reference", lake.get(before))) if before else {}
        verdict = judge(curated, reference)
        validated = validated_rows(curated, verdict)
        quarantined = quarantine_rows(split_lines(payload), curated, verdict)
        lake.put(object_key("validated", tick), encode("validated", validated))
        lake.put(object_key("quarantine", tick), encode("quarantine", quarantined))
        lake.put(
            object_key("reference", tick), encode("reference", reference_frame(verdict.reference))
        )
        return latest.upsert(prices_from_frame(validated)).updated


def main() -> None:
    os.environ.update(ENV)
    import boto3
    from moto import mock_aws

    print(f"bench/tick.py on {machine()}")
    cold_start()
    if "--cold-only" in sys.argv[1:]:
        return

    from marketdata_assets.lambda_handler import handler

    print(f"{'symbols':>8} | {'handler s':>9} | {'plain s':>8} | {'handler/plain':>13}")
    minute = 0
    for size in SIZES:
        symbols = tuple(f"S{i:04d}" for i in range(size))
        os.environ["MARKETDATA_SYMBOLS"] = ",".join(symbols)
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket=ENV["MARKETDATA_BUCKET"])
            boto3.client("dynamodb").create_table(
                TableName=ENV["MARKETDATA_TABLE"],
                KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            handler({"time": (TICK - timedelta(minutes=1)).isoformat()}, None)  # warm up
            handler_s, plain_s = [], []
            for _ in range(ROUNDS):
                minute += 1
                tick = TICK + timedelta(minutes=minute)
                began = time.perf_counter()
                result = handler({"time": tick.isoformat()}, None)
                handler_s.append(time.perf_counter() - began)
                minute += 1
                tick = TICK + timedelta(minutes=minute)
                began = time.perf_counter()
                updated = plain_tick(symbols, tick)
                plain_s.append(time.perf_counter() - began)
                assert result["latest_updated"] == updated == size
        best_h, best_p = min(handler_s), min(plain_s)
        print(f"{size:>8,} | {best_h:>9.2f} | {best_p:>8.2f} | {best_h / best_p:>12.2f}x")


if __name__ == "__main__":
    main()

"""Benchmark: the Lambda handler's warm tick (Dagster in-process) against the same work done in
plain Python, both on moto in-process, plus the cold start of a fresh process.

Same stub fetch, curation, Great Expectations gate, S3 objects and conditional DynamoDB writes;
the difference is what Dagster's in-process execution costs. Never a pass/fail gate.
"""

from __future__ import annotations

import os
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

COLD = """
import time
began = time.perf_counter()
from moto import mock_aws
with mock_aws():
    import boto3
    boto3.client("s3").create_bucket(Bucket="bench-lake")
    boto3.client("dynamodb").create_table(TableName="bench-latest",
        KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    setup = time.perf_counter() - began
    began = time.perf_counter()
    from marketdata_assets.lambda_handler import handler
    imported = time.perf_counter() - began
    handler({"time": "2026-11-25T14:31:00Z"}, None)
    print("COLD", imported, time.perf_counter() - began)
"""


def plain_tick(symbols: tuple[str, ...], tick: datetime) -> int:
    """The tick without Dagster: what the asset graph does, called directly."""
    from marketdata_assets.aws import client
    from marketdata_assets.curation import curate, split_lines
    from marketdata_assets.gate.quarantine import quarantine_rows
    from marketdata_assets.gate.reference import reference_frame, reference_from_frame
    from marketdata_assets.gate.routing import judge, validated_rows
    from marketdata_assets.lake import latest_key_before, object_key
    from marketdata_assets.lake.codecs import decode, encode
    from marketdata_assets.lake.locks import S3TickLock
    from marketdata_assets.lake.s3 import S3ObjectStore
    from marketdata_assets.latest import prices_from_frame
    from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore
    from marketdata_assets.providers.stub import StubProvider

    s3 = client("s3")
    lake = S3ObjectStore(s3, ENV["MARKETDATA_BUCKET"])
    latest = DynamoLatestPriceStore(client("dynamodb"), ENV["MARKETDATA_TABLE"])
    payload = StubProvider(symbols).fetch(tick)
    with S3TickLock(s3, ENV["MARKETDATA_BUCKET"]).hold(tick, "bench"):
        lake.put(object_key("raw", tick), payload)
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
    cold = subprocess.run(
        [sys.executable, "-c", COLD], env={**os.environ}, capture_output=True, text=True, cwd=ROOT
    )
    if cold.returncode:
        raise SystemExit(cold.stderr[-2000:])
    line = next(row for row in cold.stdout.splitlines() if row.startswith("COLD"))
    imported, first = map(float, line.split()[1:])
    print(f"cold start (fresh process): import handler {imported:.2f} s, "
          f"import + first tick (10 symbols) {first:.2f} s")  # fmt: skip

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

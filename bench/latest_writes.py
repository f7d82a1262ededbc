"""Benchmark: the latest table's conditional writes (DynamoDB `UpdateItem`, one per symbol) at
1 to 64 writer threads: against moto's server in its own process (real requests; moto itself
saturates), and against a stand-in endpoint that answers every request after a fixed round trip
without doing any work (a botocore `before-send` handler sleeping, then answering `{}`), which
isolates what the writers cost the client: its CPU per request and how threads hide latency.

Prints, per writer count: wall seconds, writes/s, the client's CPU seconds (this process only),
and the ratio to one writer, measured in the same run. The table's `WRITERS`
(latest/dynamodb.py) is chosen from these figures. Never a pass/fail gate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import machine

from marketdata_assets.latest import LatestPrice
from marketdata_assets.latest.dynamodb import WRITERS, DynamoLatestPriceStore

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
COUNTS = (1, 4, 8, 16, 32, 64)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/moto-api/")
            return server, url
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("moto_server did not start")


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def stand_in(latency_s: float) -> Any:
    """A `before-send` handler answering every request `{}` after `latency_s` (no server)."""
    from botocore.awsrequest import AWSResponse

    def answer(request: Any, **_: Any) -> AWSResponse:
        time.sleep(latency_s)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
        return AWSResponse(request.url, 200, headers, _Body(b"{}"))

    return answer


def client(writers: int, latency_s: float, answered: bool = False) -> Any:
    """A DynamoDB client as `stores.aws_client` builds it (adaptive retries), its pool sized to
    `writers`, and `latency_s` of waiting before each request (then answered by the stand-in
    when `answered`, else sent to moto)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "adaptive", "max_attempts": 6}, max_pool_connections=max(writers, 10)
    )
    made = boto3.client("dynamodb", region_name="us-east-1", config=config)
    if answered:
        made.meta.events.register("before-send", stand_in(latency_s))
    elif latency_s:
        made.meta.events.register("before-send", lambda **_: time.sleep(latency_s))
    return made


def create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def one_run(
    writers: int, symbols: int, latency_s: float, round_: int, answered: bool = False
) -> tuple[float, float]:
    """(wall s, client CPU s) of writing `symbols` newer prices with `writers` threads."""
    made = client(writers, latency_s, answered)
    store = DynamoLatestPriceStore(made, "latest", writers=writers)
    store.upsert([LatestPrice("WARM", 1.0, "USD", TICK, TICK)])  # connections, credentials
    at = TICK + timedelta(seconds=round_)
    prices = [LatestPrice(f"S{i:05d}", 100.0 + round_, "USD", at, TICK) for i in range(symbols)]
    cpu, wall = time.process_time(), time.perf_counter()
    result = store.upsert(prices)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result.updated == symbols or answered, result
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="250 symbols")
    args = parser.parse_args()
    symbols = 250 if args.quick else args.symbols
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        create_table(client(1, 0), "latest")
        print(f"bench/latest_writes.py on {machine()}; {symbols} symbols, WRITERS = {WRITERS}")
        round_ = 0
        for answered, latency_ms in ((False, 0), (False, 8), (True, 0), (True, 5), (True, 10)):
            where = "stand-in endpoint" if answered else "moto's server"
            extra = "" if answered else " + moto's own time"
            print(f"\n{where}, round trip {latency_ms} ms{extra}")
            print(f"{'writers':>7} | {'wall s':>7} {'writes/s':>9} {'client CPU s':>12} "
                  f"{'CPU ms/write':>12} | {'vs 1 writer':>11}")  # fmt: skip
            base = None
            for writers in COUNTS:
                round_ += 1
                wall, cpu = one_run(writers, symbols, latency_ms / 1000, round_, answered)
                base = base or wall
                print(f"{writers:>7} | {wall:>7.2f} {symbols / wall:>9,.0f} {cpu:>12.2f} "
                      f"{cpu / symbols * 1000:>12.2f} | {base / wall:>10.1f}x")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()

"""Measured ticks: the Lambda handler run on an in-process moto (`mock_aws`) exactly as the
Scheduler invokes it, with the Lambda's environment, counting what each invocation costs.

Every AWS request is counted by `lake.aws_requests` (the same hooks production ticks report
through); DynamoDB request units from the calls' parameters; S3 bytes from what the bucket holds
afterwards (per dataset prefix, and the bytes later deleted, which versioning keeps as
noncurrent); CloudWatch Logs bytes from the handler's own log line. A tick's duration is
measured in CPU seconds of this process, so a busy machine does not inflate it (wall time on a
shared machine can be several times the work): split into the CPU spent while an AWS call is
in flight (in-process moto serving it: the stand-in for AWS's round trips) and the rest, the
compute that Lambda's CPU share scales (`bill.duration_s`). Waits that use no CPU (a real
provider's network latency) are not in it.

The first invocation of a process imports Dagster and Great Expectations (the cold start) and
is not measured; the ticks measured are spread over one session, so bodies that grow through
the day (a day of 1-minute bars) are averaged over it, and each comes a minute after an
unmeasured tick, as on the schedule (its lookups of the previous tick's objects then list
what an every-minute tick lists).
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marketdata_assets.cost.metering import Clients
from marketdata_assets.lake import aws_requests
from marketdata_assets.providers import registry
from marketdata_assets.settings import patched_environment

# A session (Tuesday, standard time: 14:30-21:00 UTC) and a minute after its close.
SESSION_OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
SESSION_MINUTES = 390
CLOSED_MINUTE = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
BUCKET, TABLE, BUDGET_TABLE = "marketdata-lake", "marketdata-latest-prices", "marketdata-budget"


@dataclass(frozen=True)
class TickCost:
    """What one invocation costs, averaged over the measured ones."""

    requests: dict[str, float]  # "service.Operation" -> requests
    write_units: float  # DynamoDB write request units
    read_units: float
    kept_bytes: dict[str, float]  # dataset prefix ("raw/") -> bytes of the objects kept
    object_bytes: dict[str, float]  # dataset prefix -> mean size of one of its objects
    deleted_bytes: float  # stored then deleted (kept 'noncurrent' under versioning)
    raw_plain_bytes: float  # the raw objects' bytes decompressed (what the provider sent)
    compute_s: float  # the invocation's CPU seconds outside AWS calls
    aws_s: float  # CPU seconds while some AWS call was in flight (moto serving it)
    log_bytes: float  # the handler's CloudWatch Logs line(s)
    metrics: tuple[str, ...] = ()  # the custom metrics its log line sends (embedded format)

    def counts(self) -> dict[str, Any]:
        """The figures as JSON members."""
        return {
            "requests": {name: round(n, 3) for name, n in sorted(self.requests.items())},
            "dynamodb_write_units": round(self.write_units, 3),
            "dynamodb_read_units": round(self.read_units, 3),
            "bytes_kept": {name: round(n) for name, n in sorted(self.kept_bytes.items())},
            "bytes_deleted": round(self.deleted_bytes),
            "raw_bytes_uncompressed": round(self.raw_plain_bytes),
            "compute_s": round(self.compute_s, 4),
            "aws_s": round(self.aws_s, 4),
            "log_bytes": round(self.log_bytes),
            "custom_metrics": len(self.metrics),
        }


@dataclass(frozen=True)
class Measurement:
    symbols: int
    provider: str
    open: TickCost  # a tick while the market is open
    closed: TickCost  # an invocation while it is closed (skipped, recorded)
    table_bytes: float  # the latest-price table's size (what a Scan reads)


def symbol_names(count: int) -> tuple[str, ...]:
    return tuple(f"S{n:04d}" for n in range(count))


def measure(symbols: int, provider: str, ticks: int = 3) -> Measurement:
    """Run one warm-up and `ticks` measured invocations in session minutes, and one after the
    close, each a minute after an unmeasured one, of `symbols` symbols from `provider` (one of
    `registry.measurable_providers()`)."""
    step = SESSION_MINUTES // (ticks + 1)
    minutes = [SESSION_OPEN + timedelta(minutes=1 + step * n) for n in range(ticks + 1)]
    now = [minutes[0]]
    with tempfile.TemporaryDirectory() as folder, _sandbox(symbols, provider, folder, now):
        with Clients().watching() as clients:
            _invoke(minutes[0], clients)  # the cold start: not measured
            opened = [_after_a_tick(minute, now, clients) for minute in minutes[1:]]
            closed = _after_a_tick(CLOSED_MINUTE, now, clients)
        items = clients.boto3("dynamodb").scan(TableName=TABLE)["Items"]
        table_bytes = sum(len(repr(item)) for item in items)  # near DynamoDB's item sizes
    return Measurement(symbols, provider, _mean(opened), closed, table_bytes)


@contextmanager
def _sandbox(symbols: int, provider: str, folder: str, now: list[datetime]) -> Iterator[None]:
    """moto, the provider's stand-in on the simulated clock, and the Lambda's environment (as
    `infra/lambda.tf` sets it) with fake credentials and no endpoint."""
    from moto import mock_aws

    environment: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": "cost-measurement",
        "AWS_SECRET_ACCESS_KEY": "cost-measurement",
        "AWS_SESSION_TOKEN": None,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PROFILE": None,
        "AWS_ENDPOINT_URL": None,
        "AWS_LAMBDA_FUNCTION_NAME": "marketdata-tick",
        "MARKETDATA_PROFILE": "aws",
        "MARKETDATA_BUCKET": BUCKET,
        "MARKETDATA_TABLE": TABLE,
        "MARKETDATA_BUDGET_TABLE": BUDGET_TABLE,
        "MARKETDATA_SYMBOLS": ",".join(symbol_names(symbols)),
        "MARKETDATA_PROVIDER": provider,
        "MARKETDATA_LOG_LEVEL": "CRITICAL",
        "MARKETDATA_DATA_DIR": folder,
        "MARKETDATA_ALWAYS_OPEN": None,
    }
    with (
        patched_environment(environment),
        mock_aws(),
        registry.stand_in(provider)(lambda: now[0]) as pointing,
        patched_environment(dict(pointing)),
    ):
        _stand_up()
        yield


def _stand_up() -> None:
    """What Terraform declares for the tick: the versioned bucket and the on-demand tables."""
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = boto3.client("dynamodb")
    for table, key in ((TABLE, "symbol"), (BUDGET_TABLE, "budget")):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


class _Context:
    """The Lambda context the handler reads."""

    function_name = "marketdata-tick"
    aws_request_id = "cost-measurement"

    def __init__(self) -> None:
        from marketdata_assets.operations.time_budget import LAMBDA_TIMEOUT_S

        self.deadline = time.monotonic() + LAMBDA_TIMEOUT_S

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def _invoke(minute: datetime, clients: Clients) -> str:
    from marketdata_assets.lambda_handler import handler

    line = io.StringIO()
    with redirect_stdout(line):
        handler({"scheduled_time": minute.strftime("%Y-%m-%dT%H:%M:%SZ")}, _Context())
    return line.getvalue()


def _listing(s3: Any) -> dict[str, int]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}


def _after_a_tick(minute: datetime, now: list[datetime], clients: Clients) -> TickCost:
    """The tick of `minute` measured after an unmeasured tick the minute before, as the schedule
    runs them: its reads of the previous tick's objects find them a minute back, not where the
    measured ticks before it (hours apart) left them."""
    now[0] = minute - timedelta(minutes=1)
    _invoke(now[0], clients)
    return _measured(minute, now, clients)


def _measured(minute: datetime, now: list[datetime], clients: Clients) -> TickCost:
    s3 = clients.boto3("s3")
    before_keys = _listing(s3)
    before, aws_before, units_before = aws_requests.snapshot(), clients.aws_s, +clients.units
    now[0] = minute
    started = time.process_time()
    log = _invoke(minute, clients)
    spent_cpu = time.process_time() - started
    spent = aws_requests.since(before)
    new = {key: size for key, size in _listing(s3).items() if key not in before_keys}
    kept: Counter[str] = Counter()
    objects: Counter[str] = Counter()
    for key, size in new.items():
        prefix = key.split("/", 1)[0] + "/"
        kept[prefix] += size
        objects[prefix] += 1
    raw = [key for key in new if key.startswith("raw/")]
    aws_s = clients.aws_s - aws_before
    units = clients.units - units_before
    return TickCost(
        requests=dict(spent.requests),
        write_units=units["write"],
        read_units=units["read"],
        kept_bytes=dict(kept),
        object_bytes={prefix: kept[prefix] / objects[prefix] for prefix in kept},
        deleted_bytes=max(0, spent.stored - sum(new.values())),
        raw_plain_bytes=sum(_plain_size(s3, key) for key in raw),
        compute_s=max(0.0, spent_cpu - aws_s),
        aws_s=aws_s,
        log_bytes=len(log.encode()),
        metrics=_metrics(log),
    )


def _metrics(log: str) -> tuple[str, ...]:
    """The custom metrics the log's embedded-metric-format lines send."""
    names: set[str] = set()
    for line in log.splitlines():
        try:
            directives = json.loads(line)["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            continue
        names.update(m["Name"] for d in directives for m in d.get("Metrics", []))
    return tuple(sorted(names))


def _plain_size(s3: Any, key: str) -> int:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return len(gzip.decompress(body)) if body[:2] == b"\x1f\x8b" else len(body)


def _mean(costs: list[TickCost]) -> TickCost:
    """The average invocation of `costs`."""
    n = len(costs)

    def average(dicts: list[dict[str, float]]) -> dict[str, float]:
        total: Counter[str] = Counter()
        for d in dicts:
            total.update(d)
        return {name: value / n for name, value in total.items()}

    sizes = average([c.object_bytes for c in costs])
    return TickCost(
        requests=average([{k: float(v) for k, v in c.requests.items()} for c in costs]),
        write_units=sum(c.write_units for c in costs) / n,
        read_units=sum(c.read_units for c in costs) / n,
        kept_bytes=average([c.kept_bytes for c in costs]),
        object_bytes=sizes,
        deleted_bytes=sum(c.deleted_bytes for c in costs) / n,
        raw_plain_bytes=sum(c.raw_plain_bytes for c in costs) / n,
        compute_s=sum(c.compute_s for c in costs) / n,
        aws_s=sum(c.aws_s for c in costs) / n,
        log_bytes=sum(c.log_bytes for c in costs) / n,
        metrics=tuple(sorted({name for c in costs for name in c.metrics})),
    )

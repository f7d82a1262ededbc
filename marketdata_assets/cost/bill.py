"""A monthly bill from measured ticks (`measure`), the price table (`prices.json`) and what
`infra/` declares (`infra`, `lifecycle`): one item per thing AWS charges for, month 1 and
month 12 (storage and images accumulate), list prices, no free tier.

Lambda's duration at a memory size: a tick's compute (its time outside AWS calls) runs on the
CPU share Lambda gives that memory, one full vCPU at 1,769 MB and proportionally less below
(the tick is single-threaded Python: more than one vCPU does not shorten it); its time waiting
on AWS does not change. What the measurement cannot see is an assumption named below.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from marketdata_assets.cost import lifecycle, schedule
from marketdata_assets.cost.infra import Infra
from marketdata_assets.cost.measure import Measurement, TickCost

PRICES = Path(__file__).with_name("prices.json")
FULL_VCPU_MB = 1769
# Lambda's own lines per invocation (START, END, REPORT and X-Ray's), about this many bytes.
PLATFORM_LOG_BYTES = 420
# Assumptions the ticks cannot measure: one image release a month of this compressed size;
# a dashboard polling the latest prices (one Scan of the table) once a minute while the market
# is open; history queries through Athena, each under its 10 MB minimum.
IMAGE_GB = 0.3
RELEASES_PER_MONTH = 1
ATHENA_QUERIES_PER_MONTH = 1_000
ATHENA_MIN_BYTES = 10 * 10**6
# The seed's design: the Lambda on x86 with its 2,048 MB default, the lifecycle rules it had.
SEED_MEMORY_MB = 2048
SEED_RULES = ("raw", "quarantine", "athena-results", "locks", "noncurrent-versions-and-uploads")
_PUT_CLASS = {"PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects"}
_PUT_CLASS |= {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
_FREE_S3 = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}


@cache
def prices(path: Path = PRICES) -> dict[str, dict[str, Any]]:
    """The price table's entries: name -> {usd, unit, date, source, free_tier}."""
    table: dict[str, dict[str, Any]] = json.loads(path.read_text())["prices"]
    return table


def price_date(path: Path = PRICES) -> str:
    """The table's date: its newest entry's."""
    return max(entry["date"] for entry in prices(path).values())


@dataclass(frozen=True)
class Design:
    """What is being priced: ours (as infra/ declares it) or the seed's."""

    schedule: str
    memory_mb: int
    seed: bool = False


@dataclass(frozen=True)
class Item:
    item: str
    quantity: float  # a month's amount (month 12's for what accumulates)
    unit_usd: float
    month_1_usd: float
    month_12_usd: float
    free_quantity: float = 0.0  # what the always-free tier covers a month (shown apart)

    @property
    def free_usd(self) -> float:
        return min(self.quantity, self.free_quantity) * self.unit_usd

    def rounded(self) -> Item:
        return Item(
            self.item,
            round(self.quantity, 4),
            self.unit_usd,
            round(self.month_1_usd, 4),
            round(self.month_12_usd, 4),
            self.free_quantity,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "quantity": self.quantity,
            "unit_usd": self.unit_usd,
            "month_1_usd": self.month_1_usd,
            "month_12_usd": self.month_12_usd,
        }


@dataclass(frozen=True)
class Bill:
    design: Design
    month: schedule.Month
    per_tick: dict[str, Any]
    items: list[Item]

    def as_dict(self, symbols: int) -> dict[str, object]:
        """The bill as `marketdata cost --json` prints it: the totals are the sums of the
        items as shown (rounded to 1/100 of a cent)."""
        rounded = [item.rounded() for item in self.items]
        items = [item.as_dict() for item in rounded]
        return {
            "symbols": symbols,
            "schedule": self.design.schedule,
            "ticks_per_month": round(self.month.invocations),
            "per_tick": self.per_tick,
            "monthly_usd": {
                "month_1": round(sum(i.month_1_usd for i in rounded), 4),
                "month_12": round(sum(i.month_12_usd for i in rounded), 4),
            },
            "items": items,
        }


def duration_s(tick: TickCost, memory_mb: int) -> float:
    """The tick's duration on a Lambda of `memory_mb`."""
    return tick.compute_s * max(1.0, FULL_VCPU_MB / memory_mb) + tick.aws_s


# The always-free tiers (prices.json's free_tier), in each price's unit.
ALWAYS_FREE = {
    "lambda_arm64_gb_second": 400_000,
    "lambda_x86_gb_second": 400_000,
    "lambda_request": 1_000_000,
    "scheduler_invocation": 14_000_000,
    "cloudwatch_logs_ingested_gb": 5,
    "cloudwatch_metric_month": 10,
    "cloudwatch_alarm_metric_month": 10,
    "xray_trace_recorded": 100_000,
}


def _flat(name: str, quantity: float, price: str) -> Item:
    unit = prices()[price]["usd"]
    return Item(name, quantity, unit, quantity * unit, quantity * unit, ALWAYS_FREE.get(price, 0))


def _growing(name: str, month_1: float, month_12: float, price: str) -> Item:
    unit = prices()[price]["usd"]
    return Item(name, month_12, unit, month_1 * unit, month_12 * unit)


def _seeded(tick: TickCost, symbols: int) -> TickCost:
    """The seed's tick: every symbol written, raw as the provider sent it."""
    from dataclasses import replace

    kept = dict(tick.kept_bytes) | {"raw/": tick.raw_plain_bytes}
    objects = dict(tick.object_bytes) | {"raw/": tick.raw_plain_bytes}
    return replace(
        tick,
        write_units=max(tick.write_units, float(symbols)),
        kept_bytes=kept,
        object_bytes=objects,
    )


def bill(measured: Measurement, design: Design, infra: Infra) -> Bill:
    """The monthly bill of `design` from `measured` ticks."""
    month = schedule.every_minute_ticks() if design.seed else schedule.month(design.schedule)
    opened, closed = measured.open, measured.closed
    if design.seed:
        opened = _seeded(opened, measured.symbols)
    memory = SEED_MEMORY_MB if design.seed else design.memory_mb
    both = ((opened, month.open), (closed, month.closed))
    arm = "x86" not in str(infra.resource("aws_lambda_function", "tick").attribute("architectures"))
    lambda_price = "lambda_arm64_gb_second" if arm and not design.seed else "lambda_x86_gb_second"
    gb_s = sum(duration_s(t, memory) * n for t, n in both) * memory / 1024
    requests = {
        name: sum(t.requests.get(name, 0.0) * n for t, n in both)
        for name in {*opened.requests, *closed.requests}
    }
    s3 = {name.split(".", 1)[1]: n for name, n in requests.items() if name.startswith("s3.")}
    puts = sum(n for op, n in s3.items() if op in _PUT_CLASS)
    gets = sum(n for op, n in s3.items() if op not in _PUT_CLASS | _FREE_S3)
    items = [
        _flat(
            f"Lambda compute ({'arm64' if 'arm64' in lambda_price else 'x86'} GB-s at {memory} MB)",
            gb_s,
            lambda_price,
        ),
        _flat("Lambda requests", month.invocations, "lambda_request"),
        _flat("EventBridge Scheduler invocations", month.invocations, "scheduler_invocation"),
        _flat("S3 PUT, COPY, POST, LIST requests", puts, "s3_put_request"),
        _flat("S3 GET and other requests", gets, "s3_get_request"),
        *_storage(both, infra, design.seed),
        *_dynamodb(both, month, measured.table_bytes),
        *_cloudwatch(both, month, infra),
        *_fixed(month, infra),
    ]
    per_tick = opened.counts() | {
        "duration_s": round(duration_s(opened, memory), 4),
        "closed_minute": closed.counts() | {"duration_s": round(duration_s(closed, memory), 4)},
        "open_ticks_per_month": round(month.open),
    }
    return Bill(design, month, per_tick, items)


def _storage(both: tuple[tuple[TickCost, float], ...], infra: Infra, seed: bool) -> list[Item]:
    """S3 storage by class and the lifecycle's transitions, month 1 and month 12."""
    rules = lifecycle.rules(infra)
    if seed:
        rules = [r for r in rules if r.id in SEED_RULES]
    per_day = lifecycle.DAYS_PER_MONTH
    daily: dict[str, float] = {}
    objects: dict[str, float] = {}
    for tick, n in both:
        for prefix, size in tick.kept_bytes.items():
            daily[prefix] = daily.get(prefix, 0.0) + size * n / per_day
            objects[prefix] = objects.get(prefix, 0.0) + n / per_day
    sizes = {prefix: daily[prefix] / objects[prefix] for prefix in daily if objects[prefix]}
    deleted = sum(tick.deleted_bytes * n for tick, n in both) / per_day
    first, twelfth = (
        lifecycle.month(daily, sizes, objects, deleted, rules, number) for number in (1, 12)
    )
    return [
        _growing(
            "S3 Standard storage (GB-month)",
            first.gib_months.get("STANDARD", 0.0),
            twelfth.gib_months.get("STANDARD", 0.0),
            "s3_standard_gb_month",
        ),
        _growing(
            "S3 Standard-IA storage (GB-month)",
            first.gib_months.get("STANDARD_IA", 0.0),
            twelfth.gib_months.get("STANDARD_IA", 0.0),
            "s3_standard_ia_gb_month",
        ),
        _growing(
            "S3 lifecycle transitions",
            first.transitions,
            twelfth.transitions,
            "s3_transition_ia_request",
        ),
    ]


def _dynamodb(
    both: tuple[tuple[TickCost, float], ...], month: schedule.Month, table_bytes: float
) -> list[Item]:
    writes = sum(t.write_units * n for t, n in both)
    # The dashboard's Scan of the table each open minute: eventually consistent, half a unit
    # per 4 KB read.
    scans = month.open * math.ceil(table_bytes / 4096) * 0.5
    reads = sum(t.read_units * n for t, n in both) + scans
    gb = table_bytes / lifecycle.GIB
    storage = (
        prices()["dynamodb_storage_gb_month"]["usd"] + prices()["dynamodb_pitr_gb_month"]["usd"]
    )
    return [
        _flat("DynamoDB write request units (on-demand)", writes, "dynamodb_write_request_unit"),
        _flat("DynamoDB read request units (on-demand)", reads, "dynamodb_read_request_unit"),
        Item(
            "DynamoDB storage and point-in-time recovery (GB-month)",
            gb,
            storage,
            gb * storage,
            gb * storage,
        ),
    ]


def _cloudwatch(
    both: tuple[tuple[TickCost, float], ...], month: schedule.Month, infra: Infra
) -> list[Item]:
    logged = sum((t.log_bytes + PLATFORM_LOG_BYTES) * n for t, n in both) / 10**9
    retention = infra.number(infra.default("log_retention_days"), f"{infra.folder}/variables.tf")
    per_day = logged / lifecycle.DAYS_PER_MONTH

    def stored(number: int) -> float:
        first = round((number - 1) * lifecycle.DAYS_PER_MONTH)
        days = range(first, round(number * lifecycle.DAYS_PER_MONTH))
        return sum(per_day * min(day + 1, retention) for day in days) / len(days)

    metrics = len({name for t, _ in both for name in t.metrics})
    metric_months = metrics * month.hours_active / (365 * 24 / 12)
    return [
        _flat("CloudWatch Logs ingested (GB)", logged, "cloudwatch_logs_ingested_gb"),
        _growing(
            "CloudWatch Logs stored (GB-month)",
            stored(1),
            stored(12),
            "cloudwatch_logs_stored_gb_month",
        ),
        _flat(
            f"CloudWatch custom metrics ({metrics}, billed by the hour sent)",
            metric_months,
            "cloudwatch_metric_month",
        ),
        _flat("X-Ray traces", month.invocations if _traced(infra) else 0.0, "xray_trace_recorded"),
    ]


def _traced(infra: Infra) -> bool:
    tracing = infra.resource("aws_lambda_function", "tick").block("tracing_config")
    mode = tracing.attribute("mode") if tracing else None
    return mode is not None and infra.string(mode, "lambda.tf tracing_config") == "Active"


def alarm_metrics(infra: Infra) -> int:
    """The metrics the declared alarms watch (a metric-math alarm: each metric in it)."""
    count = 0
    for alarm in infra.resources("aws_cloudwatch_metric_alarm"):
        queries = alarm.blocks("metric_query")
        count += sum(len(q.blocks("metric")) for q in queries) if queries else 1
    return count


def _fixed(month: schedule.Month, infra: Infra) -> list[Item]:
    keep = infra.number(infra.default("ecr_keep_images"), f"{infra.folder}/variables.tf")
    image_gb = [min(number * RELEASES_PER_MONTH, keep) * IMAGE_GB for number in (1, 12)]
    scanned_tb = ATHENA_QUERIES_PER_MONTH * ATHENA_MIN_BYTES / 10**12
    return [
        _flat("CloudWatch alarm metrics", alarm_metrics(infra), "cloudwatch_alarm_metric_month"),
        _growing("ECR image storage (GB-month)", image_gb[0], image_gb[1], "ecr_storage_gb_month"),
        _flat("Athena history queries (TB scanned)", scanned_tb, "athena_tb_scanned"),
    ]

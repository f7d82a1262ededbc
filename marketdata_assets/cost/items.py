"""A bill's items beyond Lambda's and the requests': S3 storage under the lifecycle rules,
DynamoDB, CloudWatch and X-Ray, and the fixed ones (alarms, images, Athena)."""

from __future__ import annotations

import math

from marketdata_assets.cost import capacity, lifecycle, schedule
from marketdata_assets.cost.infra import Infra
from marketdata_assets.cost.measure import TickCost
from marketdata_assets.cost.pricing import Item, flat, growing, prices

# Lambda's own lines per invocation (START, END, REPORT and X-Ray's), about this many bytes.
PLATFORM_LOG_BYTES = 420
# Assumptions the ticks cannot measure: one image release a month of this compressed size;
# a dashboard polling the latest prices (one Scan of the table) once a minute while the market
# is open; history queries through Athena, each under its 10 MB minimum.
IMAGE_GB = 0.3
RELEASES_PER_MONTH = 1
ATHENA_QUERIES_PER_MONTH = 1_000
ATHENA_MIN_BYTES = 10 * 10**6
# The lifecycle rules the seed's design had.
SEED_RULES = ("raw", "quarantine", "athena-results", "locks", "noncurrent-versions-and-uploads")
Ticks = tuple[tuple[TickCost, float], ...]  # (an invocation's cost, how many a month)


def storage(both: Ticks, infra: Infra, seed: bool) -> list[Item]:
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
        growing(
            "S3 Standard storage (GB-month)",
            first.gib_months.get("STANDARD", 0.0),
            twelfth.gib_months.get("STANDARD", 0.0),
            "s3_standard_gb_month",
        ),
        growing(
            "S3 Standard-IA storage (GB-month)",
            first.gib_months.get("STANDARD_IA", 0.0),
            twelfth.gib_months.get("STANDARD_IA", 0.0),
            "s3_standard_ia_gb_month",
        ),
        growing(
            "S3 lifecycle transitions",
            first.transitions,
            twelfth.transitions,
            "s3_transition_ia_request",
        ),
    ]


def dynamodb(
    both: Ticks,
    month: schedule.Month,
    table_bytes: float,
    infra: Infra,
    seed: bool,
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
    if not seed and capacity.mode(infra) == "provisioned":
        write_hours, read_hours = capacity.provisioned_unit_hours(infra)
        units = [
            flat(
                "DynamoDB write capacity (provisioned unit-hours)", write_hours, "dynamodb_wcu_hour"
            ),
            flat(
                "DynamoDB read capacity (provisioned unit-hours)", read_hours, "dynamodb_rcu_hour"
            ),
        ]
    else:
        units = [
            flat("DynamoDB write request units (on-demand)", writes, "dynamodb_write_request_unit"),
            flat("DynamoDB read request units (on-demand)", reads, "dynamodb_read_request_unit"),
        ]
    return [
        *units,
        Item(
            "DynamoDB storage and point-in-time recovery (GB-month)",
            gb,
            storage,
            gb * storage,
            gb * storage,
        ),
    ]


def cloudwatch(both: Ticks, month: schedule.Month, infra: Infra) -> list[Item]:
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
        flat("CloudWatch Logs ingested (GB)", logged, "cloudwatch_logs_ingested_gb"),
        growing(
            "CloudWatch Logs stored (GB-month)",
            stored(1),
            stored(12),
            "cloudwatch_logs_stored_gb_month",
        ),
        flat(
            f"CloudWatch custom metrics ({metrics}, billed by the hour sent)",
            metric_months,
            "cloudwatch_metric_month",
        ),
        flat("X-Ray traces", month.invocations if _traced(infra) else 0.0, "xray_trace_recorded"),
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


def fixed(month: schedule.Month, infra: Infra) -> list[Item]:
    keep = infra.number(infra.default("ecr_keep_images"), f"{infra.folder}/variables.tf")
    image_gb = [min(number * RELEASES_PER_MONTH, keep) * IMAGE_GB for number in (1, 12)]
    scanned_tb = ATHENA_QUERIES_PER_MONTH * ATHENA_MIN_BYTES / 10**12
    return [
        flat("CloudWatch alarm metrics", alarm_metrics(infra), "cloudwatch_alarm_metric_month"),
        growing("ECR image storage (GB-month)", image_gb[0], image_gb[1], "ecr_storage_gb_month"),
        flat("Athena history queries (TB scanned)", scanned_tb, "athena_tb_scanned"),
    ]

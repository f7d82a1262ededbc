"""A monthly bill from measured ticks (`measure`), the price table (`prices.json`) and what
`infra/` declares (`infra`, `lifecycle`): one item per thing AWS charges for, month 1 and
month 12 (storage and images accumulate), list prices, no free tier.

Lambda's duration at a memory size: a tick's compute (its time outside AWS calls) runs on the
CPU share Lambda gives that memory, one full vCPU at 1,769 MB and proportionally less below
(the tick is single-threaded Python: more than one vCPU does not shorten it); its time waiting
on AWS does not change. What the measurement cannot see is an assumption named below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from marketdata_assets.cost import items, schedule
from marketdata_assets.cost.infra import Infra
from marketdata_assets.cost.measure import Measurement, TickCost
from marketdata_assets.cost.pricing import Item, flat

FULL_VCPU_MB = 1769
# The seed's design: the Lambda on x86 with its 2,048 MB default, the lifecycle rules it had.
SEED_MEMORY_MB = 2048
_PUT_CLASS = {"PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects"}
_PUT_CLASS |= {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
_FREE_S3 = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}


@dataclass(frozen=True)
class Design:
    """What is being priced: ours (as infra/ declares it) or the seed's."""

    schedule: str
    memory_mb: int
    seed: bool = False


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


def _seeded(tick: TickCost, symbols: int) -> TickCost:
    """The seed's tick: every symbol written, raw as the provider sent it."""
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
    billed = [
        flat(
            f"Lambda compute ({'arm64' if 'arm64' in lambda_price else 'x86'} GB-s at {memory} MB)",
            gb_s,
            lambda_price,
        ),
        flat("Lambda requests", month.invocations, "lambda_request"),
        flat("EventBridge Scheduler invocations", month.invocations, "scheduler_invocation"),
        flat("S3 PUT, COPY, POST, LIST requests", puts, "s3_put_request"),
        flat("S3 GET and other requests", gets, "s3_get_request"),
        *items.storage(both, infra, design.seed),
        *items.dynamodb(both, month, measured.table_bytes, infra, design.seed),
        *items.cloudwatch(both, month, infra),
        *items.fixed(month, infra),
    ]
    per_tick = opened.counts() | {
        "duration_s": round(duration_s(opened, memory), 4),
        "closed_minute": closed.counts() | {"duration_s": round(duration_s(closed, memory), 4)},
        "open_ticks_per_month": round(month.open),
    }
    return Bill(design, month, per_tick, billed)

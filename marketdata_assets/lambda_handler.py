"""AWS Lambda entry point: one scheduled event, one tick of the same `tick_job`.

The tick is the event's scheduled time floored to the minute, so a redelivered event is the
same tick: once its tick has succeeded (its run record says so) it is a duplicate delivery, not
run again. Every invocation prints one JSON line with its metrics in CloudWatch embedded metric
format; any failure then raises: the invocation fails and the event goes to the dead-letter
queue. Every run, and every closed-market skip, leaves a run record (see `run_records`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marketdata_assets import stores
from marketdata_assets.errors import ConfigError
from marketdata_assets.lake import ObjectStore
from marketdata_assets.market.ticks import format_tick, parse_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S, lambda_fetch_deadline_s
from marketdata_assets.settings import Settings, aws_variables

METRIC_NAMESPACE = "MarketData"
# The custom metrics of each invocation's line (the other counts are plain fields).
METRICS = ("Ticks", "Quarantined", "ProviderErrors")


def scheduled_tick(event: Mapping[str, Any]) -> datetime:
    """The tick of an EventBridge Scheduler input (`scheduled_time`) or a classic scheduled
    event (`time`)."""
    for field in ("scheduled_time", "time"):
        if isinstance(event.get(field), str):
            return parse_tick(event[field], source=f"event field {field}", window_s=FUTURE_WINDOW_S)
    raise ConfigError("event: needs a scheduled_time (Scheduler) or time (EventBridge) field")


def handler(event: Mapping[str, Any], context: Any) -> dict[str, object]:
    origin = RunOrigin("lambda", getattr(context, "aws_request_id", None))
    fields: dict[str, object] = {}
    try:
        tick = scheduled_tick(event)
        fields["tick"] = format_tick(tick)
        settings = Settings.from_env()
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        deadline_ms = 0
        if remaining_ms is not None:  # fetch only in what the invocation has left (time_budget)
            left_ms = remaining_ms()
            deadline_s = lambda_fetch_deadline_s(left_ms, settings.fetch_deadline_s)
            settings = settings.with_overrides(fetch_deadline_s=deadline_s)
            # the invocation's end by this runner's clock, as the context counts it: the wait
            # for the tick's lock ends before it
            deadline_ms = int(time.time() * 1000) + left_ms
        result, extra = _tick(settings, tick, origin, deadline_ms)
    except Exception as error:
        counts = getattr(error, "counts", None) or {}  # a failed run's counts so far
        cause = " ".join(str(error).split())
        _log({**fields, **counts, "outcome": "failed", "cause": cause}, context, origin)
        raise
    outcome = "skipped" if "skipped" in result else "succeeded"
    _log({**result, **extra, "outcome": outcome}, context, origin)
    return result


def _tick(
    settings: Settings, tick: datetime, origin: RunOrigin, deadline_ms: int = 0
) -> tuple[dict[str, object], dict[str, object]]:
    """Skip a closed-market minute (recorded) or a duplicate delivery (not recorded: the first
    delivery's record stays), else run the tick: its result, and what only the log gets."""
    store = stores.lake_store(settings)
    if not settings.always_open:
        from marketdata_assets.market.calendar import nyse_open

        if not nyse_open(tick):
            skip = run_records.skipped(tick, origin, run_records.MARKET_CLOSED)
            run_records.write_unless_recorded(store, skip)
            return {"skipped": run_records.MARKET_CLOSED, "tick": format_tick(tick)}, {}
    # Lambda may deliver an event twice: a tick that already succeeded is not run again.
    earlier = _record_of(store, tick)
    if earlier is not None and earlier["outcome"] == "succeeded":
        skipped: dict[str, object] = {
            "skipped": run_records.DUPLICATE_DELIVERY,
            "tick": format_tick(tick),
        }
        return skipped, {"first_request_id": earlier["request_id"]}

    from marketdata_assets.providers.prefetch import prefetching

    # The fetch is I/O and needs neither Dagster nor Great Expectations: it runs while they
    # import (seconds on a cold start), and the run's raw_ticks takes its payload.
    with prefetching(settings, tick):
        import great_expectations  # noqa: F401  (the gate's import, done while the fetch runs)

        from marketdata_assets.execution.tick import run_tick

        # An ephemeral, in-memory instance with telemetry off: nothing is written to the
        # read-only HOME, and a redelivered event needs no run history to be the same tick.
        summary = run_tick(settings, tick, origin=origin, deadline_ms=deadline_ms)
    return summary.as_dict(), {"reasons": summary.reasons}


def _record_of(store: ObjectStore, tick: datetime) -> dict[str, Any] | None:
    """The tick's run record; None also when the lake cannot be read (the tick then runs, and
    fails on the same storage, which is reported like any failure)."""
    try:
        return run_records.read(store, tick)
    except (OSError, RuntimeError):
        return None


def _log(fields: dict[str, object], context: Any, origin: RunOrigin) -> None:
    """One JSON line per invocation: the tick's fields for CloudWatch Logs Insights, and its
    metrics in CloudWatch embedded metric format (every invocation counts one tick)."""
    duration_ms = origin.elapsed_ms()
    line = {
        "message": "tick",
        "request_id": origin.request_id,
        **fields,
        "duration_ms": duration_ms,  # the invocation's (the tick's own is in its record)
        **embedded_metrics(_function_name(context), fields, duration_ms),
    }
    print(json.dumps(line), file=sys.stdout, flush=True)


def embedded_metrics(
    function: str, fields: Mapping[str, object], duration_ms: int
) -> dict[str, object]:
    """The EMF members of a tick's log line: namespace MarketData, dimension Function.

    Each custom metric costs $0.30 a month (prorated by the hours it is sent; `marketdata
    cost` prices them), so only three are metrics: `Ticks` (the missing-ticks alarm's),
    `Quarantined` and `ProviderErrors` (what the data and the provider did). `Validated`,
    `Failed` and `DurationMs` stay fields of the line for Logs Insights: Lambda's own free
    `Errors` and `Duration` metrics already count failures and time."""
    values = {
        "Ticks": 1,
        "Validated": _count(fields, "validated"),
        "Quarantined": _count(fields, "quarantined"),
        "ProviderErrors": _count(fields, "provider_errors"),
        "Failed": int(fields.get("outcome") == "failed"),
        "DurationMs": duration_ms,
    }
    return {
        "_aws": {
            "Timestamp": round(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in METRICS],
                }
            ],
        },
        "Function": function,
        **values,
    }


def _count(fields: Mapping[str, object], name: str) -> int:
    value = fields.get(name)
    return value if isinstance(value, int) else 0


def _function_name(context: Any) -> str:
    """The function's name (the metrics' dimension): the context's, else the runtime's variable."""
    name = getattr(context, "function_name", None) or aws_variables().get(
        "AWS_LAMBDA_FUNCTION_NAME"
    )
    return str(name or "unknown")

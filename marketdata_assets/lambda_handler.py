"""AWS Lambda entry point: one scheduled event, one tick of the same `tick_job`.

The tick is the event's scheduled time floored to the minute, so a redelivered event is the
same tick and rewrites the same objects. Any failure raises: the invocation fails and the event
goes to the dead-letter queue.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import Settings
from marketdata_assets.ticks import format_tick, parse_tick
from marketdata_assets.time_budget import lambda_fetch_deadline_s


def scheduled_tick(event: Mapping[str, Any]) -> datetime:
    """The tick of an EventBridge Scheduler input (`scheduled_time`) or a classic scheduled
    event (`time`)."""
    for field in ("scheduled_time", "time"):
        if isinstance(event.get(field), str):
            return parse_tick(event[field], source=f"event field {field}")
    raise ConfigError("event: needs a scheduled_time (Scheduler) or time (EventBridge) field")


def handler(event: Mapping[str, Any], context: Any) -> dict[str, object]:
    started = time.perf_counter()
    tick = scheduled_tick(event)
    settings = Settings.from_env()
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is not None:  # fetch only in what the invocation has left (time_budget)
        deadline_s = lambda_fetch_deadline_s(remaining_ms(), settings.fetch_deadline_s)
        settings = settings.with_overrides(fetch_deadline_s=deadline_s)
    if not settings.always_open:
        from marketdata_assets.market_hours import nyse_open

        if not nyse_open(tick):
            result: dict[str, object] = {"skipped": "market closed", "tick": format_tick(tick)}
            _log(result, context, started)
            return result

    from marketdata_assets.runner import run_tick

    # An ephemeral, in-memory instance with telemetry off: nothing is written to the read-only
    # HOME, and a redelivered event needs no run history to be the same tick.
    summary = run_tick(settings, tick)
    result = summary.as_dict()
    _log({**result, "reasons": summary.reasons}, context, started)
    return result


def _log(fields: dict[str, object], context: Any, started: float) -> None:
    """One structured JSON line per tick, for CloudWatch Logs Insights."""
    line = {
        "message": "tick",
        "request_id": getattr(context, "aws_request_id", None),
        "duration_ms": round((time.perf_counter() - started) * 1000),
        **fields,
    }
    print(json.dumps(line), file=sys.stdout, flush=True)

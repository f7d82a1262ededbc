"""Which tick a run processes: its `marketdata/tick` tag, or the minute the run was created."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import DagsterInstance

from marketdata_assets.market.ticks import TICK_TAG, floor_minute, format_tick, parse_tick


def tick_of_run(tags: Mapping[str, str], instance: DagsterInstance, run_id: str) -> datetime:
    """The run's tick. A run launched from the UI without the tag takes its creation minute,
    so every step of one run agrees on the tick."""
    if TICK_TAG in tags:
        return parse_tick(tags[TICK_TAG], source=f"run tag {TICK_TAG}")
    record = instance.get_run_record_by_id(run_id)
    created = record.create_timestamp if record else datetime.now(UTC)
    return floor_minute(created)


def tick_of_step(step_context: Any) -> datetime:
    return tick_of_run(step_context.dagster_run.tags, step_context.instance, step_context.run_id)


def tick_tags(tick: datetime) -> dict[str, str]:
    return {TICK_TAG: format_tick(tick)}

"""The tick job and the schedule that runs it every minute."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from marketdata_assets.defs.tick import tick_tags
from marketdata_assets.ticks import floor_minute, format_tick

tick_job = define_asset_job(
    "tick_job",
    selection=AssetSelection.groups("ticks"),
    description="One minute tick: fetch, land raw, curate, gate, update latest prices.",
)


@schedule(
    job=tick_job,
    cron_schedule="* * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
)
def tick_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Every minute, the tick for the scheduled minute (a retried evaluation is the same run)."""
    tick = floor_minute(context.scheduled_execution_time)
    return RunRequest(run_key=format_tick(tick), tags=tick_tags(tick))

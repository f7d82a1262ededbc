"""The jobs: the minute tick and its schedule; the history over sessions, and the daily
compaction of the tick stream after each close."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    define_asset_job,
    schedule,
)

from marketdata_assets.defs.partitions import trading_sessions
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


history_job = define_asset_job(
    "history_job",
    selection=AssetSelection.groups("history") - AssetSelection.assets("validated_daily"),
    partitions_def=trading_sessions,
    description="History over NYSE sessions: raw responses, bars gate, daily bars, analytics.",
)
compaction_job = define_asset_job(
    "compaction_job",
    selection=AssetSelection.assets("validated_daily"),
    partitions_def=trading_sessions,
    description="Fold one session's validated minute objects into one Parquet.",
)
# Each session's compaction runs once its day is over (the partition exists from midnight).
compaction_schedule = build_schedule_from_partitioned_job(
    compaction_job, hour_of_day=1, default_status=DefaultScheduleStatus.STOPPED
)

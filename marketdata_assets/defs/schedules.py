"""The jobs: the minute tick and its schedule, the freshness watch on latest prices; the
history and the forecasts over sessions, and the daily compaction after each close (the tick
stream's session, the minute bars' month).

The tick and the history run every step in one process, so a tick run holds its minute's lock
from its first write to its end (`defs.tick`) and a history run its sessions' locks from its
first read of their raw to its end (`defs.history_run`; its steps are a chain, so one process
loses no parallelism); the forecasts and the compaction hold no lock and run their steps in
parallel processes, one per core.
"""

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
    multiprocess_executor,
    schedule,
)

from marketdata_assets.defs.freshness import AS_OF_TAG, fresh_in_session
from marketdata_assets.defs.partitions import trading_sessions
from marketdata_assets.defs.tick import tick_run_config, tick_tags
from marketdata_assets.market.calendar import EXCHANGE_TZ, nyse_open
from marketdata_assets.market.ticks import floor_minute, format_tick

# Every minute of a regular NYSE session in New York time, weekdays (09:30-09:59, then
# 10:00-15:59): the AWS Scheduler's crons (infra/schedule.tf). Neither knows holidays or early
# closes: the calendar does.
SESSION_CRONS = ("30-59 9 * * 1-5", "* 10-15 * * 1-5")
# Steps of a session job run side by side, one process per core.
parallel_executor = multiprocess_executor.configured(
    {"max_concurrent": os.cpu_count() or 1}, name="parallel_executor"
)

tick_job = define_asset_job(
    "tick_job",
    # The freshness check judges the table, not a tick: it runs on its own schedule.
    selection=AssetSelection.groups("ticks") - AssetSelection.checks(fresh_in_session),
    description="One minute tick: fetch, land raw, curate, gate, update latest prices.",
    executor_def=in_process_executor,
)


@schedule(
    job=tick_job,
    cron_schedule=list(SESSION_CRONS),
    execution_timezone=EXCHANGE_TZ,
    default_status=DefaultScheduleStatus.STOPPED,
)
def tick_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """Every session minute, the tick for the scheduled minute (a retried evaluation is the
    same run); skipped on holidays and after an early close."""
    tick = floor_minute(context.scheduled_execution_time)
    if not nyse_open(tick):
        return SkipReason(f"{format_tick(tick)}: NYSE is closed (holiday or early close)")
    return RunRequest(
        run_key=format_tick(tick), run_config=tick_run_config(tick), tags=tick_tags(tick)
    )


freshness_job = define_asset_job(
    "freshness_job",
    selection=AssetSelection.checks(fresh_in_session),
    description="Is latest_prices fresh? At most 3 minutes old during NYSE sessions.",
)


@schedule(
    job=freshness_job,
    cron_schedule=list(SESSION_CRONS),
    execution_timezone=EXCHANGE_TZ,
    default_status=DefaultScheduleStatus.STOPPED,
)
def freshness_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Every session minute, the freshness check as of that minute (on a holiday it passes,
    market closed: the watch itself is seen running)."""
    minute = floor_minute(context.scheduled_execution_time)
    return RunRequest(run_key=format_tick(minute), tags={AS_OF_TAG: format_tick(minute)})


history_job = define_asset_job(
    "history_job",
    selection=AssetSelection.groups("history")
    - AssetSelection.assets("validated_daily", "minute_bars_monthly"),
    partitions_def=trading_sessions,
    description="History over NYSE sessions: raw responses, bars gate, daily bars, analytics.",
    executor_def=in_process_executor,
)
forecast_job = define_asset_job(
    "forecast_job",
    selection=AssetSelection.groups("forecasts"),
    partitions_def=trading_sessions,
    description="Forecasts as of NYSE sessions: the walk-forward's skill, the served forecasts.",
    executor_def=parallel_executor,
)
compaction_job = define_asset_job(
    "compaction_job",
    selection=AssetSelection.assets("validated_daily", "minute_bars_monthly"),
    partitions_def=trading_sessions,
    description="Fold one session's validated minute objects into one Parquet, and its month's "
    "minute_bars into one object.",
    executor_def=parallel_executor,
)
# Each session's compaction runs once its day is over (the partition exists from midnight).
compaction_schedule = build_schedule_from_partitioned_job(
    compaction_job, hour_of_day=1, default_status=DefaultScheduleStatus.STOPPED
)

"""One batch of consecutive sessions through `history_job`: its run and what it counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult, JobDefinition

from marketdata_assets.execution.tick import failure_line
from marketdata_assets.settings import Settings

# The partition range of a run, as Dagster's own backfills tag it.
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class BatchOutcome:
    """What one run of a batch left: its error (None when it succeeded) and, per session, the
    bars gate's counts."""

    error: str | None
    sessions: dict[str, Any]


def history_job(settings: Settings) -> JobDefinition:
    from marketdata_assets.definitions import build_definitions

    return build_definitions(settings).resolve_job_def("history_job")


def execute_batch(
    job: JobDefinition,
    settings: Settings,
    batch: list[date],
    request: Mapping[str, object],
    instance: DagsterInstance,
) -> BatchOutcome:
    """Run `job` over the sessions of `batch` with raw_history's `request` (HistoryRequest)."""
    result = job.execute_in_process(
        run_config={
            "ops": {"raw_history": {"config": dict(request)}},
            "loggers": {"console": {"config": {"log_level": settings.log_level}}},
        },
        instance=instance,
        tags={RANGE_START: batch[0].isoformat(), RANGE_END: batch[-1].isoformat()},
        raise_on_error=False,
    )
    if not result.success:
        return BatchOutcome(failure_line(result), {})
    return BatchOutcome(None, _check_metadata(result, "bars_conservation", "sessions"))


def _check_metadata(result: ExecuteInProcessResult, check: str, key: str) -> Any:
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == check:
            return evaluation.metadata[key].value
    raise RuntimeError(f"check {check} was not evaluated")

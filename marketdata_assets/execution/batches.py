"""One batch of consecutive sessions through `history_job`: its run and what it counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    JobDefinition,
)

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
    # The corporate-action rows the actions gate refused in the run, per reason code.
    actions_refused: Mapping[str, int] = field(default_factory=dict)


def history_definitions(settings: Settings) -> Definitions:
    from marketdata_assets.definitions import build_definitions

    return build_definitions(settings)


def history_job(settings: Settings) -> JobDefinition:
    return history_definitions(settings).resolve_job_def("history_job")


def execute_batch(
    job: JobDefinition,
    settings: Settings,
    batch: list[date],
    request: Mapping[str, object],
    instance: DagsterInstance,
    assets: Sequence[AssetKey] | None = None,
) -> BatchOutcome:
    """Run `job` (or its `assets` alone) over the sessions of `batch` with raw_history's
    `request` (HistoryRequest). The bars gate's counts come back when it ran."""
    ops = {"raw_history": {"config": dict(request)}}
    if assets is not None and AssetKey("raw_history") not in assets:
        ops = {}  # the fetch ran in an earlier stage (`stages`)
    result = job.execute_in_process(
        run_config={
            "ops": ops,
            "loggers": {"console": {"config": {"log_level": settings.log_level}}},
        },
        instance=instance,
        tags={RANGE_START: batch[0].isoformat(), RANGE_END: batch[-1].isoformat()},
        asset_selection=None if assets is None else list(assets),
        raise_on_error=False,
    )
    if not result.success:
        return BatchOutcome(failure_line(result), {})
    refused = _refused_actions(result)
    if assets is not None and AssetKey("minute_bars") not in assets:
        return BatchOutcome(None, {}, refused)
    return BatchOutcome(None, _check_metadata(result, "bars_conservation", "sessions"), refused)


def _refused_actions(result: ExecuteInProcessResult) -> dict[str, int]:
    """actions_quarantine's reason counts when the run materialised it: the run's, repeated on
    each session's materialisation of the range (so read once)."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == AssetKey("actions_quarantine"):
            reasons = materialization.metadata.get("reasons")
            return {} if reasons is None else dict(cast(Mapping[str, int], reasons.value))
    return {}


def _check_metadata(result: ExecuteInProcessResult, check: str, key: str) -> Any:
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == check:
            return evaluation.metadata[key].value
    raise RuntimeError(f"check {check} was not evaluated")

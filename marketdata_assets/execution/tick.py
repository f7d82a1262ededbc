"""Run one tick of `tick_job` in-process: the code path the CLI and the Lambda share."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance, JobDefinition

from marketdata_assets import stores
from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.launch import RunResult, execute_job_in_process
from marketdata_assets.defs.tick import tick_run_config, tick_tags
from marketdata_assets.lake import aws_requests
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings


class TickFailed(RuntimeError):
    """The tick's run failed; the message says which step and why, `counts` what it had
    counted (a run record's counts; empty when no record was made)."""

    def __init__(self, message: str, counts: dict[str, Any] | None = None):
        super().__init__(message)
        self.counts = counts or {}


@dataclass(frozen=True)
class TickSummary:
    tick: str
    raw: int
    validated: int
    quarantined: int
    latest_updated: int
    latest_stale: int = 0  # validated rows not written: the table held an equal or newer price
    # Symbols not written: an earlier tick gave the table that price and event time (as-of).
    latest_unchanged: int = 0
    provider_errors: int = 0  # requested symbols the provider failed to deliver
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined rows per reason code
    # Under the aws profile: the run's AWS requests per "service.Operation" and the bytes it
    # stored in S3 (`lake.aws_requests`); None under the local profile.
    aws_requests: dict[str, int] | None = None
    bytes_stored: int | None = None
    # Milliseconds from the start of the run (the origin's start) to its last store write (the
    # run record's, when one is written).
    duration_ms: int = 0

    def as_dict(self) -> dict[str, object]:
        """The JSON summary: tick, counts (reasons are in the quarantine listing) and
        duration, and the AWS requests under the aws profile."""
        summary = asdict(self)
        del summary["reasons"]
        if self.aws_requests is None:
            del summary["aws_requests"], summary["bytes_stored"]
        return summary


def run_tick(
    settings: Settings,
    tick: datetime,
    instance: DagsterInstance | None = None,
    origin: RunOrigin | None = None,
    deadline_ms: int = 0,
) -> TickSummary:
    """Materialise the tick graph for `tick`; raise TickFailed when any step fails. Given the
    `origin` (the CLI or the Lambda), the tick's run record is written, succeeded or failed;
    given `deadline_ms` (when the invocation ends), the wait for the tick's lock ends before."""
    started = origin.started if origin is not None else time.perf_counter()
    job = build_definitions(settings).resolve_job_def("tick_job")
    before = aws_requests.snapshot()
    with instance_or_ephemeral(instance) as active:
        result = execute_job_in_process(
            job,
            active,
            run_config={
                **tick_run_config(tick, deadline_ms),
                "loggers": {"console": {"config": {"log_level": settings.log_level}}},
            },
            tags=tick_tags(tick),
        )
    failure = None if result.success else failure_line(result)
    spent = _aws_spent(settings, before)
    record, unrecorded = None, None
    if origin is not None:
        record = run_record(job, result, tick, origin, failure) | spent
        unrecorded = _write_record(settings, record)
    counts = {name: record[name] for name in run_records.COUNTS} if record else None
    if failure:
        note = f"; {unrecorded}" if unrecorded else ""
        raise TickFailed(f"tick {format_tick(tick)} failed: {failure}{note}", counts)
    if unrecorded:
        raise TickFailed(f"tick {format_tick(tick)} succeeded but {unrecorded}", counts)
    duration_ms = round((time.perf_counter() - started) * 1000)
    return replace(_summary(result, tick), **spent, duration_ms=duration_ms)


def _aws_spent(settings: Settings, before: aws_requests.Requests) -> dict[str, Any]:
    """The run's AWS requests and bytes stored since `before` (the aws profile only)."""
    if not stores.is_production(settings):
        return {}
    spent = aws_requests.since(before)
    return {"aws_requests": spent.requests, "bytes_stored": spent.stored}


# Where a record's counts come from: (asset, metadata entry).
_COUNTS = {
    "raw": ("raw_ticks", "records"),
    "validated": ("validated_ticks", "rows"),
    "quarantined": ("quarantined_ticks", "rows"),
    "latest_updated": ("latest_prices", "updated"),
    "latest_stale": ("latest_prices", "stale"),
    "latest_unchanged": ("latest_prices", "unchanged"),
    "provider_errors": ("raw_ticks", "provider_errors"),
}


def run_record(
    job: JobDefinition,
    result: RunResult,
    tick: datetime,
    origin: RunOrigin,
    failure: str | None,
) -> dict[str, Any]:
    """The run record of `result`: each materialised asset with its object key and numeric and
    text metadata, and every check of the job (`evaluated` false where the run stopped first)."""
    assets: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata = {
            name: entry.value
            for name, entry in materialization.metadata.items()
            if isinstance(entry.value, int | float | str)
        }
        asset = materialization.asset_key.to_user_string()
        assets[asset] = {"asset": asset, "key": metadata.pop("key", None), "metadata": metadata}
    evaluated = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}
    checks = []
    for key in sorted(job.asset_layer.asset_graph.asset_check_keys, key=str):
        evaluation = evaluated.get(key)
        checks.append(
            {
                "asset": key.asset_key.to_user_string(),
                "check": key.name,
                "evaluated": evaluation is not None,
                "passed": evaluation.passed if evaluation else None,
                "severity": evaluation.severity.value if evaluation else None,
                "metadata": {n: e.value for n, e in evaluation.metadata.items()}
                if evaluation
                else {},
            }
        )
    fields: dict[str, Any] = {
        name: assets[asset]["metadata"].get(entry) if asset in assets else None
        for name, (asset, entry) in _COUNTS.items()
    }
    if failure:
        fields["cause"] = failure
    return run_records.new_record(
        tick,
        origin,
        "failed" if failure else "succeeded",
        run_id=result.run_id,
        assets=list(assets.values()),
        checks=checks,
        **fields,
    )


def _write_record(settings: Settings, record: dict[str, Any]) -> str | None:
    """Write the run record; None, or what stopped it as a clause."""
    try:
        run_records.write(stores.lake_store(settings), record)
    except (OSError, RuntimeError) as error:  # a folder or bucket the lake cannot write
        return f"its run record was not written: {' '.join(str(error).split())}"
    return None


@contextmanager
def instance_or_ephemeral(given: DagsterInstance | None) -> Iterator[DagsterInstance]:
    """The given instance, or an ephemeral one disposed of afterwards."""
    if given is not None:
        yield given
        return
    # In memory, telemetry off: nothing is written to HOME (read-only on Lambda).
    with DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}}) as owned:
        yield owned


def _metadata(result: RunResult, asset: str, key: str) -> Any:
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.path[-1] == asset:
            return materialization.metadata[key].value
    raise TickFailed(f"asset {asset} was not materialised")


def _summary(result: RunResult, tick: datetime) -> TickSummary:
    return TickSummary(
        tick=format_tick(tick),
        raw=_metadata(result, "raw_ticks", "records"),
        validated=_metadata(result, "validated_ticks", "rows"),
        quarantined=_metadata(result, "quarantined_ticks", "rows"),
        latest_updated=_metadata(result, "latest_prices", "updated"),
        latest_stale=_metadata(result, "latest_prices", "stale"),
        latest_unchanged=_metadata(result, "latest_prices", "unchanged"),
        provider_errors=_metadata(result, "raw_ticks", "provider_errors"),
        reasons=dict(_metadata(result, "quarantined_ticks", "reasons")),
    )


def failure_line(result: RunResult) -> str:
    """One line naming what stopped the run: a failed blocking check and what it saw, else
    the failed step and its cause."""
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != AssetCheckSeverity.ERROR:
            continue
        if evaluation.check_name == "provider_delivered":
            return _provider_failure(evaluation.metadata["errors_by_symbol"].value)
        asset = evaluation.asset_key.to_user_string()
        seen = "; ".join(f"{name} {entry.value}" for name, entry in evaluation.metadata.items())
        return _one_line(
            f"check {asset}/{evaluation.check_name} failed" + (f": {seen}" if seen else "")
        )
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            if error and error.cause:
                message = error.cause.message.strip()
            return _one_line(f"step {event.step_key}: {message}")
        if event.event_type == DagsterEventType.RESOURCE_INIT_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            return _one_line(f"the run's resources: {error.message if error else 'unknown error'}")
    return "the run did not succeed"


def _provider_failure(errors_by_symbol: Any, shown: int = 5) -> str:
    """Every symbol failed: the provider's error per symbol, as the check recorded them."""
    errors = [f"{symbol} {error}" for symbol, error in dict(errors_by_symbol).items()]
    listed = "; ".join(errors[:shown]) + (
        f"; and {len(errors) - shown} more" if len(errors) > shown else ""
    )
    return _one_line("every symbol failed at the provider" + (f": {listed}" if listed else ""))


def _one_line(text: str) -> str:
    return " ".join(text.split())

"""Run one tick of `tick_job` in-process: the code path the CLI and the Lambda share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from dagster import AssetCheckSeverity, DagsterInstance

from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.launch import RunResult, execute_job_in_process
from marketdata_assets.defs.tick import tick_tags
from marketdata_assets.settings import Settings
from marketdata_assets.ticks import format_tick


class TickFailed(RuntimeError):
    """The tick's run failed; the message says which step and why."""


@dataclass(frozen=True)
class TickSummary:
    tick: str
    raw: int
    validated: int
    quarantined: int
    latest_updated: int
    latest_stale: int = 0  # validated rows not written: the table held an equal or newer price
    provider_errors: int = 0  # requested symbols the provider failed to deliver
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined rows per reason code

    def as_dict(self) -> dict[str, object]:
        """The JSON summary: tick and counts (reasons are in the quarantine listing)."""
        summary = asdict(self)
        del summary["reasons"]
        return summary


def run_tick(
    settings: Settings, tick: datetime, instance: DagsterInstance | None = None
) -> TickSummary:
    """Materialise the tick graph for `tick`; raise TickFailed when any step fails."""
    job = build_definitions(settings).resolve_job_def("tick_job")
    with instance_or_ephemeral(instance) as active:
        result = execute_job_in_process(
            job,
            active,
            run_config={"loggers": {"console": {"config": {"log_level": settings.log_level}}}},
            tags=tick_tags(tick),
        )
    if not result.success:
        raise TickFailed(f"tick {format_tick(tick)} failed: {failure_line(result)}")
    return _summary(result, tick)


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

"""Production ticks in Dagster: run records (`runs/…/run.json`, written by the Lambda and the CLI)
reported as runless events, by `production_ticks_sensor` or by `marketdata status --sync`.

A succeeded tick gives an AssetMaterialization per asset and an AssetCheckEvaluation per check;
each materialisation carries the run's duration and, under the aws profile, its `aws_requests`
and `bytes_stored`, the very figures of the tick's summary.
A failed tick gives the materialisations it made, the checks it evaluated as they were, and every
check it never reached as a failed evaluation carrying the cause (Dagster's external API cannot
report a failed materialisation). A skipped tick (market closed, duplicate delivery) reports
nothing: `marketdata status` lists it. An object under `runs/` that is no run record (not JSON,
a field of the wrong type: `run_records.parse`) fails every check of the tick graph, each
evaluation naming its key and the problem, and is passed over. The cursor is the last record
key read, a malformed one included: a record written later at an earlier key (a rerun of an old
tick) is not reported again, and no object jams the sensor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DefaultSensorStatus,
    MetadataValue,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.lake import ObjectStore
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import OnSkip, Skipped

# Records reported per evaluation: a sensor that fell behind catches up in bounded steps.
RECORDS_PER_EVALUATION = 60
# Where `marketdata status --sync` keeps its cursor: the instance's key-value store.
SYNC_CURSOR = "marketdata/production_ticks_sync"

TickEvent = AssetMaterialization | AssetCheckEvaluation


@dataclass(frozen=True)
class Report:
    """The events of the records after a cursor, and the cursor after them."""

    events: list[TickEvent]
    cursor: str | None
    records: int


def records_after(
    store: ObjectStore,
    cursor: str | None,
    now: datetime | None = None,
    limit: int = RECORDS_PER_EVALUATION,
    on_skip: OnSkip = run_records.warn,
) -> Report:
    """The events of up to `limit` records after `cursor` (a record key), oldest first; an
    object that is no record gives failed checks (`malformed_events`) and goes to `on_skip`."""
    keys = run_records.keys_after(store, cursor, limit, now)
    events: list[TickEvent] = []
    for key in keys:
        found = run_records.parse(key, store.get(key))
        if isinstance(found, Skipped):
            on_skip(found)
            events += malformed_events(found)
        else:
            events += tick_events(found)
    return Report(events, keys[-1] if keys else cursor, len(keys))


@cache
def tick_checks() -> tuple[AssetCheckKey, ...]:
    """Every check of the tick graph (what `tick_job` runs), from the tick assets' own specs."""
    from marketdata_assets.defs import assets, checks

    defined = [
        assets.raw_ticks,
        assets.curated_ticks,
        assets.quality_gate,
        assets.latest_prices_asset("sqlite"),
        *checks.tick_checks(),
    ]
    return tuple(sorted({key for d in defined for key in d.check_keys}, key=str))


def malformed_events(skipped: Skipped) -> list[AssetCheckEvaluation]:
    """A malformed record's events: every check of the tick graph failed, naming its key and
    its problem (what the tick did is unknown; a failed tick's unreached checks look alike)."""
    minute = run_records.minute_of_key(skipped.key)
    tick = None if minute is None else format_tick(minute)
    about = {"key": skipped.key, "problem": skipped.problem, **({"tick": tick} if tick else {})}
    return [
        AssetCheckEvaluation(
            asset_key=check.asset_key,
            check_name=check.name,
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            metadata=about,
            description=f"production tick {tick or '?'}: its run record {skipped.key} is "
            f"malformed: {skipped.problem}",
        )
        for check in tick_checks()
    ]


def tick_events(record: Mapping[str, Any]) -> list[TickEvent]:
    """A record's runless events (none for a skipped tick)."""
    if record["outcome"] == "skipped":
        return []
    tick = record["tick"]
    about: dict[str, Any] = {"tick": tick, "source": record["source"]}
    if record.get("request_id"):
        about["request_id"] = record["request_id"]
    # Asset-event tag values may not contain ':' (2026-11-25T14:31Z becomes 2026-11-25T1431Z).
    tags = {"marketdata/tick": tick.replace(":", ""), "marketdata/source": record["source"]}
    # The run's own figures, on each asset as on the run's summary: its duration, and under the
    # aws profile its AWS requests and the bytes it stored.
    spent: dict[str, Any] = {"duration_ms": record["duration_ms"]}
    if record.get("aws_requests") is not None:
        spent["aws_requests"] = MetadataValue.json(record["aws_requests"])
        spent["bytes_stored"] = record.get("bytes_stored")
    events: list[TickEvent] = []
    for asset in record["assets"]:
        key = {"key": asset["key"]} if asset.get("key") else {}
        events.append(
            AssetMaterialization(
                asset_key=AssetKey.from_user_string(asset["asset"]),
                description=f"production tick {tick} ({record['source']})",
                metadata={**asset["metadata"], **key, **about, **spent},
                tags=tags,
            )
        )
    for check in record["checks"]:
        events.extend(_check_event(check, record, about))
    return events


def _check_event(
    check: Mapping[str, Any], record: Mapping[str, Any], about: dict[str, Any]
) -> list[AssetCheckEvaluation]:
    asset_key = AssetKey.from_user_string(check["asset"])
    if check["evaluated"]:
        return [
            AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=check["check"],
                passed=check["passed"],
                severity=AssetCheckSeverity(check["severity"]),
                metadata={**check["metadata"], **about},
                description=f"production tick {record['tick']} ({record['source']})",
            )
        ]
    if record["outcome"] != "failed":
        return []
    cause = record.get("cause") or "unknown"
    return [
        AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=check["check"],
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            metadata={"cause": cause, **about},
            description=f"production tick {record['tick']} failed before this check: {cause}",
        )
    ]


def production_ticks_sensor(running: bool) -> SensorDefinition:
    """The sensor, running by default when the lake is the production bucket (`running`);
    stopped locally, where CLI ticks with DAGSTER_HOME set are already runs of the instance."""

    @sensor(
        name="production_ticks_sensor",
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        description="Reports production ticks (the lake's run records, from the Lambda and "
        "the CLI) as runless materialisations and check evaluations; failed ticks as failed "
        "checks.",
    )
    def _sensor(context: SensorEvaluationContext, lake: LakeResource) -> SensorResult:
        def logged(skipped: Skipped) -> None:
            context.log.warning(skipped.warning)

        report = records_after(lake.store(), context.cursor, on_skip=logged)
        return SensorResult(asset_events=report.events, cursor=report.cursor)

    return _sensor


def sync(
    instance: DagsterInstance,
    store: ObjectStore,
    now: datetime | None = None,
    on_skip: OnSkip = run_records.warn,
) -> int:
    """Report every record after the instance's sync cursor into `instance`, through the
    sensor's own code (a malformed one as failed checks, and to `on_skip`); the number of
    records (and malformed objects) reported."""
    storage = instance.run_storage
    cursor = storage.get_cursor_values({SYNC_CURSOR}).get(SYNC_CURSOR)
    now, reported = now or datetime.now(UTC), 0
    while True:
        report = records_after(store, cursor, now, on_skip=on_skip)
        if not report.records:
            return reported
        for event in report.events:
            instance.report_runless_asset_event(event)
        assert report.cursor is not None  # records were reported
        cursor, reported = report.cursor, reported + report.records
        storage.set_cursor_values({SYNC_CURSOR: cursor})

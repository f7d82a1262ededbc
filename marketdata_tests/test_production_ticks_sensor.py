"""`production_ticks_sensor` on S3 (moto in-process): run records become runless events, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DefaultSensorStatus,
    SensorResult,
    build_sensor_context,
)

from marketdata_assets.definitions import build_definitions, resources_for
from marketdata_assets.defs.sensors import records_after, sync, tick_events
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import LocalObjectStore
from marketdata_assets.market.ticks import floor_minute, format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.conftest import create_lake_and_table
from marketdata_tests.test_definitions_snapshot import committed
from marketdata_tests.test_run_records import CHECKS, provider_down

pytestmark = pytest.mark.graph

ASSETS = set(committed()["jobs"]["tick_job"]["assets"])  # every asset of a tick


@pytest.fixture(scope="module")
def lake() -> Iterator[dict[str, Any]]:
    """A bucket holding the records of three recent ticks, written as the Lambda writes them:
    succeeded, failed (the provider failed every symbol), skipped (market closed)."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            create_lake_and_table("lake", "latest")
            settings = Settings(profile="aws", bucket="lake", table="latest", log_level="CRITICAL")
            ticks = [floor_minute(datetime.now(UTC)) - timedelta(minutes=k) for k in (3, 2, 1)]
            summary = run_tick(settings, ticks[0], origin=RunOrigin("lambda", "req-ok"))
            store = lake_store(settings)
            store.put("feed/down.jsonl", provider_down(("AAPL", "MSFT")).encode())
            down = settings.with_overrides(provider="replay", source="s3://lake/feed/down.jsonl")
            with pytest.raises(TickFailed):
                run_tick(down, ticks[1], origin=RunOrigin("lambda", "req-down"))
            skip = run_records.skipped(ticks[2], RunOrigin("lambda", "req-closed"), "market closed")
            run_records.write(store, skip)
            yield {"settings": settings, "ticks": ticks, "store": store, "summary": summary}


def evaluate(settings: Settings, cursor: str | None, instance: DagsterInstance) -> SensorResult:
    sensor = build_definitions(settings).resolve_sensor_def("production_ticks_sensor")
    with build_sensor_context(
        instance=instance, cursor=cursor, resources=resources_for(settings)
    ) as context:
        result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def materialized(events: list) -> dict[str, AssetMaterialization]:
    return {e.asset_key.to_user_string(): e for e in events if isinstance(e, AssetMaterialization)}


def checked(events: list) -> dict[tuple[str, str], AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in events
        if isinstance(e, AssetCheckEvaluation)
    }


def test_the_sensor_reports_each_record_once_and_its_cursor_moves_to_the_last(lake) -> None:
    settings, ticks = lake["settings"], lake["ticks"]
    with DagsterInstance.ephemeral() as instance:
        first = evaluate(settings, None, instance)
        assert first.cursor == run_records.record_key(ticks[2])  # the skipped tick's, the last
        again = evaluate(settings, first.cursor, instance)
        assert (again.asset_events, again.cursor) == ([], first.cursor)
        # From the first record's key on, only the two later records are reported.
        after_first = evaluate(settings, run_records.record_key(ticks[0]), instance)
    later = [run_records.read(lake["store"], tick) for tick in ticks[1:]]
    expected = [event for record in later if record for event in tick_events(record)]
    assert after_first.asset_events == expected
    assert len(expected) == 1 + len(CHECKS)  # the failed tick's raw and checks; the skip's none


def test_a_succeeded_tick_gives_every_materialization_and_check_with_its_origin(lake) -> None:
    settings, ticks = lake["settings"], lake["ticks"]
    with DagsterInstance.ephemeral() as instance:
        events = evaluate(settings, None, instance).asset_events
    tick = format_tick(ticks[0])
    ok = [e for e in events if e.metadata["tick"].value == tick]
    assets, checks = materialized(ok), checked(ok)
    assert set(assets) == ASSETS and set(checks) == CHECKS
    raw = assets["raw_ticks"]
    assert (
        raw.metadata["key"].value
        == f"raw/date={ticks[0]:%Y-%m-%d}/minute={ticks[0]:%H%M}/ticks.jsonl.gz"
    )
    assert (raw.metadata["records"].value, raw.metadata["request_id"].value) == (10, "req-ok")
    assert raw.tags == {"marketdata/tick": tick.replace(":", ""), "marketdata/source": "lambda"}
    assert assets["latest_prices"].metadata["updated"].value == 10
    assert all(c.passed for c in checks.values())
    assert checks[("quarantined_ticks", "quarantine_share")].severity.value == "WARN"


def test_each_asset_of_a_production_tick_carries_its_summarys_aws_requests(lake) -> None:
    """In Dagster, every asset the tick materialised shows the AWS requests and bytes stored of
    the tick's own summary (reported from its run record into the instance)."""
    summary, tick = lake["summary"], lake["ticks"][0]
    assert summary.aws_requests and summary.aws_requests["dynamodb.UpdateItem"] == 10
    record = run_records.read(lake["store"], tick)
    assert record is not None and record["aws_requests"] == summary.aws_requests
    with DagsterInstance.ephemeral() as instance:
        for event in tick_events(record):  # what the sensor and `status --sync` report
            instance.report_runless_asset_event(event)
        for asset in ASSETS:
            event = instance.get_latest_materialization_event(AssetKey.from_user_string(asset))
            assert event is not None and event.asset_materialization is not None
            metadata = event.asset_materialization.metadata
            assert metadata["tick"].value == format_tick(tick)
            assert metadata["aws_requests"].value == summary.aws_requests, asset
            assert metadata["bytes_stored"].value == summary.bytes_stored > 0


def test_a_local_ticks_assets_carry_no_aws_requests(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, log_level="CRITICAL", symbols=("AAPL",))
    tick = floor_minute(datetime.now(UTC)) - timedelta(minutes=1)
    run_tick(settings, tick, origin=RunOrigin("cli"))
    record = run_records.read(lake_store(settings), tick)
    assert record is not None
    assert all("aws_requests" not in e.metadata for e in materialized(tick_events(record)).values())


def test_a_failed_tick_is_failed_check_evaluations_naming_the_cause(lake) -> None:
    settings, ticks = lake["settings"], lake["ticks"]
    with DagsterInstance.ephemeral() as instance:
        events = evaluate(settings, run_records.record_key(ticks[0]), instance).asset_events
    down = [e for e in events if e.metadata["tick"].value == format_tick(ticks[1])]
    assert set(materialized(down)) == {"raw_ticks"}  # the payload landed; nothing after it
    checks = checked(down)
    assert set(checks) == CHECKS and not any(c.passed for c in checks.values())
    delivered = checks[("raw_ticks", "provider_delivered")]
    assert delivered.metadata["errors_by_symbol"].value == {
        "AAPL": "HTTPError: 503",
        "MSFT": "HTTPError: 503",
    }
    cause = "every symbol failed at the provider: AAPL HTTPError: 503; MSFT HTTPError: 503"
    suite = checks[("validated_ticks", "expectation_suite")]
    assert suite.metadata["cause"].value == cause
    assert (
        suite.description
        == f"production tick {format_tick(ticks[1])} failed before this check: {cause}"
    )


def test_a_skipped_tick_reports_nothing_but_moves_the_cursor(lake) -> None:
    settings, ticks = lake["settings"], lake["ticks"]
    with DagsterInstance.ephemeral() as instance:
        result = evaluate(settings, run_records.record_key(ticks[1]), instance)
    assert result.asset_events == []
    assert result.cursor == run_records.record_key(ticks[2])


def test_sync_reports_new_records_into_the_instance_once(lake) -> None:
    with DagsterInstance.ephemeral() as instance:
        assert sync(instance, lake["store"]) == 3
        assert sync(instance, lake["store"]) == 0
        latest = instance.get_latest_materialization_event(AssetKey("latest_prices"))
        assert latest is not None and latest.asset_materialization is not None
        assert latest.asset_materialization.metadata["request_id"].value == "req-ok"
        raw_events = instance.fetch_materializations(AssetKey("raw_ticks"), limit=10).records
        assert len(raw_events) == 2  # the succeeded and the failed tick each landed raw


def test_a_sensor_without_a_cursor_starts_from_the_previous_utc_day(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    tick = datetime(2026, 11, 24, 20, 59, tzinfo=UTC)
    run_records.write(store, run_records.new_record(tick, RunOrigin("cli"), "succeeded"))
    assert records_after(store, None, now=datetime(2026, 11, 25, 9, tzinfo=UTC)).records == 1
    assert records_after(store, None, now=datetime(2026, 11, 26, 9, tzinfo=UTC)).records == 0
    # With a cursor it goes on from the cursor's day, however long ago.
    cursor = run_records.record_key(tick - timedelta(days=40))
    assert records_after(store, cursor, now=datetime(2026, 11, 26, 9, tzinfo=UTC)).records == 1


def test_the_sensor_runs_by_default_only_against_the_production_bucket(tmp_path) -> None:
    local = build_definitions(Settings(data_dir=tmp_path))
    aws = build_definitions(Settings(profile="aws", bucket="lake", table="latest"))
    sensor = "production_ticks_sensor"
    assert local.resolve_sensor_def(sensor).default_status == DefaultSensorStatus.STOPPED
    assert aws.resolve_sensor_def(sensor).default_status == DefaultSensorStatus.RUNNING
    assert local.resolve_sensor_def(sensor).minimum_interval_seconds == 30

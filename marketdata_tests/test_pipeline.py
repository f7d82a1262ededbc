"""The tick graph end to end, in-process through Dagster, on a temporary local lake."""

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.definitions import build_definitions, lake_store, latest_store
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import MINUTE_DATASETS, object_key
from marketdata_assets.lake.codecs import decode, unpacked
from marketdata_assets.providers.stub.quotes import StubProvider
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.graph


def lake_keys(settings: Settings) -> list[str]:
    lake = lake_store(settings)
    return [key for dataset in MINUTE_DATASETS for key in lake.keys(f"{dataset}/")]


def frame(settings: Settings, dataset: str, tick) -> pd.DataFrame:
    value = decode(dataset, lake_store(settings).get(object_key(dataset, tick)))
    assert isinstance(value, pd.DataFrame)
    return value


def test_a_tick_lands_every_dataset_under_its_minute_and_fills_the_table(settings, tick) -> None:
    summary = run_tick(settings, tick)
    lake = lake_store(settings)
    assert lake_keys(settings) == [object_key(d, tick) for d in MINUTE_DATASETS]
    expected_raw = StubProvider(settings.symbols, seed=settings.seed).fetch(tick)
    assert unpacked(object_key("raw", tick), lake.get(object_key("raw", tick))) == expected_raw
    rows = latest_store(settings).all()
    assert [r.symbol for r in rows] == sorted(settings.symbols)
    assert all(r.tick == tick for r in rows)
    assert summary.duration_ms > 0
    assert summary.as_dict() == {
        "tick": "2026-11-25T14:31Z",
        "duration_ms": summary.duration_ms,
        "raw": 10,
        "validated": 10,
        "quarantined": 0,
        "latest_updated": 10,
        "latest_stale": 0,
        "latest_unchanged": 0,
        "provider_errors": 0,
    }


def test_validated_rows_keep_the_day_volume_exchange_zone_and_trading_day(settings, tick) -> None:
    from marketdata_assets.providers.stub.quotes import day_volume
    from marketdata_assets.tick.contracts import VALIDATED_SCHEMA, dtype_violations

    run_tick(settings, tick)
    validated = frame(settings, "validated", tick)
    assert dtype_violations(validated, VALIDATED_SCHEMA) == []
    assert validated["day_volume"].tolist() == [
        day_volume(symbol, tick, settings.seed) for symbol in validated["symbol"]
    ]
    assert set(validated["exchange"]) == {"STUB"}
    assert set(validated["exchange_tz"]) == {"America/New_York"}
    assert set(validated["trading_day"]) == {pd.Timestamp("2026-11-25")}


def test_a_validated_object_missing_a_column_stops_the_run_before_latest_prices(
    settings, tick, monkeypatch
) -> None:
    from marketdata_assets.gate.routing import validated_rows

    def without_zone(curated: pd.DataFrame, verdict) -> pd.DataFrame:
        return validated_rows(curated, verdict).drop(columns="exchange_tz")

    monkeypatch.setattr("marketdata_assets.gate.routing.validated_rows", without_zone)
    # The codec refuses an object of another schema: it never lands, nothing downstream runs.
    with pytest.raises(TickFailed, match=r"quality_gate: .*schema: missing column exchange_tz"):
        run_tick(settings, tick)
    assert latest_store(settings).all() == []
    assert lake_store(settings).keys("validated/") == []


@pytest.mark.parametrize("fault_rate", [0.05, 0.3, 1.0])
def test_raw_records_equal_validated_plus_quarantined(settings, tick, fault_rate) -> None:
    settings = settings.with_overrides(
        fault_rate=fault_rate, symbols=tuple(f"S{i}" for i in range(60))
    )
    summary = run_tick(settings, tick)
    validated, quarantined = frame(settings, "validated", tick), frame(settings, "quarantine", tick)
    assert summary.quarantined > 0
    assert summary.raw == summary.validated + summary.quarantined
    assert (len(validated), len(quarantined)) == (summary.validated, summary.quarantined)
    assert sorted([*validated["line"], *quarantined["line"]]) == list(range(1, summary.raw + 1))
    assert summary.latest_updated == validated["symbol"].nunique()


def test_rerunning_a_tick_rewrites_byte_identical_objects_and_leaves_the_table_as_one_run(
    settings, tick
) -> None:
    settings = settings.with_overrides(fault_rate=0.3)
    run_tick(settings, tick + timedelta(minutes=-1))
    first = run_tick(settings, tick)
    lake = lake_store(settings)
    keys = lake_keys(settings)
    objects = {key: lake.get(key) for key in keys}
    table = latest_store(settings).all()

    again = run_tick(settings, tick)

    assert lake_keys(settings) == keys
    assert {key: lake.get(key) for key in keys} == objects
    assert latest_store(settings).all() == table
    assert (again.raw, again.validated, again.quarantined) == (
        first.raw,
        first.validated,
        first.quarantined,
    )
    assert again.latest_updated == 0


def test_replaying_an_older_tick_never_overwrites_newer_prices(settings, tick) -> None:
    later = tick + timedelta(minutes=5)
    run_tick(settings, later)
    replay = run_tick(settings, tick)
    assert replay.latest_updated == 0
    assert {r.tick for r in latest_store(settings).all()} == {later}


def test_replaying_a_landed_raw_object_gives_the_same_result(settings, tick, tmp_path) -> None:
    stub = settings.with_overrides(fault_rate=0.4)
    run_tick(stub, tick)
    landed = Path(settings.data_dir) / object_key("raw", tick)
    replay = Settings(data_dir=tmp_path / "replayed", provider="replay", source=str(landed))
    summary = run_tick(replay, tick)
    assert summary.quarantined > 0
    for dataset in ("curated", "validated", "quarantine", "reference"):
        key = object_key(dataset, tick)
        assert lake_store(replay).get(key) == lake_store(stub).get(key), dataset


def test_a_failed_schema_contract_stops_the_run_before_latest_prices(
    settings, tick, monkeypatch
) -> None:
    from marketdata_assets.tick.curation import curate

    def drifted(payload: bytes, at) -> pd.DataFrame:
        return curate(payload, at).astype({"price": "str"})

    monkeypatch.setattr("marketdata_assets.defs.assets.curate", drifted)
    with pytest.raises(TickFailed, match="tick 2026-11-25T14:31Z failed"):
        run_tick(settings, tick)
    assert latest_store(settings).all() == []
    assert lake_store(settings).keys("validated/") == []


def test_a_failing_provider_fails_the_tick_and_writes_nothing(settings, tick, monkeypatch) -> None:
    def broken(self, at) -> bytes:
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(StubProvider, "fetch", broken)
    with pytest.raises(TickFailed, match=r"step raw_ticks: .*provider unreachable"):
        run_tick(settings, tick)
    assert lake_keys(settings) == []


def test_a_run_without_a_tick_tag_processes_its_creation_minute(settings) -> None:
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        job = build_definitions(settings).resolve_job_def("tick_job")
        result = job.execute_in_process(instance=instance)
        record = instance.get_run_record_by_id(result.run_id)
    assert result.success and record is not None
    created = record.create_timestamp.replace(second=0, microsecond=0)
    assert lake_store(settings).keys("raw/") == [object_key("raw", created)]


def test_the_run_config_minute_is_the_tick_and_a_tag_that_disagrees_is_refused(
    settings, tick
) -> None:
    from dagster import DagsterInstance

    from marketdata_assets.defs.tick import tick_run_config, tick_tags
    from marketdata_assets.execution.tick import failure_line

    job = build_definitions(settings).resolve_job_def("tick_job")
    with DagsterInstance.ephemeral() as instance:
        configured = job.execute_in_process(run_config=tick_run_config(tick), instance=instance)
        assert configured.success
        assert lake_store(settings).keys("raw/") == [object_key("raw", tick)]
        later = tick + timedelta(minutes=1)
        mixed = job.execute_in_process(
            run_config=tick_run_config(later),
            tags=tick_tags(tick),
            instance=instance,
            raise_on_error=False,
        )
    assert not mixed.success
    assert "must equal the run's marketdata/tick tag 2026-11-25T14:31Z" in failure_line(mixed)
    assert lake_store(settings).keys("raw/") == [object_key("raw", tick)]  # nothing written

"""Malformed run records in Dagster (issue 20, item 6): `production_ticks_sensor` and
`marketdata status --sync` report an object under `runs/` that is no record as every check of
the tick graph failed, naming its key and problem; the good records around it are reported as
ever; the cursor moves past it, so the next evaluation reports nothing again (never jammed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetKey,
    DagsterInstance,
    SensorResult,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.defs.sensors import tick_events
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.settings import Settings
from marketdata_tests.test_production_ticks_sensor import evaluate as evaluate_sensor
from marketdata_tests.test_run_records import CHECKS
from marketdata_tests.test_run_records_hostile import (
    BAD,
    BAD_KEY,
    FIELDS,
    JSON,
    MALFORMED,
    REQUESTS,
    TICKS,
    changed,
    good,
    local,  # noqa: F401 (the local lake fixture)
    write_lake,
)

pytestmark = pytest.mark.graph


def evaluate(root: Path, cursor: str | None, instance: DagsterInstance) -> SensorResult:
    return evaluate_sensor(Settings(data_dir=root, log_level="CRITICAL"), cursor, instance)


@pytest.mark.parametrize("shape", MALFORMED)
def test_the_sensor_reports_a_malformed_record_as_failed_checks_and_moves_past_it(
    local: Path,  # noqa: F811
    shape: str,
) -> None:
    store = write_lake(local, shape)
    with DagsterInstance.ephemeral() as instance:
        first = evaluate(local, None, instance)
        again = evaluate(local, first.cursor, instance)
        # A cursor on the malformed key itself goes on to the next record.
        after_bad = evaluate(local, BAD_KEY, instance)
    assert first.cursor == run_records.record_key(TICKS[2])
    assert (again.asset_events, again.cursor) == ([], first.cursor)
    named = [e for e in first.asset_events if "key" in e.metadata
             and e.metadata["key"].value == BAD_KEY]  # fmt: skip
    about_bad = [e for e in named if isinstance(e, AssetCheckEvaluation)]
    assert about_bad == named
    assert {(e.asset_key.to_user_string(), e.check_name) for e in about_bad} == CHECKS
    assert len(about_bad) == len(CHECKS)
    problem = run_records.parse(BAD_KEY, store.get(BAD_KEY))
    assert isinstance(problem, run_records.Skipped)
    for event in about_bad:
        assert not event.passed and event.severity.value == "ERROR"
        assert event.metadata["problem"].value == problem.problem
        assert event.metadata["tick"].value == format_tick(BAD)
    good_events = [event for t in (TICKS[0], TICKS[2]) for event in tick_events(good(t))]
    assert [e for e in first.asset_events if e not in about_bad] == good_events
    assert after_bad.asset_events == tick_events(good(TICKS[2]))


@pytest.mark.parametrize("shape", ["binary", "tick_of_wrong_type", "nesting_beyond_the_parser"])
def test_status_sync_reports_past_a_malformed_record_once_with_one_warning(
    local: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shape: str,
) -> None:
    write_lake(local, shape)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["status", "--sync", "--json"]) == 0
    out, err = capsys.readouterr()
    warning, reported = err.splitlines()
    assert warning.startswith(f"marketdata: warning: run record {BAD_KEY} skipped: ")
    assert reported == f"3 new run records reported to {home}"
    assert [row["tick"] for row in json.loads(out)] == [
        format_tick(TICKS[2]),
        format_tick(TICKS[0]),
    ]
    assert main(["status", "--sync", "--json"]) == 0  # the cursor is past it: nothing jams
    reported_again, listed = capsys.readouterr().err.splitlines()
    assert reported_again == f"0 new run records reported to {home}"
    assert listed == warning  # the listing still passes over it, with its one line
    with DagsterInstance.get() as instance:
        for asset, check in CHECKS:
            key = AssetCheckKey(AssetKey(asset), check)
            found = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
            assert key in found  # each check's failed evaluation of the malformed record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    value=JSON | REQUESTS,
    where=st.sampled_from(["top", "asset", "check"]),
)
def test_a_record_read_as_valid_always_becomes_runless_events(
    field: str, value: object, where: str
) -> None:
    found = changed(field, value, where)
    if isinstance(found, run_records.Skipped):
        return
    with DagsterInstance.ephemeral() as instance:
        for event in tick_events(found):
            instance.report_runless_asset_event(event)

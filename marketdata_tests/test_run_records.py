"""Run records: every CLI and Lambda tick leaves one (succeeded, failed with its cause, skipped
with its reason), `marketdata status` lists them, and the Lambda prints its metrics in EMF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from marketdata_assets.cli import main
from marketdata_assets.lake import MINUTE_DATASETS, LocalObjectStore, object_key
from marketdata_assets.market.ticks import floor_minute, format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.conftest import TICK
from marketdata_tests.test_alphavantage_provider import DAILY_LIMIT, KEY, server  # noqa: F401
from marketdata_tests.test_lambda_runtime import assert_embedded_metrics

CHECKS = {
    ("raw_ticks", "provider_delivered"),
    ("curated_ticks", "schema_contract"),
    ("validated_ticks", "expectation_suite"),
    ("quarantined_ticks", "quarantine_share"),
    ("latest_prices", "rows_written"),
}
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def provider_down(symbols: tuple[str, ...]) -> str:
    """A raw payload in which the provider failed every symbol (as Yahoo's envelopes say it)."""
    return "".join(
        json.dumps({"fetch": {"provider": "yahoo", "symbol": s, "error": "HTTPError: 503"}}) + "\n"
        for s in symbols
    )


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(data))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("MARKETDATA_PROFILE", raising=False)
    return data


@pytest.mark.graph
def test_a_cli_tick_records_its_counts_every_asset_key_and_every_check(cli_env, capsys) -> None:
    assert main(["tick", "--at", format_tick(TICK), "--fault-rate", "0.3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    record = run_records.read(LocalObjectStore(cli_env), TICK)
    assert record is not None
    assert (record["source"], record["request_id"], record["outcome"]) == ("cli", None, "succeeded")
    assert summary.pop("market") == "open"  # the CLI's word on the minute, not recorded
    # The summary's time runs to the record's write; the record's own stops just before it.
    assert summary.pop("duration_ms") >= record["duration_ms"]
    assert {name: record[name] for name in summary} == summary
    assert record["quarantined"] > 0 and record["duration_ms"] > 0
    keys = {a["asset"]: a["key"] for a in record["assets"]}
    assert {key for key in keys.values() if key} == {object_key(d, TICK) for d in MINUTE_DATASETS}
    assert set(keys) == {
        "raw_ticks",
        "curated_ticks",
        "validated_ticks",
        "quarantined_ticks",
        "price_reference",
        "latest_prices",
    }
    checks = {(c["asset"], c["check"]): c for c in record["checks"]}
    assert set(checks) == CHECKS
    assert all(c["evaluated"] and c["passed"] for c in checks.values())
    share = checks[("quarantined_ticks", "quarantine_share")]
    assert (
        share["severity"] == "WARN" and share["metadata"]["quarantined"] == summary["quarantined"]
    )
    assert isinstance(share["metadata"]["preview"], str)  # markdown, kept as its text


@pytest.mark.graph
def test_a_failed_cli_tick_records_the_cause_and_the_checks_it_never_reached(
    cli_env, tmp_path, capsys
) -> None:
    source = tmp_path / "down.jsonl"
    source.write_text(provider_down(("AAPL", "MSFT")))
    args = ["tick", "--at", format_tick(TICK), "--provider", "replay", "--source", str(source)]
    assert main(args) == 1
    err = capsys.readouterr().err
    record = run_records.read(LocalObjectStore(cli_env), TICK)
    assert record is not None and record["outcome"] == "failed"
    assert record["cause"].startswith("every symbol failed at the provider: AAPL HTTPError: 503")
    assert record["cause"] in err
    assert (record["raw"], record["provider_errors"], record["validated"]) == (0, 2, None)
    assert [a["asset"] for a in record["assets"]] == ["raw_ticks"]  # raw lands first, always
    checks = {(c["asset"], c["check"]): c for c in record["checks"]}
    assert set(checks) == CHECKS
    delivered = checks[("raw_ticks", "provider_delivered")]
    assert (delivered["evaluated"], delivered["passed"], delivered["severity"]) == (
        True,
        False,
        "ERROR",
    )
    assert delivered["metadata"]["errors_by_symbol"] == {
        "AAPL": "HTTPError: 503",
        "MSFT": "HTTPError: 503",
    }
    never = [c for key, c in checks.items() if key != ("raw_ticks", "provider_delivered")]
    assert all(not c["evaluated"] and c["passed"] is None for c in never)


@pytest.mark.graph
def test_a_tick_failing_at_its_last_step_is_a_failed_rows_written_check_in_dagster(
    cli_env, capsys
) -> None:
    from marketdata_assets.defs.sensors import tick_events

    (cli_env / "latest_prices.sqlite").mkdir(parents=True)  # the table cannot be opened
    assert main(["tick", "--at", format_tick(TICK)]) == 1
    record = run_records.read(LocalObjectStore(cli_env), TICK)
    assert record is not None and record["outcome"] == "failed"
    assert record["cause"].startswith("step latest_prices:")
    checks = {(c["asset"], c["check"]): c for c in record["checks"]}
    assert not checks[("latest_prices", "rows_written")]["evaluated"]
    assert all(c["passed"] for key, c in checks.items() if key[0] != "latest_prices")
    failed = [
        e
        for e in tick_events(record)
        if getattr(e, "check_name", None) == "rows_written" and not e.passed
    ]
    assert len(failed) == 1 and failed[0].metadata["cause"].value == record["cause"]


@pytest.mark.domain
def test_a_rerun_replaces_its_ticks_record_and_a_skip_never_does(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    first = run_records.new_record(TICK, RunOrigin("cli"), "failed", cause="boom")
    run_records.write(store, first)
    rerun = run_records.new_record(TICK, RunOrigin("lambda", "r2"), "succeeded", validated=3)
    run_records.write(store, rerun)
    skip = run_records.skipped(TICK, RunOrigin("lambda", "r3"), run_records.MARKET_CLOSED)
    assert run_records.write_unless_recorded(store, skip) is False
    assert run_records.read(store, TICK) == rerun
    later = TICK + timedelta(minutes=1)
    assert run_records.write_unless_recorded(store, {**skip, "tick": format_tick(later)}) is True
    assert run_records.read(store, later) == {**skip, "tick": format_tick(later)}


@pytest.mark.domain
def test_record_fields_are_plain_json_whatever_the_metadata_held() -> None:
    record = run_records.new_record(
        TICK,
        RunOrigin("cli", started_at=datetime(2026, 11, 25, 14, 31, 2, 500000, tzinfo=UTC)),
        "succeeded",
        checks=[{"metadata": {"share": float("nan"), "limit": float("inf"), "pair": (1, 2)}}],
        when=datetime(2026, 11, 25, 14, 31, tzinfo=UTC),
        odd={3: Path("x")},
    )
    assert record["started_at"] == "2026-11-25T14:31:02.500Z"
    assert record["checks"] == [{"metadata": {"share": "nan", "limit": "inf", "pair": [1, 2]}}]
    assert (record["when"], record["odd"]) == ("2026-11-25T14:31:00.000Z", {"3": "x"})
    assert json.loads(run_records.encode(record)) == record


@pytest.fixture
def recorded(cli_env: Path) -> Iterator[list[dict]]:
    """Records of four ticks of the afternoon: succeeded, failed, skipped, succeeded."""
    store = LocalObjectStore(cli_env)
    ticks = [floor_minute(NOW) - timedelta(minutes=k) for k in (4, 3, 2, 1)]
    records = [
        run_records.new_record(ticks[0], RunOrigin("lambda", "r0"), "succeeded", validated=10),
        run_records.new_record(ticks[1], RunOrigin("cli"), "failed", cause="step raw_ticks: x"),
        run_records.skipped(ticks[2], RunOrigin("lambda", "r2"), run_records.MARKET_CLOSED),
        run_records.new_record(
            ticks[3], RunOrigin("lambda", "r3"), "succeeded", validated=9, quarantined=1
        ),
    ]
    for record in records:
        run_records.write(store, record)
    yield records


@pytest.mark.domain
def test_status_rows_are_the_newest_ticks_first_in_the_status_shape(recorded, cli_env) -> None:
    rows = run_records.status_rows(LocalObjectStore(cli_env), 3, now=NOW)
    assert rows == [run_records.status_row(r) for r in reversed(recorded[1:])]
    assert list(rows[0]) == [
        "tick",
        "outcome",
        "validated",
        "quarantined",
        "provider_errors",
        "duration_ms",
        "request_id",
    ]
    assert (rows[0]["request_id"], rows[0]["validated"], rows[0]["quarantined"]) == ("r3", 9, 1)
    # A day later the same records are still the newest; past the lookback there are none.
    assert len(run_records.status_rows(LocalObjectStore(cli_env), 10, NOW + timedelta(1))) == 4
    late = NOW + timedelta(days=run_records.STATUS_LOOKBACK_DAYS + 1)
    assert run_records.status_rows(LocalObjectStore(cli_env), 10, late) == []


@pytest.mark.graph
def test_marketdata_status_prints_a_table_or_json(recorded, monkeypatch, capsys) -> None:
    monkeypatch.setattr(run_records, "_now", lambda: NOW)
    assert main(["status", "--json", "--last", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["tick"], r["outcome"]) for r in rows] == [
        (recorded[3]["tick"], "succeeded"),
        (recorded[2]["tick"], "skipped"),
    ]
    assert main(["status"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["TICK", "OUTCOME", "VALIDATED"]
    assert [line.split()[:2] for line in lines] == [
        [r["tick"], r["outcome"]] for r in reversed(recorded)
    ]
    assert lines[1].endswith("market closed") and lines[2].endswith("step raw_ticks: x")


@pytest.mark.domain
def test_marketdata_status_on_an_empty_lake_says_how_to_get_records(cli_env, capsys) -> None:
    assert main(["status"]) == 0
    assert capsys.readouterr().out.startswith("(no run records in the last 31 days")
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.domain
@pytest.mark.parametrize("last", ["0", "-1", "x", "1.5", ""])
def test_status_last_must_be_a_whole_number_of_at_least_1(cli_env, capsys, last: str) -> None:
    assert main(["status", "--last", last]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (
        f"marketdata: error: --last {last!r}: must be a whole number of at least 1\n"
    )


@pytest.mark.graph
def test_status_sync_without_dagster_home_reports_to_the_default_instance(cli_env, capsys) -> None:
    # DAGSTER_HOME unset: `.dagster_home` beside the data folder, the one `make dev` shows.
    assert main(["status", "--sync"]) == 0
    home = cli_env.parent / ".dagster_home"
    assert capsys.readouterr().err == f"0 new run records reported to {home}\n"
    assert (home / "dagster.yaml").is_file()


@pytest.fixture
def lambda_aws(aws_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Lambda's environment on moto, its provider replaying s3://lake/feed.jsonl."""
    for name, value in {
        "MARKETDATA_PROFILE": "aws",
        "MARKETDATA_BUCKET": "lake",
        "MARKETDATA_TABLE": "latest",
        "MARKETDATA_PROVIDER": "replay",
        "MARKETDATA_SOURCE": "s3://lake/feed.jsonl",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MARKETDATA_ALWAYS_OPEN", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return Settings.from_env()


def feed(payload: str) -> None:
    import boto3

    boto3.client("s3").put_object(Bucket="lake", Key="feed.jsonl", Body=payload.encode())


def tick_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"message": "tick"')]


@pytest.mark.graph
def test_a_failed_lambda_tick_prints_its_metrics_records_its_cause_and_raises(
    lambda_aws, capsys
) -> None:
    from marketdata_assets.execution.tick import TickFailed
    from marketdata_assets.lambda_handler import handler
    from marketdata_tests.test_aws_runtime import Context

    event = {"time": "2026-11-25T14:31:00Z"}
    feed(provider_down(("AAPL", "MSFT", "IBM")))
    with pytest.raises(TickFailed, match="every symbol failed at the provider"):
        handler(event, Context("delivery-1"))
    (line,) = tick_lines(capsys.readouterr().out)
    assert (line["outcome"], line["tick"], line["request_id"]) == (
        "failed",
        "2026-11-25T14:31Z",
        "delivery-1",
    )
    assert line["cause"].startswith("tick 2026-11-25T14:31Z failed: every symbol failed")
    assert_embedded_metrics(line, function="marketdata-tick", validated=0, failed=1)
    assert line["ProviderErrors"] == 3
    record = run_records.read(lake_store(lambda_aws), TICK)
    assert record is not None
    assert (record["outcome"], record["request_id"], record["source"]) == (
        "failed",
        "delivery-1",
        "lambda",
    )

    # A failed tick is no duplicate: a redelivery runs it again, and its record replaces it.
    feed(json.dumps({"symbol": "AAPL", "price": 101.5, "volume": 10, "currency": "USD",
                     "event_ts": "2026-11-25T14:31:05Z"}) + "\n")  # fmt: skip
    assert handler(event, Context("delivery-2"))["validated"] == 1
    (line,) = tick_lines(capsys.readouterr().out)
    assert_embedded_metrics(line, function="marketdata-tick", validated=1, failed=0)
    record = run_records.read(lake_store(lambda_aws), TICK)
    assert record is not None
    assert (record["outcome"], record["request_id"]) == ("succeeded", "delivery-2")


@pytest.mark.graph
def test_an_event_without_a_time_still_prints_a_failed_metrics_line(lambda_aws, capsys) -> None:
    from marketdata_assets.errors import ConfigError
    from marketdata_assets.lambda_handler import handler
    from marketdata_tests.test_aws_runtime import Context

    with pytest.raises(ConfigError, match="event: needs a scheduled_time"):
        handler({"hello": "world"}, Context("bad-event"))
    (line,) = tick_lines(capsys.readouterr().out)
    assert "tick" not in line and line["cause"].startswith("event: needs a scheduled_time")
    assert_embedded_metrics(line, function="marketdata-tick", validated=0, failed=1)


@pytest.mark.system
def test_a_tick_failed_by_a_provider_echoing_the_key_records_no_key(
    server,  # noqa: F811 (the Alpha Vantage stand-in fixture, imported above)
    cli_env,
    capsys,
) -> None:
    server.answers["IBM"] = [(200, DAILY_LIMIT, 0, False)]  # its body echoes the key
    server.answers["DOWN"] = [(500, "<html>down</html>", 0, False)]
    args = ["tick", "--at", format_tick(TICK), "--provider", "alphavantage"]
    assert main([*args, "--symbols", "IBM,DOWN"]) == 1
    body = LocalObjectStore(cli_env).get(run_records.record_key(TICK))
    record = run_records.parse(run_records.record_key(TICK), body)
    assert isinstance(record, dict)
    assert record["outcome"] == "failed" and "IBM" in record["cause"]
    assert KEY not in body.decode() and KEY not in capsys.readouterr().err

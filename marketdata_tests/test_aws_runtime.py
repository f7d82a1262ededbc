"""The same tick graph on S3 and DynamoDB (moto in-process), and the Lambda handler."""

import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from marketdata_assets.definitions import lake_store, latest_store
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import MINUTE_DATASETS, object_key
from marketdata_assets.lake.s3 import LakeError, S3ObjectStore
from marketdata_assets.lambda_handler import handler, scheduled_tick
from marketdata_assets.latest import LatestPrice
from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore, StoreError
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.settings import Settings
from marketdata_assets.stores import aws_client
from marketdata_tests.conftest import create_lake_and_table


def lake_state(settings: Settings) -> dict[str, object]:
    """Every lake object's bytes, by key."""
    lake = lake_store(settings)
    return {key: lake.get(key) for dataset in MINUTE_DATASETS for key in lake.keys(f"{dataset}/")}


@pytest.mark.graph
def test_a_tick_on_the_aws_profile_writes_the_same_keys_to_s3_and_rows_to_dynamodb(
    aws_settings, tick
) -> None:
    summary = run_tick(aws_settings.with_overrides(fault_rate=0.3), tick)
    keys = boto3.client("s3").list_objects_v2(Bucket="lake")["Contents"]
    assert sorted(k["Key"] for k in keys) == sorted(object_key(d, tick) for d in MINUTE_DATASETS)
    rows = latest_store(aws_settings).all()
    # Every source row validated or quarantined, some of each; every validated row in the table.
    assert 0 < summary.quarantined < summary.raw
    assert summary.validated == summary.raw - summary.quarantined
    assert len(rows) == summary.latest_updated == summary.validated
    item = boto3.client("dynamodb").get_item(TableName="latest", Key={"symbol": {"S": "AAPL"}})
    assert set(item["Item"]) == {"symbol", "price", "currency", "event_ts", "tick", "updated_at"}


@pytest.mark.domain
def test_aws_profile_needs_bucket_and_table_named_by_their_variables() -> None:
    with pytest.raises(ConfigError, match=r"^MARKETDATA_BUCKET: must be set when"):
        Settings.from_env({"MARKETDATA_PROFILE": "aws", "MARKETDATA_TABLE": "t"})
    with pytest.raises(ConfigError, match=r"^MARKETDATA_TABLE: must be set when"):
        Settings.from_env({"MARKETDATA_PROFILE": "aws", "MARKETDATA_BUCKET": "b"})


@pytest.mark.graph
def test_s3_errors_name_the_operation_and_the_key(aws_settings, tick) -> None:
    store = S3ObjectStore(aws_client("s3"), "no-such-bucket")
    with pytest.raises(LakeError, match=r"^S3 PutObject s3://no-such-bucket/raw/x failed: NoSuch"):
        store.put("raw/x", b"1")
    with pytest.raises(LakeError, match=r"^S3 GetObject s3://lake/raw/missing failed: NoSuchKey"):
        S3ObjectStore(aws_client("s3"), "lake").get("raw/missing")
    missing = aws_settings.with_overrides(bucket="no-such-bucket")
    with pytest.raises(
        TickFailed,
        match=r"S3 PutObject s3://no-such-bucket/locks/date=2026-11-25/minute=1431/lock\.json",
    ):
        run_tick(missing, tick)


@pytest.mark.domain
def test_dynamodb_errors_name_the_operation_and_the_table(aws_settings, tick) -> None:
    store = DynamoLatestPriceStore(aws_client("dynamodb"), "no-such-table")
    with pytest.raises(StoreError, match=r"^DynamoDB UpdateItem no-such-table symbol='A' failed"):
        store.upsert([LatestPrice("A", 1.0, "USD", tick, tick)])


@pytest.mark.system
def test_throttled_writes_are_retried_until_they_succeed(
    aws_credentials, moto_server, monkeypatch, tick
) -> None:
    """On moto's server, as on DynamoDB, a throttled attempt writes nothing (moto's in-process
    mock applies each attempt before the injected throttle answers it): the retry's write is the
    one that updates the row."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    create_lake_and_table("lake", "latest")
    dynamodb = aws_client("dynamodb")
    throttled = []

    def throttle(request, **_: object) -> AWSResponse | None:
        if len(throttled) < 3:
            throttled.append(request.url)
            body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
            return AWSResponse(request.url, 400, {}, _Raw(body))
        return None

    dynamodb.meta.events.register_first("before-send.dynamodb.UpdateItem", throttle)
    result = DynamoLatestPriceStore(dynamodb, "latest").upsert(
        [LatestPrice("AAPL", 1.0, "USD", tick, tick)]
    )
    assert len(throttled) == 3
    assert (result.updated, result.stale) == (1, 0)
    assert [(r.symbol, r.price) for r in DynamoLatestPriceStore(dynamodb, "latest").all()] == [
        ("AAPL", 1.0)
    ]


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: object):  # type: ignore[no-untyped-def]
        yield self.body

    def read(self, *_: object) -> bytes:
        return self.body


@pytest.mark.graph
def test_a_tick_killed_half_way_and_rerun_leaves_the_state_of_one_clean_run(
    aws_settings, tick, monkeypatch
) -> None:
    create_lake_and_table("clean-lake", "clean-latest")
    clean = aws_settings.with_overrides(bucket="clean-lake", table="clean-latest")
    settings = aws_settings.with_overrides(fault_rate=0.3)
    clean = clean.with_overrides(fault_rate=0.3)
    run_tick(clean, tick)

    original = DynamoLatestPriceStore._write
    calls = []

    def dies_after_three(self, price, now) -> bool:  # type: ignore[no-untyped-def]
        calls.append(price.symbol)
        if len(calls) > 3:
            raise StoreError("killed")
        return original(self, price, now)

    with monkeypatch.context() as patch:
        patch.setattr(DynamoLatestPriceStore, "_write", dies_after_three)
        patch.setattr("marketdata_assets.latest.dynamodb.WRITERS", 1)
        with pytest.raises(TickFailed, match="step latest_prices"):
            run_tick(settings, tick)
    assert len(latest_store(settings).all()) == 3  # half written

    run_tick(settings, tick)
    assert lake_state(settings) == lake_state(clean)
    assert latest_store(settings).all() == latest_store(clean).all()


@pytest.mark.domain
def test_scheduled_tick_reads_scheduler_and_classic_events() -> None:
    scheduler = {"scheduled_time": "2026-11-25T14:31:00Z"}
    classic = {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2026-11-25T14:31:45Z",
    }
    assert scheduled_tick(scheduler) == scheduled_tick(classic)
    assert scheduled_tick(classic).isoformat() == "2026-11-25T14:31:00+00:00"
    with pytest.raises(ConfigError, match="event: needs a scheduled_time"):
        scheduled_tick({"hello": "world"})


class Context:
    """The part of Lambda's context object the handler reads."""

    def __init__(self, request_id: str, function_name: str = "marketdata-tick"):
        self.aws_request_id = request_id
        self.function_name = function_name


@pytest.fixture
def lambda_env(aws_settings, monkeypatch, tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        "MARKETDATA_PROFILE": "aws",
        "MARKETDATA_BUCKET": "lake",
        "MARKETDATA_TABLE": "latest",
        "HOME": str(home),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MARKETDATA_ALWAYS_OPEN", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return home


@pytest.mark.graph
def test_handler_skips_closed_market_minutes_leaving_only_their_run_records(lambda_env) -> None:
    closed = ("2025-11-27T15:00:00Z", "2025-11-28T18:00:00Z", "2026-11-25T14:29:00Z")
    for moment in closed:
        assert handler({"time": moment}, None) == {
            "skipped": "market closed",
            "tick": moment[:16] + "Z",
        }
    lake = lake_store(Settings.from_env())
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="lake")["Contents"]]
    assert keys == sorted(
        object_key("runs", parse_tick(moment, window_s=FUTURE_WINDOW_S)) for moment in closed
    )
    records = [json.loads(lake.get(key)) for key in keys]
    assert {(r["outcome"], r["reason"], r["source"]) for r in records} == {
        ("skipped", "market closed", "lambda")
    }


@pytest.mark.graph
def test_a_redelivered_event_of_a_succeeded_tick_is_skipped_and_keeps_the_first_record(
    lambda_env, capsys
) -> None:
    event = {"time": "2026-11-25T14:31:00Z"}
    first = handler(event, Context("first-delivery"))
    assert first["validated"] == 10
    state = lake_state(Settings.from_env())
    table = latest_store(Settings.from_env()).all()
    again = handler(event, Context("second-delivery"))
    assert again == {"skipped": "duplicate delivery", "tick": "2026-11-25T14:31Z"}
    assert lake_state(Settings.from_env()) == state
    assert latest_store(Settings.from_env()).all() == table
    record = json.loads(
        lake_store(Settings.from_env()).get(
            object_key("runs", parse_tick(event["time"], window_s=FUTURE_WINDOW_S))
        )
    )
    assert (record["outcome"], record["request_id"]) == ("succeeded", "first-delivery")
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ticks = [entry for entry in logged if entry.get("message") == "tick"]
    assert [(t["tick"], t["outcome"], t["request_id"]) for t in ticks] == [
        ("2026-11-25T14:31Z", "succeeded", "first-delivery"),
        ("2026-11-25T14:31Z", "skipped", "second-delivery"),
    ]
    assert ticks[1]["first_request_id"] == "first-delivery" and ticks[1]["Ticks"] == 1
    assert list(lambda_env.iterdir()) == []  # nothing written to HOME (read-only on Lambda)


@pytest.mark.graph
def test_handler_ticks_when_always_open_is_set(lambda_env, monkeypatch) -> None:
    monkeypatch.setenv("MARKETDATA_ALWAYS_OPEN", "1")
    result = handler({"scheduled_time": "2025-11-29T03:00:00Z"}, None)
    assert result["tick"] == "2025-11-29T03:00Z" and result["validated"] == 10


@pytest.mark.graph
def test_handler_failure_raises_so_the_event_reaches_the_dead_letter_queue(
    lambda_env, monkeypatch
) -> None:
    monkeypatch.setenv("MARKETDATA_BUCKET", "no-such-bucket")
    with pytest.raises(TickFailed, match="NoSuchBucket"):
        handler({"time": "2026-11-25T14:31:00Z"}, None)


@pytest.mark.graph
def test_cli_reads_the_aws_profile(lambda_env, tick, capsys) -> None:
    from marketdata_assets.cli import main

    assert main(["tick", "--at", "2026-11-25T14:31Z", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["latest_updated"] == 10
    assert main(["latest", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 10


@pytest.mark.graph
def test_older_tick_never_overwrites_newer_in_dynamodb(aws_settings, tick) -> None:
    later = tick + timedelta(minutes=3)
    run_tick(aws_settings, later)
    assert run_tick(aws_settings, tick).latest_updated == 0
    assert {r.tick for r in latest_store(aws_settings).all()} == {later}


@pytest.mark.graph
def test_replaying_a_landed_s3_raw_object_gives_the_same_result(aws_settings, tick) -> None:
    landed = aws_settings.with_overrides(fault_rate=0.4)
    first = run_tick(landed, tick)
    create_lake_and_table("replayed", "replayed-latest")
    replay = aws_settings.with_overrides(
        bucket="replayed",
        table="replayed-latest",
        provider="replay",
        source=f"s3://lake/{object_key('raw', tick)}",
    )
    again = run_tick(replay, tick)
    assert (again.raw, again.validated, again.quarantined) == (
        first.raw,
        first.validated,
        first.quarantined,
    )
    assert lake_state(replay) == lake_state(landed)  # the same keys and bytes, another bucket


@pytest.mark.graph
def test_replay_of_a_missing_s3_object_names_the_uri(aws_settings, tick) -> None:
    replay = aws_settings.with_overrides(provider="replay", source="s3://lake/raw/nothing.jsonl")
    with pytest.raises(TickFailed, match=r"--source 's3://lake/raw/nothing.jsonl': S3 GetObject"):
        run_tick(replay, tick)


class _EndingContext(Context):
    """A context whose invocation has only the margin left."""

    def get_remaining_time_in_millis(self) -> int:
        from marketdata_assets.operations.time_budget import MARGIN_S

        return MARGIN_S * 1000


@pytest.mark.graph
def test_a_handler_waiting_for_a_held_tick_stops_when_its_invocation_ends(lambda_env) -> None:
    """Another run holds the minute's lease: the handler stops waiting within its invocation's
    remaining time (not the lock's 120 s), in one line naming the tick and the holder."""
    from marketdata_assets.lake.leases import S3Lease
    from marketdata_assets.lake.locks import tick_claim

    tick = parse_tick("2026-11-25T14:31Z", window_s=FUTURE_WINDOW_S)
    with S3Lease(aws_client("s3"), "lake").hold(tick_claim(tick), "run a"):
        named = r"tick 2026-11-25T14:31Z: another run \(run a\) holds it \(the invocation's time"
        with pytest.raises(TickFailed, match=named):
            handler({"time": "2026-11-25T14:31:00Z"}, _EndingContext("late"))
    assert list(lake_store(Settings.from_env()).keys("raw/")) == []  # nothing written

"""Every AWS request a tick makes is counted (issue 22, item 1): on moto's server the counts
equal what the tick left behind: S3 PUTs less DELETEs are the objects in the bucket, DynamoDB
writes the items in the table, and the bytes stored those objects' sizes (plus the tick's
lease, deleted at its end). The run record carries the same counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from marketdata_assets.execution.tick import run_tick
from marketdata_assets.lake.s3 import S3ObjectStore
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings
from marketdata_tests.conftest import create_lake_and_table

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SYMBOLS = tuple(f"S{n:03d}" for n in range(40))


def objects(bucket: str) -> dict[str, int]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}


@pytest.mark.system
def test_a_ticks_request_counts_equal_what_it_left_in_the_bucket_and_table(
    aws_credentials, moto_server, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    create_lake_and_table("lake", "latest")
    settings = Settings(
        profile="aws", bucket="lake", table="latest", symbols=SYMBOLS, data_dir=tmp_path
    )
    summary = run_tick(settings, TICK, origin=RunOrigin("cli"))
    counts = summary.aws_requests
    assert counts is not None and summary.bytes_stored is not None
    held = objects("lake")
    record_key = run_records.record_key(TICK)
    assert record_key in held  # written after the counted span: its own PUT is not in it
    tick_objects = {key: size for key, size in held.items() if key != record_key}
    assert counts["s3.PutObject"] - counts.get("s3.DeleteObject", 0) == len(tick_objects)
    items = boto3.client("dynamodb").scan(TableName="latest")["Items"]
    assert counts["dynamodb.UpdateItem"] == len(items) == len(SYMBOLS)
    lease = summary.bytes_stored - sum(tick_objects.values())
    assert counts.get("s3.DeleteObject") == 1 and 0 < lease < 512  # the lease, put and deleted
    record = run_records.read(S3ObjectStore(boto3.client("s3"), "lake"), TICK)
    assert record is not None
    assert (record["aws_requests"], record["bytes_stored"]) == (counts, summary.bytes_stored)
    assert summary.as_dict()["aws_requests"] == counts


@pytest.mark.graph
def test_the_local_profile_reports_no_aws_requests(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, symbols=SYMBOLS[:2], log_level="CRITICAL")
    summary = run_tick(settings, TICK)
    assert summary.aws_requests is None and "aws_requests" not in summary.as_dict()

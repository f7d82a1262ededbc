"""The object-store contract: the local folder and the S3 bucket (on moto) answer every reader's
question the same way, and fail the same way (one `LakeError` line naming the key)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from marketdata_assets.lake import LakeError, LocalObjectStore, ObjectStore, read_if_present
from marketdata_assets.lake.locks import tick_claim
from marketdata_assets.lake.s3 import FETCHERS, S3ObjectStore
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import (
    is_production,
    lake_address,
    lake_at,
    lake_store,
    latest_address,
    latest_kind,
    tick_lock_at,
)

pytestmark = pytest.mark.domain

pytestmark = pytest.mark.domain

BUCKET = "lake"
KEYS = [
    "raw/date=2026-11-24/minute=1431/ticks.jsonl",
    "raw/date=2026-11-25/minute=1431/ticks.jsonl",
    "raw/date=2026-11-25/minute=1432/ticks.jsonl",
    "runs/date=2026-11-25/minute=1431/run.json",
    "minute_bars/date=2026-11-25/part.parquet",
]
# A store of each kind, and the same kind of store where no lake can be (no folder, no bucket).
Stores = tuple[ObjectStore, ObjectStore]


@pytest.fixture(params=["local", "s3"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "local":
        (tmp_path / "not-a-folder").write_bytes(b"a file where the lake should be")
        yield LocalObjectStore(tmp_path / "lake"), LocalObjectStore(tmp_path / "not-a-folder")
        return
    request.getfixturevalue("aws_credentials")
    from moto import mock_aws

    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket=BUCKET)
        yield (
            S3ObjectStore(aws_client("s3"), BUCKET),
            S3ObjectStore(aws_client("s3"), "no-such-bucket"),
        )


@pytest.fixture
def store(stores: Stores) -> ObjectStore:
    lake = stores[0]
    for n, key in enumerate(KEYS):
        lake.put(key, f"object {n}".encode())
    return lake


def test_keys_list_every_object_under_a_prefix_sorted(store: ObjectStore) -> None:
    assert store.keys("") == sorted(KEYS)
    assert store.keys("raw/date=2026-11-25/") == KEYS[1:3]
    assert store.keys("quarantine/") == []
    assert store.get(KEYS[3]) == b"object 3"


def test_folders_are_one_level_below_the_prefix_from_one_listing(store: ObjectStore) -> None:
    assert store.folders("") == ["minute_bars/", "raw/", "runs/"]
    assert store.folders("raw/") == ["raw/date=2026-11-24/", "raw/date=2026-11-25/"]
    assert store.folders("raw/date=2026-11-25/") == [
        "raw/date=2026-11-25/minute=1431/",
        "raw/date=2026-11-25/minute=1432/",
    ]
    assert store.folders("raw/date=2026-11-2") == store.folders("raw/")
    assert store.folders("minute_bars/date=2026-11-25/") == []  # objects, no folders
    assert store.folders("quarantine/") == []


def test_a_version_changes_when_its_object_is_rewritten_and_only_then(
    store: ObjectStore,
) -> None:
    before = store.versions("raw/")
    assert list(before) == KEYS[:3]
    assert len(set(before.values())) == 3
    store.put(KEYS[1], b"object 9")  # other bytes, same size, at once
    after = store.versions("raw/")
    assert after[KEYS[1]] != before[KEYS[1]]
    assert {k: v for k, v in after.items() if k != KEYS[1]} == {
        k: v for k, v in before.items() if k != KEYS[1]
    }
    assert store.versions("raw/") == after
    assert store.versions("quarantine/") == {}


def test_get_many_answers_in_the_order_asked(store: ObjectStore) -> None:
    order = [KEYS[4], KEYS[0], KEYS[4], KEYS[2]]
    assert store.get_many(order) == [b"object 4", b"object 0", b"object 4", b"object 2"]
    assert store.get_many([]) == []


def test_a_local_path_exists_only_on_a_folder(store: ObjectStore) -> None:
    path = store.local_path(KEYS[0])
    if isinstance(store, LocalObjectStore):
        assert path is not None and path.read_bytes() == b"object 0"
        assert store.location(KEYS[0]) == str(path)
    else:
        assert path is None
        assert store.location(KEYS[0]) == f"s3://{BUCKET}/{KEYS[0]}"
    assert store.put(KEYS[0], b"object 0") == store.location(KEYS[0])


def test_read_if_present_is_none_for_an_absent_object(store: ObjectStore) -> None:
    assert read_if_present(store, KEYS[3]) == b"object 3"
    assert read_if_present(store, "runs/date=2026-11-25/minute=1433/run.json") is None
    assert read_if_present(store, "runs/date=2026-11-26/minute=1431/run.json") is None


@pytest.mark.parametrize(
    ("operation", "read"),
    [
        ("get", lambda lake: lake.get(KEYS[0].replace("1431", "1433"))),
        ("get_many", lambda lake: lake.get_many([KEYS[0], KEYS[0].replace("1431", "1433")])),
    ],
)
def test_a_missing_object_is_one_lake_error_line_naming_its_key(
    store: ObjectStore, operation: str, read: Callable[[ObjectStore], object]
) -> None:
    missing = re.escape("raw/date=2026-11-24/minute=1433/ticks.jsonl")
    with pytest.raises(LakeError, match=missing) as caught:
        read(store)
    assert "\n" not in str(caught.value), operation


@pytest.mark.parametrize(
    "use",
    [
        lambda lake: lake.put(KEYS[0], b"x"),
        lambda lake: lake.get(KEYS[0]),
        lambda lake: lake.get_many(KEYS[:2]),
        lambda lake: lake.keys("raw/"),
        lambda lake: lake.folders("raw/"),
        lambda lake: lake.versions("raw/"),
    ],
    ids=["put", "get", "get_many", "keys", "folders", "versions"],
)
def test_a_store_with_no_lake_behind_it_fails_every_operation_with_a_lake_error(
    stores: Stores, use: Callable[[ObjectStore], object]
) -> None:
    _, nowhere = stores
    with pytest.raises(LakeError) as caught:
        use(nowhere)
    assert "\n" not in str(caught.value)
    assert ("not-a-folder" if isinstance(nowhere, LocalObjectStore) else "no-such-bucket") in str(
        caught.value
    )


class _Gauge:
    """An S3 client whose GetObject calls wait for each other in groups of FETCHERS, counting
    how many are in flight at once."""

    def __init__(self, client: Any):
        self.client = client
        self.together = threading.Barrier(FETCHERS, timeout=30)
        self.lock = threading.Lock()
        self.in_flight = self.most = 0

    def get_object(self, **request: Any) -> Any:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            self.together.wait()  # broken (BrokenBarrierError) unless FETCHERS run at once
            return self.client.get_object(**request)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_s3_gets_many_objects_fetchers_at_a_time(aws_credentials: None) -> None:
    from moto import mock_aws

    from marketdata_assets.stores import aws_client

    with mock_aws():
        aws_client("s3").create_bucket(Bucket=BUCKET)
        keys = [f"raw/date=2026-11-25/minute={1400 + n}/ticks.jsonl" for n in range(2 * FETCHERS)]
        for key in keys:
            aws_client("s3").put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        gauge = _Gauge(aws_client("s3"))
        assert S3ObjectStore(gauge, BUCKET).get_many(keys) == [key.encode() for key in keys]
    assert gauge.most == FETCHERS == 8


def test_a_stores_address_names_the_same_lake_and_table_again(
    stores: Stores, tmp_path: Path
) -> None:
    lake, _ = stores
    if isinstance(lake, LocalObjectStore):
        settings = StorageSettings(data_dir=tmp_path / "lake")
        assert lake_address(settings) == str(tmp_path / "lake")
        assert latest_address(settings) == str(tmp_path / "lake" / "latest_prices.sqlite")
        assert latest_kind(settings) == "sqlite" and not is_production(settings)
    else:
        settings = StorageSettings(profile="aws", bucket=BUCKET, table="latest")
        assert lake_address(settings) == "s3://lake"
        assert latest_address(settings) == "dynamodb:latest"
        assert latest_kind(settings) == "dynamodb" and is_production(settings)
    lake_at(lake_address(settings)).put(KEYS[0], b"through the address")
    assert lake.get(KEYS[0]) == lake_store(settings).get(KEYS[0]) == b"through the address"
    tick = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
    with tick_lock_at(lake_address(settings)).hold(tick_claim(tick), "run-1"):
        pass  # taken and released in the lake the address names

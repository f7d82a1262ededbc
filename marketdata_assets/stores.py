"""The read/write API over the lake, the latest-price table and the request budget, per profile.

No Dagster here: the read commands use these directly, and the Dagster resources and IO
managers wrap them. AWS backends import boto3 only when they are built, each on the process's
one client per service (`aws_client`).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from marketdata_assets.errors import ConfigError
from marketdata_assets.lake import LocalObjectStore, ObjectStore
from marketdata_assets.settings import Settings, StorageSettings, aws_variables

if TYPE_CHECKING:
    from marketdata_assets.lake.locks import Lock
    from marketdata_assets.lake.s3 import S3ObjectStore
    from marketdata_assets.latest import LatestPriceStore
    from marketdata_assets.operations.request_budget import RequestBudget


def lake_store(settings: StorageSettings) -> ObjectStore:
    """The profile's lake: a local folder, or the S3 bucket."""
    return lake_at(lake_address(settings))


def latest_store(settings: StorageSettings) -> LatestPriceStore:
    """The profile's latest-price table: a SQLite file, or the DynamoDB table."""
    return latest_at(latest_address(settings))


# Addresses: where a store is, as one string configuration can carry (a Dagster resource's).
_S3, _DYNAMODB = "s3://", "dynamodb:"


def lake_address(settings: StorageSettings) -> str:
    """The profile's lake as an address: `s3://BUCKET`, or the data folder's absolute path."""
    if settings.profile == "aws":
        assert settings.bucket  # StorageSettings refuses aws without it
        return f"{_S3}{settings.bucket}"
    return str(settings.data_dir.resolve())


def latest_address(settings: StorageSettings) -> str:
    """The profile's latest-price table as an address: `dynamodb:TABLE`, or the SQLite file's
    absolute path."""
    if settings.profile == "aws":
        assert settings.table  # StorageSettings refuses aws without it
        return f"{_DYNAMODB}{settings.table}"
    return str(settings.sqlite_path.resolve())


def lake_at(address: str) -> ObjectStore:
    """The lake at `address` (as `lake_address` writes it)."""
    if address.startswith(_S3):
        return s3_lake(address.removeprefix(_S3))
    return local_lake(address)


def lock_at(address: str, wait_s: float) -> Lock:
    """The lock of the lake at `address`, waiting at most `wait_s` for another holder: a lease
    object per claim in the bucket, or a `flock` on a file per claim under the folder."""
    from marketdata_assets.lake.leases import S3Lease
    from marketdata_assets.lake.locks import LocalLock

    if address.startswith(_S3):
        return S3Lease(aws_client("s3"), address.removeprefix(_S3), wait_s=wait_s)
    return LocalLock(address, wait_s=wait_s)


def tick_lock_at(address: str) -> Lock:
    """The lock a tick run holds its minute with (it waits up to `locks.WAIT_S`)."""
    from marketdata_assets.lake.locks import WAIT_S

    return lock_at(address, WAIT_S)


def history_lock_at(address: str) -> Lock:
    """The lock a history run holds its sessions with (it waits up to `locks.HISTORY_WAIT_S`,
    long enough for another batch to end)."""
    from marketdata_assets.lake.locks import HISTORY_WAIT_S

    return lock_at(address, HISTORY_WAIT_S)


def latest_at(address: str) -> LatestPriceStore:
    """The latest-price table at `address` (as `latest_address` writes it)."""
    if address.startswith(_DYNAMODB):
        return dynamo_latest(address.removeprefix(_DYNAMODB))
    return sqlite_latest(address)


def request_budget(settings: Settings, provider: str, limit: int) -> RequestBudget:
    """The profile's daily request budget of `provider` (`limit` requests a day): a local
    file, or a DynamoDB table."""
    if settings.profile == "aws":
        return dynamo_budget(settings.budget_table, provider, limit)
    return file_budget(settings.budget_path.resolve(), provider, limit)


def latest_kind(settings: StorageSettings) -> str:
    """The kind of store the profile's latest-price table is: `sqlite` or `dynamodb`."""
    return "dynamodb" if latest_address(settings).startswith(_DYNAMODB) else "sqlite"


def is_production(settings: StorageSettings) -> bool:
    """Whether the profile's lake is the production bucket, where the Lambda's ticks land."""
    return settings.profile == "aws"


def check_writable(settings: StorageSettings) -> None:
    """Refuse, before anything runs, a local data folder that cannot be created or take a
    file (the S3 bucket answers for itself at the first write)."""
    if settings.profile == "aws":
        return
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError(
            f"MARKETDATA_DATA_DIR {str(folder)!r}: not a writable folder ({error.strerror})"
        ) from None


def local_lake(data_dir: Path | str) -> ObjectStore:
    return LocalObjectStore(data_dir)


def s3_lake(bucket: str, client: Any = None) -> S3ObjectStore:
    """The lake in `bucket`, through `client` (default: one from the environment)."""
    from marketdata_assets.lake.s3 import S3ObjectStore

    return S3ObjectStore(client if client is not None else aws_client("s3"), bucket)


def sqlite_latest(path: Path | str) -> LatestPriceStore:
    from marketdata_assets.latest.sqlite import SqliteLatestPriceStore

    return SqliteLatestPriceStore(path)


def dynamo_latest(table: str) -> LatestPriceStore:
    from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore

    return DynamoLatestPriceStore(aws_client("dynamodb"), table)


def file_budget(path: Path, provider: str, limit: int) -> RequestBudget:
    from marketdata_assets.operations.request_budget import FileRequestBudget

    return FileRequestBudget(path, provider, limit)


def dynamo_budget(table: str | None, provider: str, limit: int) -> RequestBudget:
    from marketdata_assets.operations.request_budget import DynamoRequestBudget

    if not table:
        raise ConfigError(
            f"MARKETDATA_BUDGET_TABLE: the {provider} provider needs a request-budget table "
            "under MARKETDATA_PROFILE=aws"
        )
    return DynamoRequestBudget(aws_client("dynamodb"), table, provider, limit)


# One client per service per process (a cold process's first costs 0.1-1 s, and a Lambda's warm
# ticks keep their connections), rebuilt when the AWS_* environment changes (tests point boto3
# at another endpoint). Clients are thread-safe; building them on boto3's shared session is not.
_clients: dict[str, Any] = {}
_environment: frozenset[tuple[str, str]] = frozenset()
_building = threading.Lock()
# Standard retries: exponential backoff with jitter on throttling and 5xx, bounded attempts.
# DynamoDB's are adaptive: the same, plus a client-side rate limiter that, once a write is
# throttled, slows every thread of the client together (the latest table's writers share one).
RETRY_MODES: dict[str, Literal["standard", "adaptive"]] = {"dynamodb": "adaptive"}
POOL_CONNECTIONS = 16  # at least the latest table's concurrent writers (latest/dynamodb.py)


def aws_client(service: str) -> Any:
    """The process's boto3 client of `service`, configured the way boto3 reads the environment
    (AWS_REGION, AWS_ENDPOINT_URL, the credential chain), with its retry mode (`RETRY_MODES`)."""
    global _environment
    environment = frozenset(aws_variables().items())
    with _building:
        if environment != _environment:
            _clients.clear()
            _environment = environment
        if service not in _clients:
            import boto3
            from botocore.config import Config

            from marketdata_assets.lake import aws_requests

            config = Config(
                retries={"mode": RETRY_MODES.get(service, "standard"), "max_attempts": 6},
                max_pool_connections=POOL_CONNECTIONS,
            )
            _clients[service] = aws_requests.watch(  # every request counted (bills, ticks)
                boto3.client(  # type: ignore[call-overload]
                    service, region_name=_region(), config=config
                )
            )
        return _clients[service]


def _region() -> str | None:
    """AWS_REGION (what Lambda sets), else boto3's own lookup (AWS_DEFAULT_REGION, config)."""
    return aws_variables().get("AWS_REGION") or None

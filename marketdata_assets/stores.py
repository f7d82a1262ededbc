"""The read/write API over the lake, the latest-price table and the request budget, per profile.

No Dagster here: the read commands use these directly, and the Dagster resources and IO
managers wrap them. AWS backends import boto3 only when they are built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from marketdata_assets.lake import LocalObjectStore, ObjectStore
from marketdata_assets.settings import Settings, StorageSettings

if TYPE_CHECKING:
    from marketdata_assets.lake.s3 import S3ObjectStore
    from marketdata_assets.latest import LatestPriceStore
    from marketdata_assets.providers.budget import RequestBudget


def lake_store(settings: StorageSettings) -> ObjectStore:
    """The profile's lake: a local folder, or the S3 bucket."""
    if settings.profile == "aws":
        assert settings.bucket  # StorageSettings refuses aws without it
        return s3_lake(settings.bucket)
    return local_lake(settings.data_dir)


def latest_store(settings: StorageSettings) -> LatestPriceStore:
    """The profile's latest-price table: a SQLite file, or the DynamoDB table."""
    if settings.profile == "aws":
        assert settings.table  # StorageSettings refuses aws without it
        return dynamo_latest(settings.table)
    return sqlite_latest(settings.sqlite_path)


def request_budget(settings: Settings, provider: str) -> RequestBudget:
    """The profile's daily request budget of `provider`: a local file, or a DynamoDB table."""
    if settings.profile == "aws":
        return dynamo_budget(settings.budget_table, provider, settings.alphavantage_daily_budget)
    return file_budget(settings.budget_path.resolve(), provider, settings.alphavantage_daily_budget)


def local_lake(data_dir: Path | str) -> ObjectStore:
    return LocalObjectStore(data_dir)


def s3_lake(bucket: str, client: Any = None) -> S3ObjectStore:
    """The lake in `bucket`, through `client` (default: one from the environment)."""
    from marketdata_assets.lake.s3 import S3ObjectStore

    return S3ObjectStore(client if client is not None else _client("s3"), bucket)


def sqlite_latest(path: Path | str) -> LatestPriceStore:
    from marketdata_assets.latest.sqlite import SqliteLatestPriceStore

    return SqliteLatestPriceStore(path)


def dynamo_latest(table: str) -> LatestPriceStore:
    from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore

    return DynamoLatestPriceStore(_client("dynamodb"), table)


def file_budget(path: Path, provider: str, limit: int) -> RequestBudget:
    from marketdata_assets.providers.budget import FileRequestBudget

    return FileRequestBudget(path, provider, limit)


def dynamo_budget(table: str | None, provider: str, limit: int) -> RequestBudget:
    from marketdata_assets.errors import ConfigError
    from marketdata_assets.providers.budget import DynamoRequestBudget

    if not table:
        raise ConfigError(
            f"MARKETDATA_BUDGET_TABLE: the {provider} provider needs a request-budget table "
            "under MARKETDATA_PROFILE=aws"
        )
    return DynamoRequestBudget(_client("dynamodb"), table, provider, limit)


def _client(service: str) -> Any:
    from marketdata_assets.lake.aws import client

    return client(service)

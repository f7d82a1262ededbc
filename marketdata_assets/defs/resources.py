"""Resources: where prices come from, where the latest prices go, and the gate's policy."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from marketdata_assets import stores
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.providers import Provider, make_provider
from marketdata_assets.providers.budget import RequestBudget


class ProviderResource(ConfigurableResource):
    """The price provider and its options (names only: an API key is never configuration)."""

    name: str = "stub"
    symbols: list[str]
    seed: int = 7
    fault_rate: float = 0.0
    source: str | None = None
    daily_budget: int = 25  # requests a day, for providers with a daily quota
    budget_path: str | None = None  # local: the request-budget file
    budget_table: str | None = None  # aws: the request-budget table
    key_param: str | None = None  # aws: the SSM SecureString holding the API key

    def provider(self) -> Provider:
        return make_provider(
            self.name,
            self.symbols,
            seed=self.seed,
            fault_rate=self.fault_rate,
            source=self.source,
            budget=self.budget() if self.name == "alphavantage" else None,
            key_param=self.key_param,
        )

    def budget(self) -> RequestBudget:
        if self.budget_table or not self.budget_path:
            return stores.dynamo_budget(self.budget_table, self.name, self.daily_budget)
        return stores.file_budget(Path(self.budget_path), self.name, self.daily_budget)


class GatePolicyResource(ConfigurableResource):
    """Thresholds of the context rules and the quarantine alarm."""

    jump_threshold: float = 0.5
    jump_confirmations: int = 3  # consecutive ticks that accept a new price level
    quarantine_warn_share: float = 0.5


class LatestPricesResource(ConfigurableResource):
    """Where the latest-price table lives."""

    def store(self) -> LatestPriceStore:
        raise NotImplementedError


class SqliteLatestPricesResource(LatestPricesResource):
    """The latest-price table in a local SQLite file."""

    path: str

    def store(self) -> LatestPriceStore:
        return stores.sqlite_latest(self.path)


class DynamoLatestPricesResource(LatestPricesResource):
    """The latest-price table in DynamoDB (partition key `symbol`)."""

    table: str
    _store: LatestPriceStore | None = PrivateAttr(default=None)

    def store(self) -> LatestPriceStore:
        if self._store is None:  # one client per run
            self._store = stores.dynamo_latest(self.table)
        return self._store

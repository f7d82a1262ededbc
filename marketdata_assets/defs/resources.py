"""Resources: where prices come from, where the latest prices go, and the gate's policy."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.latest.sqlite import SqliteLatestPriceStore
from marketdata_assets.providers import Provider, make_provider


class ProviderResource(ConfigurableResource):
    """The price provider and its options."""

    name: str = "stub"
    symbols: list[str]
    seed: int = 7
    fault_rate: float = 0.0
    source: str | None = None

    def provider(self) -> Provider:
        return make_provider(
            self.name, self.symbols, seed=self.seed, fault_rate=self.fault_rate, source=self.source
        )


class GatePolicyResource(ConfigurableResource):
    """Thresholds of the context rules and the quarantine alarm."""

    jump_threshold: float = 0.5
    quarantine_warn_share: float = 0.5


class LatestPricesResource(ConfigurableResource):
    """Where the latest-price table lives."""

    def store(self) -> LatestPriceStore:
        raise NotImplementedError


class SqliteLatestPricesResource(LatestPricesResource):
    """The latest-price table in a local SQLite file."""

    path: str

    def store(self) -> LatestPriceStore:
        return SqliteLatestPriceStore(self.path)


class DynamoLatestPricesResource(LatestPricesResource):
    """The latest-price table in DynamoDB (partition key `symbol`)."""

    table: str
    _store: LatestPriceStore | None = PrivateAttr(default=None)

    def store(self) -> LatestPriceStore:
        if self._store is None:  # one client per run
            from marketdata_assets.aws import client
            from marketdata_assets.latest.dynamodb import DynamoLatestPriceStore

            self._store = DynamoLatestPriceStore(client("dynamodb"), self.table)
        return self._store

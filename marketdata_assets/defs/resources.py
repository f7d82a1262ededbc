"""Resources: where prices come from, where the latest prices go, and the gate's policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dagster import ConfigurableResource

from marketdata_assets import stores
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.providers import Provider, make_provider
from marketdata_assets.providers.budget import RequestBudget
from marketdata_assets.time_budget import FETCH_DEADLINE_S

if TYPE_CHECKING:
    from marketdata_assets.providers.history import HistorySource


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
    fetch_deadline_s: float = FETCH_DEADLINE_S  # the tick's fetching, for HTTP providers

    def provider(self) -> Provider:
        provider = make_provider(
            self.name,
            self.symbols,
            seed=self.seed,
            fault_rate=self.fault_rate,
            source=self.source,
            budget=self.budget() if self.name == "alphavantage" else None,
            key_param=self.key_param,
        )
        policy = getattr(provider, "policy", None)
        if policy is not None:  # an HTTP provider (yahoo, alphavantage): the run's deadline
            cast(Any, provider).policy = replace(policy, deadline_s=self.fetch_deadline_s)
        return provider

    def budget(self) -> RequestBudget:
        return _budget(self.name, self.daily_budget, self.budget_path, self.budget_table)


class HistorySourceResource(ConfigurableResource):
    """Where history comes from by default; a run's config may name another source."""

    provider: str = "stub"
    symbols: list[str]
    seed: int = 7
    daily_budget: int = 25
    budget_path: str | None = None
    budget_table: str | None = None
    key_param: str | None = None

    def source(self, name: str, path: str, first_session: date) -> HistorySource:
        """The history source `name` (default: the configured one); `path` for a file."""
        from marketdata_assets.providers.history import make_history_source

        name = name or self.provider
        return make_history_source(
            name,
            seed=self.seed,
            source=path or None,
            budget=(
                _budget(name, self.daily_budget, self.budget_path, self.budget_table)
                if name == "alphavantage"
                else None
            ),
            key_param=self.key_param,
            first_session=first_session,
        )


def _budget(provider: str, daily_budget: int, path: str | None, table: str | None) -> RequestBudget:
    """The provider's daily request budget: a DynamoDB table on aws, else a local file."""
    if table or not path:
        return stores.dynamo_budget(table, provider, daily_budget)
    return stores.file_budget(Path(path), provider, daily_budget)


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

    def store(self) -> LatestPriceStore:
        return stores.dynamo_latest(self.table)  # through the process's one DynamoDB client

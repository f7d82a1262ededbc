"""Resources: where prices come from, where the latest prices go, and the gate's policy."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

from dagster import ConfigurableResource

from marketdata_assets import stores
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.operations.time_budget import FETCH_DEADLINE_S
from marketdata_assets.providers import Provider, prefetch
from marketdata_assets.providers.budget import RequestBudget
from marketdata_assets.providers.prefetch import ProviderSpec, request_budget

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

    @classmethod
    def of(cls, spec: ProviderSpec) -> ProviderResource:
        return cls(**{**asdict(spec), "symbols": list(spec.symbols)})

    def spec(self) -> ProviderSpec:
        return ProviderSpec(**{**self.model_dump(), "symbols": tuple(self.symbols)})

    def provider(self) -> Provider:
        """The provider; its fetch already running when the Lambda started it (`prefetch`)."""
        return prefetch.provider(self.spec())

    def budget(self) -> RequestBudget:
        return self.spec().budget()


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
                request_budget(name, self.daily_budget, self.budget_path, self.budget_table)
                if name == "alphavantage"
                else None
            ),
            key_param=self.key_param,
            first_session=first_session,
        )


class GatePolicyResource(ConfigurableResource):
    """Thresholds of the context rules and the quarantine alarm."""

    jump_threshold: float = 0.5
    jump_confirmations: int = 3  # consecutive ticks that accept a new price level
    quarantine_warn_share: float = 0.5


class LatestPricesResource(ConfigurableResource):
    """The latest-price table at `address` (`stores.latest_address`: a SQLite file, or
    `dynamodb:TABLE` through the process's one DynamoDB client)."""

    address: str

    def store(self) -> LatestPriceStore:
        return stores.latest_at(self.address)

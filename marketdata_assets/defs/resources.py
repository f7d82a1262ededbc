"""Resources: where prices come from, where the latest prices go, and the gate's policy."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Self

from dagster import ConfigurableResource

from marketdata_assets import stores
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.providers import Provider, prefetch, registry
from marketdata_assets.providers.prefetch import pinned
from marketdata_assets.settings import Settings

if TYPE_CHECKING:
    from marketdata_assets.providers.history import HistorySource


class _SettingsResource(ConfigurableResource):
    """A resource built from the run's `Settings`, carried whole as JSON: one configuration
    path, no field repeated (names only: an API key is never a setting)."""

    settings_json: str

    @classmethod
    def of(cls, settings: Settings) -> Self:
        return cls(settings_json=pinned(settings).model_dump_json())

    def settings(self) -> Settings:
        return Settings.model_validate_json(self.settings_json)


class ProviderResource(_SettingsResource):
    """The tick's price provider, as the settings configure it."""

    @property
    def name(self) -> str:
        return self.settings().provider

    def provider(self) -> Provider:
        """The provider; its fetch already running when the Lambda started it (`prefetch`)."""
        return prefetch.provider(self.settings())


class HistorySourceResource(_SettingsResource):
    """Where history comes from by default; a run's config may name another source."""

    @property
    def symbols(self) -> list[str]:
        return list(self.settings().symbols)

    def source(self, name: str, path: str, first_session: date, actions: str = "") -> HistorySource:
        """The history source `name` (default: the configured one); `path` for a file of bars,
        `actions` for a file of corporate actions."""
        return registry.build_history_source(
            self.settings(),
            name or None,
            source=path or None,
            first_session=first_session,
            actions=actions or None,
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

"""The one place that assembles Definitions; the CLI, `dagster dev` and the Lambda all use it."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from marketdata_assets import stores
from marketdata_assets.defs.assets import (
    curated_ticks,
    latest_prices_asset,
    quality_gate,
    raw_ticks,
)
from marketdata_assets.defs.checks import tick_checks
from marketdata_assets.defs.forecasts import forecast_assets
from marketdata_assets.defs.freshness import fresh_in_session
from marketdata_assets.defs.history import history_assets
from marketdata_assets.defs.io_managers import LocalLakeIOManager, S3LakeIOManager
from marketdata_assets.defs.resources import (
    DynamoLatestPricesResource,
    GatePolicyResource,
    HistorySourceResource,
    ProviderResource,
    SqliteLatestPricesResource,
)
from marketdata_assets.defs.schedules import (
    compaction_schedule,
    freshness_job,
    freshness_schedule,
    history_job,
    tick_job,
    tick_schedule,
)
from marketdata_assets.defs.sensors import production_ticks_sensor
from marketdata_assets.lake import ObjectStore
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.providers import Provider
from marketdata_assets.providers.prefetch import ProviderSpec
from marketdata_assets.settings import Settings


def resources_for(settings: Settings) -> dict[str, object]:
    """The resource set of the settings' profile."""
    provider = ProviderResource.of(ProviderSpec.of(settings))
    gate_policy = GatePolicyResource(
        jump_threshold=settings.jump_threshold,
        jump_confirmations=settings.jump_confirmations,
        quarantine_warn_share=settings.quarantine_warn_share,
    )
    from marketdata_assets.providers.history import HISTORY_PROVIDERS

    history = HistorySourceResource(
        provider=settings.provider if settings.provider in HISTORY_PROVIDERS else "stub",
        symbols=list(settings.symbols),
        seed=settings.seed,
        daily_budget=settings.alphavantage_daily_budget,
        budget_path=provider.budget_path,
        budget_table=provider.budget_table,
        key_param=settings.alphavantage_key_param,
    )
    shared = {"provider": provider, "gate_policy": gate_policy, "history": history}
    if settings.profile == "aws":
        assert settings.bucket and settings.table  # Settings.from_env refuses aws without them
        return shared | {
            "lake_io_manager": S3LakeIOManager(bucket=settings.bucket),
            "latest_store": DynamoLatestPricesResource(table=settings.table),
        }
    return shared | {
        "lake_io_manager": LocalLakeIOManager(data_dir=str(settings.data_dir.resolve())),
        "latest_store": SqliteLatestPricesResource(path=str(settings.sqlite_path.resolve())),
    }


def latest_store(settings: Settings) -> LatestPriceStore:
    """The profile's latest-price table, for readers outside a run (see `stores`)."""
    return stores.latest_store(settings)


def configured_provider(settings: Settings) -> Provider:
    """The profile's provider, built (its key looked up) as a run builds it."""
    return ProviderSpec.of(settings).build()


def lake_store(settings: Settings) -> ObjectStore:
    """The profile's lake, for readers outside a run (see `stores`)."""
    return stores.lake_store(settings)


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=[
            raw_ticks,
            curated_ticks,
            quality_gate,
            latest_prices_asset("dynamodb" if settings.profile == "aws" else "sqlite"),
            *history_assets,
            *forecast_assets,
        ],
        asset_checks=[*tick_checks(), fresh_in_session],
        jobs=[tick_job, history_job, freshness_job],
        schedules=[tick_schedule, compaction_schedule, freshness_schedule],
        sensors=[production_ticks_sensor(settings.profile)],
        resources=resources_for(settings),
        # Every run (tick_job, or assets materialised from the UI) runs its steps in one
        # process, so the lake IO manager's tick lock spans the whole run.
        executor=in_process_executor,
    )


def defs() -> Definitions:
    """Definitions from the environment, for `dagster dev` (loaded lazily, on demand)."""
    return build_definitions(Settings.from_env())

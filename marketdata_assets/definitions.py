"""The one place that assembles Definitions; the CLI, `dagster dev` and the Lambda all use it."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from marketdata_assets import stores
from marketdata_assets.defs.actions import actions_assets
from marketdata_assets.defs.assets import (
    curated_ticks,
    latest_prices_asset,
    quality_gate,
    raw_ticks,
)
from marketdata_assets.defs.checks import tick_checks
from marketdata_assets.defs.columns import with_column_schemas
from marketdata_assets.defs.compaction import minute_bars_monthly, validated_daily
from marketdata_assets.defs.forecasts import forecast_assets
from marketdata_assets.defs.freshness import fresh_in_session
from marketdata_assets.defs.history import history_assets
from marketdata_assets.defs.history_run import HISTORY_RUN_RESOURCE, HistoryRun
from marketdata_assets.defs.io_managers import LakeIOManager, TickIOManager
from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.defs.resources import (
    GatePolicyResource,
    HistorySourceResource,
    LatestPricesResource,
    ProviderResource,
)
from marketdata_assets.defs.schedules import (
    compaction_job,
    compaction_schedule,
    forecast_job,
    freshness_job,
    freshness_schedule,
    history_job,
    tick_job,
    tick_schedule,
)
from marketdata_assets.defs.sensors import production_ticks_sensor
from marketdata_assets.defs.tick import TICK_RESOURCE, TickRun
from marketdata_assets.lake import ObjectStore
from marketdata_assets.latest import LatestPriceStore
from marketdata_assets.providers import Provider
from marketdata_assets.providers.registry import build_provider
from marketdata_assets.settings import Settings


def resources_for(settings: Settings) -> dict[str, object]:
    """The resource set of the settings' profile."""
    gate_policy = GatePolicyResource(
        jump_threshold=settings.jump_threshold,
        jump_confirmations=settings.jump_confirmations,
        quarantine_warn_share=settings.quarantine_warn_share,
    )
    shared = {
        "provider": ProviderResource.of(settings),
        "gate_policy": gate_policy,
        "history": HistorySourceResource.of(settings),
    }
    return shared | storage_resources(settings)


def storage_resources(settings: Settings) -> dict[str, object]:
    """The profile's lake (as a resource and behind both IO managers), the tick run's minute
    (run config), the history run's hold on its sessions and the latest-price table."""
    lake = LakeResource(address=stores.lake_address(settings))
    latest = LatestPricesResource(address=stores.latest_address(settings))
    tick_run = TickRun.configure_at_launch(lake=lake)
    return {
        "lake": lake,
        "lake_io_manager": LakeIOManager(lake=lake),
        "tick_io_manager": TickIOManager(lake=lake, tick_run=tick_run),
        TICK_RESOURCE: tick_run,
        HISTORY_RUN_RESOURCE: HistoryRun(lake=lake),
        "latest_store": latest,
    }


def latest_store(settings: Settings) -> LatestPriceStore:
    """The profile's latest-price table, for readers outside a run (see `stores`)."""
    return stores.latest_store(settings)


def configured_provider(settings: Settings) -> Provider:
    """The profile's provider, built (its key looked up) as a run builds it."""
    return build_provider(settings)


def lake_store(settings: Settings) -> ObjectStore:
    """The profile's lake, for readers outside a run (see `stores`)."""
    return stores.lake_store(settings)


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=with_column_schemas(
            [
                raw_ticks,
                curated_ticks,
                quality_gate,
                latest_prices_asset(stores.latest_kind(settings)),
                *history_assets,
                *actions_assets,
                validated_daily,
                minute_bars_monthly,
                *forecast_assets,
            ]
        ),
        asset_checks=[*tick_checks(), fresh_in_session],
        jobs=[tick_job, history_job, forecast_job, freshness_job, compaction_job],
        schedules=[tick_schedule, compaction_schedule, freshness_schedule],
        sensors=[production_ticks_sensor(running=stores.is_production(settings))],
        resources=resources_for(settings),
        # Each job names its executor; a run of assets picked in the UI runs in one process,
        # so a tick (or a history session) materialised that way also holds its lock to its end.
        executor=in_process_executor,
    )


def defs() -> Definitions:
    """Definitions from the environment, for `dagster dev` (loaded lazily, on demand)."""
    return build_definitions(Settings.from_env())

"""The tick graph: raw -> curated -> (validated | quarantined) -> latest prices."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    MaterializeResult,
    Output,
    asset,
    multi_asset,
)

from marketdata_assets.curation import (
    CURATED_SCHEMA,
    curate,
    provider_errors,
    raw_records,
    schema_violations,
    split_lines,
)
from marketdata_assets.defs import checks
from marketdata_assets.defs.resources import (
    GatePolicyResource,
    LatestPricesResource,
    ProviderResource,
)
from marketdata_assets.defs.tick import tick_of_run
from marketdata_assets.latest import prices_from_frame, reference_prices
from marketdata_assets.ticks import format_tick

GROUP = "ticks"
LAKE = "lake_io_manager"


def _tick(context: AssetExecutionContext) -> datetime:
    return tick_of_run(context.run.tags, context.instance, context.run_id)


@asset(
    group_name=GROUP,
    io_manager_key=LAKE,
    kinds={"json"},
    check_specs=[
        AssetCheckSpec(
            "provider_delivered",
            asset="raw_ticks",
            blocking=True,
            description="The provider delivered at least one symbol; when every symbol failed, "
            "the payload is still landed and the run stops here.",
        )
    ],
)
def raw_ticks(context: AssetExecutionContext, provider: ProviderResource) -> Iterator[object]:
    """The provider payload exactly as received: JSON Lines, one record per line."""
    tick = _tick(context)
    payload = provider.provider().fetch(tick)
    records = sum(1 for _ in raw_records(payload))
    errors = provider_errors(payload)
    yield Output(
        payload,
        metadata={
            "tick": format_tick(tick),
            "provider": provider.name,
            "records": records,
            "provider_errors": errors,
        },
    )
    yield AssetCheckResult(
        check_name="provider_delivered",
        passed=records > 0 or errors == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"records": records, "provider_errors": errors},
    )


@asset(
    group_name=GROUP,
    io_manager_key=LAKE,
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "schema_contract",
            asset="curated_ticks",
            blocking=True,
            description="Columns and dtypes match the curated schema; failing stops the run.",
        )
    ],
)
def curated_ticks(context: AssetExecutionContext, raw_ticks: bytes) -> Iterator[object]:
    """Every raw line standardised: upper-case symbols, numbers typed, timestamps in UTC."""
    frame = curate(raw_ticks, _tick(context))
    yield Output(frame, metadata={"rows": len(frame)})
    problems = schema_violations(frame)
    yield AssetCheckResult(
        check_name="schema_contract",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"expected": CURATED_SCHEMA, "problems": problems},
    )


@multi_asset(
    outs={
        "validated_ticks": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Curated rows that passed every gate rule.",
        ),
        "quarantined_ticks": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Rows that failed the gate: the original line and every reason.",
        ),
    },
    ins={"curated_ticks": AssetIn(), "raw_ticks": AssetIn()},
    internal_asset_deps={
        "validated_ticks": {AssetKey("curated_ticks")},
        "quarantined_ticks": {AssetKey("curated_ticks"), AssetKey("raw_ticks")},
    },
    check_specs=checks.GATE_CHECKS,
    compute_kind="great_expectations",
)
def quality_gate(
    context: AssetExecutionContext,
    curated_ticks: pd.DataFrame,
    raw_ticks: bytes,
    latest_store: LatestPricesResource,
    gate_policy: GatePolicyResource,
) -> Iterator[object]:
    """Great Expectations routes each curated row to validated or quarantine."""
    from marketdata_assets.gate.quarantine import quarantine_rows
    from marketdata_assets.gate.routing import judge, validated_rows

    tick = _tick(context)
    reference = reference_prices(latest_store.store(), tick)
    verdict = judge(curated_ticks, reference, gate_policy.jump_threshold)
    validated = validated_rows(curated_ticks, verdict)
    quarantined = quarantine_rows(split_lines(raw_ticks), curated_ticks, verdict, datetime.now(UTC))
    yield Output(validated, output_name="validated_ticks", metadata={"rows": len(validated)})
    yield Output(
        quarantined,
        output_name="quarantined_ticks",
        metadata={"rows": len(quarantined), "reasons": verdict.reason_counts()},
    )
    yield from checks.gate_check_results(verdict, quarantined, gate_policy.quarantine_warn_share)


@asset(group_name=GROUP, kinds={"sqlite"})
def latest_prices(
    validated_ticks: pd.DataFrame, latest_store: LatestPricesResource
) -> MaterializeResult:
    """The newest clean price per symbol; a row is only replaced by a strictly newer one."""
    result = latest_store.store().upsert(prices_from_frame(validated_ticks))
    return MaterializeResult(metadata={"updated": result.updated, "stale": result.stale})

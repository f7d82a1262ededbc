"""The tick graph: raw -> curated -> (validated | quarantined, price reference) -> latest prices."""

from collections.abc import Iterator

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetIn,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    MaterializeResult,
    Output,
    asset,
    multi_asset,
)

from marketdata_assets.defs import checks
from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.defs.resources import (
    GatePolicyResource,
    LatestPricesResource,
    ProviderResource,
)
from marketdata_assets.defs.tick import TickRun
from marketdata_assets.gate.reference import given_this_tick
from marketdata_assets.latest import newest_per_symbol, prices_from_frame
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.tick.curation import curate, provider_errors, raw_records

GROUP = "ticks"
LAKE = "tick_io_manager"
ACTIONS = AssetKey("corporate_actions")


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
def raw_ticks(provider: ProviderResource, tick_run: TickRun) -> Iterator[object]:
    """The provider payload exactly as received: JSON Lines, one record per line."""
    tick = tick_run.tick
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
    yield checks.provider_delivered(payload, records, errors)


@asset(group_name=GROUP, io_manager_key=LAKE, kinds={"parquet"})
def curated_ticks(raw_ticks: bytes, tick_run: TickRun) -> Output[pd.DataFrame]:
    """Every raw line standardised: upper-case symbols, numbers typed, timestamps in UTC."""
    frame = curate(raw_ticks, tick_run.tick)
    return Output(frame, metadata={"rows": len(frame)})


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
        "price_reference": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="The price_jump rule's as-of state after this tick: the last accepted "
            "price per symbol and any level awaiting confirmation. The next tick reads it.",
        ),
    },
    ins={"curated_ticks": AssetIn(), "raw_ticks": AssetIn()},
    # The splits of the tick's session, read through the lake resource (a minute is no
    # partition: a tick cannot map to one session of corporate_actions, so the dependency is on
    # every session, and nothing is loaded by an IO manager).
    deps=[AssetDep(ACTIONS)],
    internal_asset_deps={
        "validated_ticks": {AssetKey("curated_ticks"), ACTIONS},
        "quarantined_ticks": {AssetKey("curated_ticks"), AssetKey("raw_ticks"), ACTIONS},
        "price_reference": {AssetKey("curated_ticks"), ACTIONS},
    },
    check_specs=[checks.QUARANTINE_SHARE],
)
def quality_gate(
    curated_ticks: pd.DataFrame,
    raw_ticks: bytes,
    gate_policy: GatePolicyResource,
    tick_run: TickRun,
    lake: LakeResource,
) -> Iterator[object]:
    """Great Expectations and the context rules route each curated row to validated or
    quarantine, judged against the price reference of the newest earlier tick (read through
    the lake resource: a minute is no partition, so Dagster cannot map a dependency on the
    previous tick's price_reference; its key is this run's `as_of` metadata), brought to the
    post-split basis on a split's ex-date (`gate.splits`: the session's corporate_actions)."""
    from marketdata_assets.gate.quarantine import quarantine_rows
    from marketdata_assets.gate.reference import reference_frame
    from marketdata_assets.gate.routing import judge, validated_rows
    from marketdata_assets.gate.splits import adjusted_for_splits
    from marketdata_assets.lake.keys import tick_of_key
    from marketdata_assets.tick.curation import split_lines

    as_of, reference = lake.reference_before(tick_run.tick)
    written = tick_of_key(as_of) if as_of else None
    reference, splits = adjusted_for_splits(reference, written, tick_run.tick, lake.splits_on)
    verdict = judge(
        curated_ticks, reference, gate_policy.jump_threshold, gate_policy.jump_confirmations
    )
    validated = validated_rows(curated_ticks, verdict)
    quarantined = quarantine_rows(split_lines(raw_ticks), curated_ticks, verdict)
    yield Output(validated, output_name="validated_ticks", metadata={"rows": len(validated)})
    yield Output(
        quarantined,
        output_name="quarantined_ticks",
        metadata={"rows": len(quarantined), "reasons": verdict.reason_counts()},
    )
    yield Output(
        reference_frame(verdict.reference),
        output_name="price_reference",
        metadata={
            "symbols": len(verdict.reference),
            "as_of": as_of or "none (no earlier tick within the lookback)",
            "level_shifts": verdict.level_shifts,
            "splits": splits,
        },
    )
    yield checks.quarantine_share(verdict, quarantined, gate_policy.quarantine_warn_share)


# A failed write to the table fails this check too: a production tick that stopped at its last
# step shows in Dagster as a failed check (runless events cannot report failed materialisations).
ROWS_WRITTEN = AssetCheckSpec(
    "rows_written",
    asset="latest_prices",
    description="Every symbol's newest validated row was written to the table, found an equal or "
    "newer price there (stale), or was the price and event time an earlier tick gave it "
    "(unchanged, not written).",
)


def latest_prices_asset(store_kind: str) -> AssetsDefinition:
    """`latest_prices`, labelled with the kind of store the profile writes to."""

    @asset(
        name="latest_prices",
        group_name=GROUP,
        kinds={store_kind},
        check_specs=[ROWS_WRITTEN],
    )
    def latest_prices(
        validated_ticks: pd.DataFrame,
        price_reference: pd.DataFrame,
        latest_store: LatestPricesResource,
    ) -> MaterializeResult:
        """The newest clean price per symbol; a row is only replaced by a strictly newer one.
        A symbol whose price and event time the reference says an earlier tick already gave the
        table is not written again (latest_unchanged)."""
        prices = newest_per_symbol(prices_from_frame(validated_ticks))
        given = given_this_tick(price_reference)
        changed = [p for p in prices if (p.symbol, p.tick) in given]
        result = latest_store.store().upsert(changed)
        unchanged = len(prices) - len(changed)
        counts = {"updated": result.updated, "stale": result.stale, "unchanged": unchanged}
        return MaterializeResult(
            metadata=counts,
            check_results=[
                AssetCheckResult(
                    check_name=ROWS_WRITTEN.name,
                    passed=result.updated + result.stale + unchanged == len(prices),
                    severity=AssetCheckSeverity.ERROR,
                    metadata={"validated": len(validated_ticks), "symbols": len(prices), **counts},
                )
            ],
        )

    return latest_prices

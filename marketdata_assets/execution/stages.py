"""The stages a job's assets run in when batches of sessions run side by side.

One batch's run reads, through a window (a partition mapping other than identity), partitions
of earlier sessions: actions_gate the daily_bars of the session before, session_analytics the
20 sessions of daily_bars and corporate_actions before. Run one after another, the batches
before have written them; run side by side, they may not have yet. So an asset that reads a
job asset through a window runs one stage after it, and a batch's stage runs once every earlier
batch has finished the stage before (`parallel`): each stage then reads what one sequential
backfill would have written. Read from the Definitions alone, as `downstream` reads them; an
op's outputs share a stage (an op that cannot be subset runs whole).
"""

from __future__ import annotations

from dagster import (
    AssetKey,
    Definitions,
    IdentityPartitionMapping,
    PartitionMapping,
    TimeWindowPartitionMapping,
)

from marketdata_assets.execution.downstream import job_assets


def stages(defs: Definitions, job: str) -> list[tuple[AssetKey, ...]]:
    """`job`'s assets grouped by stage, in the order the stages run (each sorted)."""
    selected = job_assets(defs)[job]
    nodes = [node for node in defs.resolve_asset_graph().assets_defs if node.keys & selected]
    stage = dict.fromkeys(selected, 0)
    changed = True
    while changed:  # to a fixed point: the graph is a handful of assets deep
        changed = False
        for node in nodes:
            need = max(
                (
                    stage[dep.asset_key] + _later(dep.partition_mapping)
                    for spec in node.specs
                    for dep in spec.deps
                    if dep.asset_key in selected and dep.asset_key not in node.keys
                ),
                default=0,
            )
            for key in node.keys & selected:
                if stage[key] < need:
                    stage[key], changed = need, True
    return [
        tuple(sorted((key for key, at in stage.items() if at == n), key=AssetKey.to_user_string))
        for n in range(max(stage.values(), default=-1) + 1)
    ]


def _later(mapping: PartitionMapping | None) -> int:
    """0 when an asset reads its own sessions of the input, 1 when it reads earlier ones."""
    if mapping is None or isinstance(mapping, IdentityPartitionMapping):
        return 0
    if isinstance(mapping, TimeWindowPartitionMapping) and mapping.end_offset <= 0:
        return 1
    # A window reaching later sessions would need later batches first: no stage order has that.
    raise RuntimeError(f"{mapping!r}: a batch cannot read later sessions than its own")

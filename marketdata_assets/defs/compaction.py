"""Compaction after the close (`compaction_job`): `validated_daily`, each session's validated
minute objects folded into one Parquet (the tick stream as history), and `minute_bars_monthly`,
each month's minute_bars session objects folded into one (`history.compacted`)."""

from datetime import date

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, Output, asset

from marketdata_assets.defs.history import GROUP, SESSION_ASSET
from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.defs.partitions import history_backfill_policy, trading_sessions
from marketdata_assets.lake import dataset


@asset(
    **SESSION_ASSET,
    kinds={"parquet"},
    deps=[AssetKey("validated_ticks")],
)
def validated_daily(
    context: AssetExecutionContext, lake: LakeResource
) -> Output[dict[str, pd.DataFrame]]:
    """The tick stream as history: each session's validated minute objects folded into one
    Parquet (a session lies within one UTC day), so analytics read what the platform collected."""
    from marketdata_assets.lake.keys import date_prefix

    store = lake.store()
    suffix = "/" + dataset("validated").file
    days, objects = {}, 0
    for session in (date.fromisoformat(key) for key in context.partition_keys):
        keys = [k for k in store.keys(date_prefix("validated", session)) if k.endswith(suffix)]
        frames = [_read_parquet(store.get(key)) for key in keys]
        objects += len(keys)
        days[session.isoformat()] = (
            pd.concat(frames, ignore_index=True) if frames else _empty_validated()
        )
    rows = sum(len(frame) for frame in days.values())
    return Output(days, metadata={"minute_objects": objects, "rows": rows})


def _read_parquet(body: bytes) -> pd.DataFrame:
    """One validated minute object, in today's validated schema: an object written before a
    column existed gets it empty, a column since retired is dropped."""
    from marketdata_assets.lake.codecs import decode
    from marketdata_assets.tick.contracts import VALIDATED_SCHEMA

    frame = decode("validated", body)
    assert isinstance(frame, pd.DataFrame)
    return frame.reindex(columns=list(VALIDATED_SCHEMA)).astype(VALIDATED_SCHEMA)


def _empty_validated() -> pd.DataFrame:
    from marketdata_assets.tick.contracts import VALIDATED_SCHEMA

    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in VALIDATED_SCHEMA.items()})


@asset(
    group_name=GROUP,
    partitions_def=trading_sessions,
    backfill_policy=history_backfill_policy,
    kinds={"parquet"},
    deps=[AssetKey("minute_bars")],
)
def minute_bars_monthly(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """The months of minute_bars compacted: each month's session objects folded into one
    object, one row group per symbol, recording the versions of the objects it holds; history
    reads take it in their place while those are unchanged. A session's partition rewrites its
    month from every session of the month held then (no lock: a session rewritten meanwhile
    only makes the month stale, and reads fall back to the session objects)."""
    from marketdata_assets.history.compacted import compact, month_of

    store = lake.store()
    months = sorted({month_of(date.fromisoformat(key)) for key in context.partition_keys})
    written = [done for month in months if (done := compact(store, "minute_bars", month))]
    return MaterializeResult(
        metadata={
            "months": ", ".join(f"{month:%Y-%m}" for month in months),
            "objects": len(written),
            "sessions": sum(done.sessions for done in written),
            "rows": sum(done.rows for done in written),
            "bytes": sum(done.bytes for done in written),
        }
    )

"""The tick stream as history: `validated_daily`, each session's validated minute objects
compacted into one Parquet after the close (`compaction_job`)."""

from datetime import date

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Output, asset

from marketdata_assets.defs.history import SESSION_ASSET
from marketdata_assets.defs.lake import LakeResource
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

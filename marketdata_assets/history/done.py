"""When a session's history is done, read from the lake alone: so a backfill launched from the
Dagster UI and one from `marketdata backfill` agree, and a run killed half way is not done.

A symbol is done for a session when the session's `raw_history` delivers it and every later
dataset of the session holds it: `minute_bars`, `daily_bars` and `session_analytics` when it has
valid bars, else `bars_quarantine` (every row of it was rejected). A session missing any of
those objects has nothing done: its run stopped before its last step.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.history.raw import delivered
from marketdata_assets.lake import ObjectStore, day_key, day_keys, read_if_present
from marketdata_assets.lake.codecs import read_payload

# Where a delivered symbol must be once its session ran to the end.
STAGES = ("minute_bars", "daily_bars", "session_analytics")
REJECTED = "bars_quarantine"


def done_symbols(store: ObjectStore, session: date) -> set[str]:
    """The symbols of `session` that the lake holds through every history dataset."""
    have = delivered(read_payload(store, day_keys("raw_history", session)))
    if not have:
        return set()
    held = {name: _symbols(store, name, session) for name in (*STAGES, REJECTED)}
    if any(symbols is None for symbols in held.values()):
        return set()
    through = set.intersection(*(held[name] or set() for name in STAGES))
    bars, rejected = held["minute_bars"] or set(), held[REJECTED] or set()
    return {s for s in have if s in through or (s not in bars and s in rejected)}


def _symbols(store: ObjectStore, name: str, session: date) -> set[str] | None:
    """The symbols in the session's object of the Parquet dataset `name`; None when absent."""
    body = read_if_present(store, day_key(name, session))
    if body is None:
        return None
    column = pq.read_table(pa.BufferReader(body), columns=["symbol"]).column("symbol")
    return {symbol for symbol in column.to_pylist() if symbol is not None}

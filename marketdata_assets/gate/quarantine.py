"""Quarantine records: the original line, every reason it failed, and its tick.

No wall-clock time is recorded: a rerun of the tick rewrites the same bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from marketdata_assets.gate.routing import Verdict
from marketdata_assets.lake.datasets import columns_of
from marketdata_assets.lake.schemas import arrow_schema

# As objects are written: the registry's schema without its column descriptions.
QUARANTINE_SCHEMA = arrow_schema(columns_of("quarantine"), described=False)


def quarantine_rows(raw_lines: list[str], curated: pd.DataFrame, verdict: Verdict) -> pd.DataFrame:
    """One quarantine record per row that failed any rule."""
    failed = np.flatnonzero(~verdict.passed)
    rows = curated.reset_index(drop=True)
    lines = rows["line"].to_numpy()
    parsed = rows["parsed"].to_numpy()
    tick = rows["tick"].iloc[0] if len(rows) else None
    table = pa.table(
        {
            "tick": [tick] * len(failed),
            "line": [int(lines[i]) for i in failed],
            "reasons": [verdict.reasons_of(int(i)) for i in failed],
            "record": [raw_lines[lines[i] - 1] if parsed[i] else None for i in failed],
            "raw": [None if parsed[i] else raw_lines[lines[i] - 1] for i in failed],
        },
        schema=QUARANTINE_SCHEMA,
    )
    return table.to_pandas()

"""Data contracts the blocking checks enforce on what was actually stored.

Each returns the ways a stored frame breaks its contract (empty when it holds). They judge the
object read back from the lake, not the value a step meant to write, so a codec, a schema drift
or a lost row fails them.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from marketdata_assets.lake.datasets import DATASETS, columns_of
from marketdata_assets.lake.schemas import dtype_violations
from marketdata_assets.tick.curation import raw_records, standard_exchange_tz

# Column -> dtype of the validated dataset, as the registry defines it.
VALIDATED_SCHEMA: dict[str, str] = DATASETS["validated"].dtypes
_CURATED = columns_of("curated")
_VALIDATED = columns_of("validated")
_SHOWN = 5  # offending lines quoted per problem


def _lines(numbers: pd.Series) -> str:
    shown = ", ".join(str(n) for n in numbers.head(_SHOWN))
    return shown + (f" and {len(numbers) - _SHOWN} more" if len(numbers) > _SHOWN else "")


def curated_violations(curated: pd.DataFrame, raw_payload: bytes, tick: datetime) -> list[str]:
    """The curated contract: the curated schema, exactly one row per raw record (its line
    number, in order), the run's tick on every row, standardised values where there are any
    (symbols, exchange zones, trading days)."""
    problems = dtype_violations(curated, _CURATED)
    if problems:
        return problems
    expected = [number for number, _ in raw_records(raw_payload)]  # fetch errors are no record
    if curated["line"].tolist() != expected:
        problems.append(
            f"{len(curated)} rows for {len(expected)} raw records: rows must be the records' "
            "lines, in order"
        )
    other_tick = curated.loc[curated["tick"] != pd.Timestamp(tick), "line"]
    if len(other_tick):
        problems.append(
            f"lines {_lines(other_tick)} carry another tick than {tick:%Y-%m-%dT%H:%MZ}"
        )
    symbols = curated["symbol"].dropna()
    unstandard = symbols[symbols != symbols.str.strip().str.upper()]
    if len(unstandard):
        problems.append(
            f"lines {_lines(curated.loc[unstandard.index, 'line'])}: symbol not upper-cased"
        )
    zones = curated["exchange_tz"].dropna()
    unknown = zones[zones.map(standard_exchange_tz) != zones]
    if len(unknown):
        problems.append(
            f"lines {_lines(curated.loc[unknown.index, 'line'])}: exchange_tz not a known zone"
        )
    days = curated["trading_day"].dropna()
    timed = days[days != days.dt.normalize()]
    if len(timed):
        problems.append(
            f"lines {_lines(curated.loc[timed.index, 'line'])}: trading_day not a date (midnight)"
        )
    unparsed = curated.loc[~curated["parsed"] & curated[["symbol", "price"]].notna().any(axis=1)]
    if len(unparsed):
        problems.append(f"lines {_lines(unparsed['line'])}: unparseable but carry values")
    return problems


def validated_violations(validated: pd.DataFrame) -> list[str]:
    """The validated contract beyond the suite's row rules: the validated schema, one row per
    symbol and event time."""
    problems = dtype_violations(validated, _VALIDATED)
    if problems:
        return problems
    duplicated = validated.loc[validated.duplicated(["symbol", "event_ts"]), "line"]
    return [f"lines {_lines(duplicated)} repeat a symbol and event_ts"] if len(duplicated) else []

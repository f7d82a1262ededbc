"""Route curated rows: the suite's row rules, then the two rules that need the tick's context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketdata_assets.gate.expectations import validate
from marketdata_assets.gate.jumps import price_jumps
from marketdata_assets.gate.reference import PriceState, Reference
from marketdata_assets.lake.datasets import columns_of

# Every reason code, in the order a row lists them.
REASONS = (
    "unparseable",
    "symbol_invalid",
    "price_invalid",
    "volume_invalid",
    "currency_invalid",
    "timestamp_invalid",
    "timestamp_future",
    "timestamp_stale",
    "duplicate",
    "price_jump",
)
# The curated columns a validated row keeps (all but `parsed`, true for every one of them).
VALIDATED_COLUMNS = [c.name for c in columns_of("validated")]


@dataclass(frozen=True)
class Verdict:
    """The gate's judgement of one tick's curated rows."""

    flags: dict[str, np.ndarray]  # reason -> boolean mask over rows
    rule_failures: dict[str, int]  # rule name -> rows that broke it
    passed: np.ndarray  # boolean mask: rows with no reason at all
    reference: Mapping[str, PriceState] = field(default_factory=dict)  # the state after the tick
    level_shifts: dict[str, dict[str, float]] = field(default_factory=dict)  # symbol -> from, to

    def reasons_of(self, row: int) -> list[str]:
        return [reason for reason in REASONS if self.flags[reason][row]]

    def reason_counts(self) -> dict[str, int]:
        return {reason: int(mask.sum()) for reason, mask in self.flags.items() if mask.any()}


def judge(
    curated: pd.DataFrame,
    reference: Reference,
    jump_threshold: float = 0.5,
    confirmations: int = 3,
) -> Verdict:
    """Judge every row: suite rules first, then `duplicate`, then `price_jump` against the
    reference (the state before this tick), as row by row in event order (`gate.jumps`)."""
    rows = curated.reset_index(drop=True)
    n = len(rows)
    flags = {reason: np.zeros(n, dtype=bool) for reason in REASONS}
    rule_failures: dict[str, int] = {}
    for outcome in validate(judged_frame(rows)):
        flags[outcome.reason][outcome.unexpected] = True
        rule_failures[outcome.rule] = rule_failures.get(outcome.rule, 0) + len(outcome.unexpected)
    # An unparseable line has no fields to judge: it carries that one reason only.
    for reason in REASONS[1:]:
        flags[reason] &= ~flags["unparseable"]

    clean = ~np.logical_or.reduce([flags[r] for r in REASONS]) if n else np.zeros(0, bool)
    keys = rows.loc[clean, ["symbol", "event_ts"]]
    duplicated = keys.duplicated(keep="first").to_numpy()
    flags["duplicate"][np.flatnonzero(clean)[duplicated]] = True
    rule_failures["first_of_symbol_event_ts"] = int(duplicated.sum())

    clean &= ~flags["duplicate"]
    candidates = rows.loc[clean, ["symbol", "price", "event_ts", "tick"]]
    jumps = price_jumps(
        candidates["symbol"].to_numpy(dtype=object),
        candidates["price"].to_numpy(dtype="float64"),
        _utc_micros(candidates["event_ts"]),
        _utc_micros(candidates["tick"]),
        reference,
        jump_threshold,
        confirmations,
    )
    flags["price_jump"][np.flatnonzero(clean)[jumps.jumped]] = True
    rule_failures["price_within_jump_band"] = int(flags["price_jump"].sum())

    clean &= ~flags["price_jump"]
    return Verdict(
        flags=flags,
        rule_failures=rule_failures,
        passed=clean,
        reference=jumps.states,
        level_shifts=jumps.level_shifts,
    )


def _utc_micros(moments: pd.Series) -> np.ndarray:
    """Aware UTC timestamps as datetime64[us] (what the vectorised pass compares)."""
    return moments.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")


def suite_failures(rows: pd.DataFrame) -> dict[str, int]:
    """Rows breaking each suite rule (rules nobody broke left out): for a dataset that should
    pass, such as validated rows."""
    failures: dict[str, int] = {}
    for outcome in validate(judged_frame(rows)):
        if outcome.unexpected:
            failures[outcome.rule] = failures.get(outcome.rule, 0) + len(outcome.unexpected)
    return failures


def judged_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the suite reads: the row (parsed unless it says otherwise) and its offset
    from the tick."""
    if "parsed" not in rows:
        rows = rows.assign(parsed=True)
    frame = rows[["parsed", "symbol", "price", "day_volume", "currency", "event_ts"]].copy()
    frame["event_offset_s"] = (rows["event_ts"] - rows["tick"]).dt.total_seconds()
    return frame


def validated_rows(curated: pd.DataFrame, verdict: Verdict) -> pd.DataFrame:
    """The rows that passed every rule, in the validated schema."""
    rows = curated.reset_index(drop=True).loc[verdict.passed, VALIDATED_COLUMNS]
    return rows.reset_index(drop=True)

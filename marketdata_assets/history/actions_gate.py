"""The actions gate: every corporate-action candidate becomes a gated action or a quarantined row
with its reasons.

Rules, vectorised pandas (each one a reason code, in the order a quarantined row lists them):
`unparseable` (the parser could not read the row at all: this code only), `unparseable_date`
(no ex-date), `symbol_invalid` (missing or not the symbol rule), `kind_unknown` (neither
`split` nor `dividend`), `ratio_invalid` (a split's ratio missing, not positive or outside
1/1000..1000), `amount_invalid` (a dividend missing or not positive), `dividend_not_below_close`
(a dividend at or above the symbol's close of the session before its ex-date, when that close
is known), `currency_invalid` (given but not three letters A-Z), `not_a_session` (the ex-date is
no NYSE session), `other_session` (an NYSE session, but not the one the row was landed with: an
action is stored in its ex-date's object) and `duplicate` (the same symbol, ex-date and kind as
an earlier valid row, by session then `row`: the first valid one is kept).

Conservation: every candidate is in exactly one of the two outputs. A gated action's
`ingested_at` is the close of the session whose landed history held it, so a rerun writes the
same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pandas as pd

from marketdata_assets.history.adjust import PreviousCloses
from marketdata_assets.history.gate import RowText, quarantine_rows
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.lake.schemas import ACTION_CANDIDATES, pandas_dtypes
from marketdata_assets.market.calendar import session_bounds, sessions_in

ACTION_REASONS = (
    "unparseable",
    "unparseable_date",
    "symbol_invalid",
    "kind_unknown",
    "ratio_invalid",
    "amount_invalid",
    "dividend_not_below_close",
    "currency_invalid",
    "not_a_session",
    "other_session",
    "duplicate",
)
KINDS = ("split", "dividend")
MIN_RATIO, MAX_RATIO = 1 / 1000, 1000.0
_SYMBOL = r"^[A-Z0-9][A-Z0-9.\-]{0,14}$"  # the bars suite's symbol rule
_CURRENCY = r"^[A-Z]{3}$"


_CANDIDATES = pandas_dtypes(ACTION_CANDIDATES)
_ACTIONS = DATASETS["corporate_actions"].dtypes
_QUARANTINE = DATASETS["actions_quarantine"].dtypes
_INPUT = [c for c in _CANDIDATES if c != "raw"]


@dataclass(frozen=True)
class ActionsVerdict:
    """The gate's output for a frame of candidates."""

    actions: pd.DataFrame  # corporate_actions, sorted by symbol, ex_date, kind
    quarantine: pd.DataFrame  # actions_quarantine, by session then row
    reason_counts: dict[str, int]  # every reason code -> quarantined rows carrying it


def empty_candidates() -> pd.DataFrame:
    """No candidates, with the columns `gate_actions` reads."""
    columns = {**{c: _CANDIDATES[c] for c in _INPUT}, "session": _QUARANTINE["session"]}
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def gate_actions(
    candidates: pd.DataFrame,
    previous_closes: PreviousCloses,
    row_text: RowText | None = None,
) -> ActionsVerdict:
    """Judge `candidates` (ACTION_CANDIDATES without `raw`, plus `session`: the NYSE session
    whose landed history held each row) and split them into actions and quarantine."""
    rows = candidates.reset_index(drop=True)
    _check_contract(rows)
    flags = _flags(rows, previous_closes)
    reasons = np.zeros(len(rows), dtype=np.int64)
    for bit, reason in enumerate(ACTION_REASONS):
        reasons |= flags[reason].astype(np.int64) << bit
    passed = reasons == 0
    return ActionsVerdict(
        actions=_actions(rows.loc[passed]),
        quarantine=_quarantine(rows.loc[~passed], reasons[~passed], row_text),
        reason_counts={reason: int(flags[reason].sum()) for reason in ACTION_REASONS},
    )


def _check_contract(rows: pd.DataFrame) -> None:
    expected = {**{c: _CANDIDATES[c] for c in _INPUT}, "session": _QUARANTINE["session"]}
    wrong = [
        f"{name} ({rows[name].dtype if name in rows else 'missing'}, expected {dtype})"
        for name, dtype in expected.items()
        if name not in rows or str(rows[name].dtype) != dtype
    ]
    if wrong:
        raise ValueError(f"action candidates break the candidate schema: {', '.join(wrong)}")


def _flags(rows: pd.DataFrame, previous_closes: PreviousCloses) -> dict[str, np.ndarray]:
    n = len(rows)
    flags = {reason: np.zeros(n, dtype=bool) for reason in ACTION_REASONS}
    if n == 0:
        return flags
    value = rows["value"].to_numpy("float64")
    kind = rows["kind"]
    split = kind.eq("split").to_numpy(dtype=bool, na_value=False)
    dividend = kind.eq("dividend").to_numpy(dtype=bool, na_value=False)
    ex_date = rows["ex_date"]
    dated = ex_date.notna().to_numpy()
    flags["unparseable_date"] = ~dated
    symbol = rows["symbol"]
    flags["symbol_invalid"] = ~symbol.str.fullmatch(_SYMBOL).to_numpy(dtype=bool, na_value=False)
    flags["kind_unknown"] = ~(split | dividend)
    with np.errstate(invalid="ignore"):
        flags["ratio_invalid"] = split & ~((value >= MIN_RATIO) & (value <= MAX_RATIO))
        flags["amount_invalid"] = dividend & ~((value > 0) & np.isfinite(value))
        close = np.array(
            [
                previous_closes.get((s, d.date()), np.nan) if isinstance(s, str) and ok else np.nan
                for s, d, ok in zip(symbol, ex_date, dated, strict=True)
            ],
            dtype=np.float64,
        )
        flags["dividend_not_below_close"] = (
            dividend & ~flags["amount_invalid"] & np.isfinite(close) & (value >= close)
        )
    currency = rows["currency"]
    flags["currency_invalid"] = currency.notna().to_numpy() & ~currency.str.fullmatch(
        _CURRENCY
    ).to_numpy(dtype=bool, na_value=False)
    days = ex_date.to_numpy("datetime64[D]")
    flags["not_a_session"] = dated & ~_sessions(days, dated)
    landed = rows["session"].to_numpy("datetime64[D]")
    flags["other_session"] = dated & ~flags["not_a_session"] & (days != landed)
    unparseable = rows["problem"].eq("unparseable").to_numpy(dtype=bool, na_value=False)
    flags["unparseable"] = unparseable
    for reason in ACTION_REASONS[1:]:
        flags[reason] &= ~unparseable
    valid = np.flatnonzero(~np.logical_or.reduce([flags[r] for r in ACTION_REASONS]))
    flags["duplicate"][valid[_repeated(rows.iloc[valid])]] = True
    return flags


def _sessions(days: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Which of `days` (where `dated`) are NYSE sessions."""
    return np.isin(days, _calendar()) & dated


@cache
def _calendar() -> np.ndarray:
    """Every session the calendar knows (20 years back to one year ahead)."""
    return np.array(sessions_in(date(1900, 1, 1), date(2200, 1, 1)), dtype="datetime64[D]")


def _repeated(valid: pd.DataFrame) -> np.ndarray:
    """Which rows of `valid` repeat an earlier one's symbol, ex-date and kind (earlier: by
    session, then `row`)."""
    ordered = valid.assign(_position=np.arange(len(valid))).sort_values(
        ["session", "row"], kind="stable"
    )
    repeated = ordered.duplicated(["symbol", "ex_date", "kind"], keep="first").to_numpy()
    result = np.zeros(len(valid), dtype=bool)
    result[ordered["_position"].to_numpy()] = repeated
    return result


def _actions(passed: pd.DataFrame) -> pd.DataFrame:
    closes = {
        day: session_bounds(day)[1].as_unit("us")
        for day in {pd.Timestamp(s).date() for s in passed["session"]}
    }
    frame = passed.assign(
        ingested_at=pd.Series(
            [closes[pd.Timestamp(s).date()] for s in passed["session"]],
            index=passed.index,
            dtype="datetime64[us, UTC]",
        )
    )
    frame = frame.sort_values(["symbol", "ex_date", "kind"], kind="stable", ignore_index=True)
    return frame[list(_ACTIONS)].astype(_ACTIONS)


def _quarantine(
    rejected: pd.DataFrame, reasons: np.ndarray, row_text: RowText | None
) -> pd.DataFrame:
    quarantine = quarantine_rows(rejected, reasons, row_text, ACTION_REASONS, _INPUT, _QUARANTINE)
    return quarantine.astype(_QUARANTINE)


def sessions_of(actions: pd.DataFrame, sessions: Sequence[date]) -> dict[str, pd.DataFrame]:
    """Gated actions split into one frame per session of `sessions` (by ex-date)."""
    days = actions["ex_date"]
    return {
        day.isoformat(): actions[days == pd.Timestamp(day)].reset_index(drop=True)
        for day in sessions
    }

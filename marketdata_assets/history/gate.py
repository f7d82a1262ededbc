"""The bars gate: every bar candidate becomes a valid bar or a quarantined row with its reasons.

Row rules come from the Great Expectations suite `gate/bars_suite.json`; the two rules that need
context are vectorised pandas: `outside_session` (a 1m bar starts on one of its session's
minutes, early closes included; a 1d bar starts on its session's New York date) and `duplicate`
(per symbol, start and interval the first valid candidate, by session then `row`, is kept; a
1d bar is the session's, so two 1d bars of one symbol and session are duplicates whatever their
starts).
A row on another day than its session's that no session can hold carries `no_session` (its New
York date is no NYSE session), `before_first_session` (before 2010-01-04) or `not_ended` (a
later session the call does not gate, or a day beyond the calendar) instead of `outside_session`.
A row the parser could not read at all (`problem` other than `unparseable_ts`) carries that one
reason only. Conservation: every candidate is in exactly one of the two outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from marketdata_assets.gate.expectations import validate
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.lake.schemas import BAR_CANDIDATES, pandas_dtypes
from marketdata_assets.market.calendar import (
    EXCHANGE_TZ,
    FIRST_SESSION,
    last_known_day,
    new_york_days,
    session_minutes,
    sessions_in,
)

# Every reason code, in the order a quarantined row lists them.
BAR_REASONS = (
    "unparseable",
    "unparseable_ts",
    "symbol_invalid",
    "interval_invalid",
    "price_invalid",
    "ohlc_inconsistent",
    "volume_invalid",
    "outside_session",
    "no_session",
    "before_first_session",
    "not_ended",
    "duplicate",
)
# A row whose start's New York date is not its session's, and which no session can hold: it
# carries one of these instead of `outside_session` (a file's rows of no backfillable session
# land in the backfill's first session with them).
_NO_SESSION = ("no_session", "before_first_session", "not_ended")

# Given the quarantined candidates (every input column, `session`, `line` and `item` included,
# in quarantine order), their raw text, one per row: called once per gate call, only when a
# row is quarantined.
RowText = Callable[[pd.DataFrame], Sequence[str | None]]

# The schemas judged against, from the registry: what parsers yield (`raw` aside, the gate adds
# it), the bars it passes (`minute_bars`) and the rows it quarantines (`bars_quarantine`).
_CANDIDATES = pandas_dtypes(BAR_CANDIDATES)
_BARS = DATASETS["minute_bars"].dtypes
_QUARANTINE = DATASETS["bars_quarantine"].dtypes
_INPUT = [c for c in _CANDIDATES if c != "raw"]
_SUITE_READS = ["problem", "symbol", "start", "interval", "open", "high", "low", "close", "volume"]
_US_PER_MINUTE = 60_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class BarsVerdict:
    """The gate's output for a frame of candidates."""

    bars: pd.DataFrame  # minute_bars, sorted by symbol, start, interval
    quarantine: pd.DataFrame  # bars_quarantine (candidates + reasons + session), by session, row
    reason_counts: dict[str, int]  # every reason code -> quarantined rows carrying it


def gate_bars(
    candidates: pd.DataFrame, sessions: Sequence[date], row_text: RowText | None = None
) -> BarsVerdict:
    """Judge `candidates` (BAR_CANDIDATES without `raw`, plus `session`: the NYSE session
    each row was fetched for, one of `sessions`) and split them into bars and quarantine."""
    rows = candidates.reset_index(drop=True)
    _check_contract(rows, sessions)
    symbols = pd.factorize(rows["symbol"], sort=True)[0]  # codes in symbol order (null: -1)
    flags = _flags(rows, sessions, symbols)
    reasons = np.zeros(len(rows), dtype=np.int64)  # bit k set: the row has BAR_REASONS[k]
    for bit, reason in enumerate(BAR_REASONS):
        reasons |= flags[reason].astype(np.int64) << bit
    passed = reasons == 0
    return BarsVerdict(
        bars=_bars(rows, np.flatnonzero(passed), symbols),
        quarantine=_quarantine(rows.loc[~passed], reasons[~passed], row_text),
        reason_counts={reason: int(flags[reason].sum()) for reason in BAR_REASONS},
    )


def _check_contract(rows: pd.DataFrame, sessions: Sequence[date]) -> None:
    expected = {**{c: _CANDIDATES[c] for c in _INPUT}, "session": _QUARANTINE["session"]}
    wrong = [
        f"{name} ({rows[name].dtype if name in rows else 'missing'}, expected {dtype})"
        for name, dtype in expected.items()
        if name not in rows or str(rows[name].dtype) != dtype
    ]
    if wrong:
        raise ValueError(f"bar candidates break the candidate schema: {', '.join(wrong)}")
    gated = np.array(sorted(set(sessions)), dtype="datetime64[D]")
    foreign = ~np.isin(rows["session"].to_numpy("datetime64[D]"), gated)
    if foreign.any():
        days = sorted({str(d) for d in rows["session"].to_numpy("datetime64[D]")[foreign]})
        raise ValueError(f"bar candidates of sessions {days} are not among the gated sessions")


def _flags(
    rows: pd.DataFrame, sessions: Sequence[date], symbols: np.ndarray
) -> dict[str, np.ndarray]:
    n = len(rows)
    flags = {reason: np.zeros(n, dtype=bool) for reason in BAR_REASONS}
    if n == 0:
        return flags
    for outcome in validate(_judged_frame(rows), suite="bars"):
        flags[outcome.reason][outcome.unexpected] = True
    flags["outside_session"] = _outside_session(rows, tuple(sorted(set(sessions))))
    for reason, flagged in _no_session(rows, sessions).items():
        flags[reason] = flagged
        flags["outside_session"] &= ~flagged
    unparseable = flags["unparseable"]
    for reason in BAR_REASONS[1:]:
        flags[reason] &= ~unparseable
    valid = np.flatnonzero(~np.logical_or.reduce([flags[r] for r in BAR_REASONS]))
    flags["duplicate"][valid[_repeated(rows, valid, symbols)]] = True
    return flags


def _repeated(rows: pd.DataFrame, valid: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """Which of the `valid` rows repeat an earlier one's symbol, start (a 1d bar: session) and
    interval (earlier: by session, then `row`)."""
    order = np.lexsort((rows["row"].to_numpy()[valid], rows["session"].array.asi8[valid]))
    chosen = valid[order]
    daily = rows["interval"].eq("1d").to_numpy(dtype=bool, na_value=False)[chosen]
    when = np.where(daily, rows["session"].array.asi8[chosen], rows["start"].array.asi8[chosen])
    starts = pd.factorize(when)[0].astype(np.int64)
    key = (symbols[chosen].astype(np.int64) * (starts.max(initial=0) + 1) + starts) * 2 + daily
    _, first = np.unique(key, return_index=True)  # stable: the first occurrence of each key
    repeated = np.ones(len(chosen), dtype=bool)
    repeated[first] = False
    result = np.zeros(len(valid), dtype=bool)
    result[order] = repeated
    return result


def _judged_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the suite reads, with the two it cannot derive itself (see its description)."""
    frame = rows[_SUITE_READS]
    o, h, lo, c = (rows[name].to_numpy("float64") for name in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        frame["ohlc_margin"] = np.minimum(np.minimum(o, c) - lo, h - np.maximum(o, c))
        volume = rows["volume"].to_numpy("float64")
        frame["volume_fraction"] = volume - np.floor(volume)
    return frame


@lru_cache(maxsize=8)
def _minute_owners(sessions: tuple[date, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Every session minute as epoch minutes (sorted) and the epoch day of its session."""
    minutes, owners = [], []
    for day in sessions:
        starts = session_minutes(day).as_unit("us").asi8 // _US_PER_MINUTE
        minutes.append(starts)
        owners.append(np.full(len(starts), np.datetime64(day, "D").astype(np.int64)))
    order = np.argsort(np.concatenate(minutes), kind="stable")
    return np.concatenate(minutes)[order], np.concatenate(owners)[order]


def _outside_session(rows: pd.DataFrame, sessions: tuple[date, ...]) -> np.ndarray:
    start = rows["start"].array
    start_us = start.asi8
    day = rows["session"].array.asi8 // (86_400 * 1_000_000)
    outside = np.zeros(len(rows), dtype=bool)

    minute_bar = ~start.isna() & rows["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)
    minutes, owners = _minute_owners(sessions)
    minute = start_us // _US_PER_MINUTE
    at = np.searchsorted(minutes, minute).clip(0, len(minutes) - 1)
    inside = (start_us % _US_PER_MINUTE == 0) & (minutes[at] == minute) & (owners[at] == day)
    outside[minute_bar] = ~inside[minute_bar]

    day_bar = np.flatnonzero(
        ~start.isna() & rows["interval"].eq("1d").to_numpy(dtype=bool, na_value=False)
    )
    if len(day_bar):
        local = rows["start"].iloc[day_bar].dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None)
        outside[day_bar] = local.to_numpy("datetime64[D]").astype(np.int64) != day[day_bar]
    return outside


def _no_session(rows: pd.DataFrame, sessions: Sequence[date]) -> dict[str, np.ndarray]:
    """Which rows, on another New York date than their session, no gated session can hold: by
    kind (a later session not gated: one that had not ended when the source placed it)."""
    start = rows["start"].array
    ok = ~start.isna()
    days = new_york_days(np.where(ok, start.asi8, 0), ok)
    session = rows["session"].array.asi8 // (86_400 * 1_000_000)
    elsewhere = ok & (days != session)
    first, last = (_epoch_day(day) for day in (FIRST_SESSION, last_known_day()))
    before = elsewhere & (days < first)
    beyond = elsewhere & (days > last)
    known = elsewhere & ~before & ~beyond
    candidates = np.unique(days[known])
    open_days = (
        np.array(
            [_epoch_day(d) for d in sessions_in(_date(candidates[0]), _date(candidates[-1]))],
            dtype=np.int64,
        )
        if len(candidates)
        else np.zeros(0, np.int64)
    )
    real = known & np.isin(days, open_days)
    gated = np.isin(days, np.array([_epoch_day(day) for day in sessions], dtype=np.int64))
    return {
        "no_session": known & ~real,
        "before_first_session": before,
        "not_ended": beyond | (real & (days > session) & ~gated),
    }


def _epoch_day(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


def _date(number: int) -> date:
    return date.fromordinal(int(number) + _EPOCH_ORDINAL)


def _bars(rows: pd.DataFrame, passed: np.ndarray, symbols: np.ndarray) -> pd.DataFrame:
    minute_bar = rows["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)[passed]
    order = np.lexsort((minute_bar, rows["start"].array.asi8[passed], symbols[passed]))
    bars = rows[list(_BARS)].iloc[passed[order]]  # "1d" before "1m" at one start
    return bars.astype(_BARS).reset_index(drop=True)


def _quarantine(
    rejected: pd.DataFrame, reasons: np.ndarray, row_text: RowText | None
) -> pd.DataFrame:
    return quarantine_rows(rejected, reasons, row_text, BAR_REASONS, _INPUT, _QUARANTINE)


def quarantine_rows(
    rejected: pd.DataFrame,
    reasons: np.ndarray,
    row_text: RowText | None,
    names: Sequence[str],
    inputs: Iterable[str],
    columns: Iterable[str],
) -> pd.DataFrame:
    """A gate's refused rows by session then source row: their `inputs` as read, the source
    row's text (`row_text`) and the names of their reason bits (`names[bit]`), as `columns`."""
    order = np.lexsort((rejected["row"].to_numpy(), rejected["session"].to_numpy()))
    rejected = rejected.iloc[order].reset_index(drop=True)
    reasons = reasons[order]
    raw = list(row_text(rejected)) if row_text is not None and len(rejected) else None
    if raw is not None and len(raw) != len(rejected):
        raise ValueError(f"row_text gave {len(raw)} texts for {len(rejected)} quarantined rows")
    codes, inverse = np.unique(reasons, return_inverse=True)
    lists = np.empty(len(codes), dtype=object)
    for i, code in enumerate(codes):
        lists[i] = [r for bit, r in enumerate(names) if code >> bit & 1]
    quarantine = rejected[list(inputs)].assign(
        raw=pd.Series(raw if raw is not None else [None] * len(rejected), dtype="str"),
        reasons=pd.Series([list(lists[i]) for i in inverse], dtype=object),
        session=rejected["session"],
    )
    return quarantine[list(columns)]

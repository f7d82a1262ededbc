"""Reading Alpha Vantage time-series bodies (TIME_SERIES_INTRADAY, _DAILY) into candidates.

A session's rows in a month body are those keyed by its date. A row whose key is no date, or a
date that is no session, belongs to the first session of the month (so each of the body's rows
is a candidate of exactly one session of the month).

Keys are naive US/Eastern timestamps ("YYYY-MM-DD HH:MM:SS", newest first), converted with
America/New_York (DST-correct; a time that does not exist or exists twice is unparseable).
AV does not document whether a key labels a bar's start or its end. The evidence found points to
the start: sample answers quoted in public code give 19:55:00 as the latest key of an extended-
hours series (trading ends at 20:00), and RomelTorres/alpha_vantage#205 shows a 1-minute series
whose last key is 11:29:00 for a market closing at 11:30 ET; samples with a 16:00:00 key fit
either reading (closing-auction prints are stamped 16:00). So a key is read as the bar's first
minute, and a 16:00:00 bar falls outside the session for the gate to judge. "5. volume" is the
bar's own volume, not a running total.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from marketdata_assets.market.calendar import EXCHANGE_TZ, session_bounds, sessions_in
from marketdata_assets.providers.bars import BodyReading, Rows
from marketdata_assets.providers.fetching import detail

INTRADAY = "Time Series (1min)"
DAILY = "Time Series (Daily)"
_FIELDS = {"open": "1. open", "high": "2. high", "low": "3. low", "close": "4. close",
           "volume": "5. volume"}  # fmt: skip
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def refusal(body: dict[str, Any]) -> str | None:
    """AV's typed refusal in a body ("Kind: message"), None when it refuses nothing."""
    if "Error Message" in body:
        return f"InvalidRequest: {detail(body['Error Message'])}"
    if "Note" in body:
        return f"RateLimited: {detail(body['Note'])}"
    if "Information" in body:
        text = detail(body["Information"], limit=None)
        if "per day" in text or "daily" in text:
            kind = "DailyLimit"
        elif "premium" in text.lower():
            kind = "Premium"
        else:
            kind = "Refused"
        return f"{kind}: {detail(text)}"
    return None


def read_series(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    """The candidates of `session` in a TIME_SERIES_INTRADAY or _DAILY body."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    said = refusal(data)
    if said is not None:
        return BodyReading(error=said)
    labels, values, daily = _series(data)
    days, stamps = _stamps(labels, daily)
    items = np.flatnonzero(_home(days, session))
    starts = _daily_starts(days[items]) if daily else _eastern(stamps[items])
    rows = Rows(
        item=items.astype(np.int64),
        start_us=starts.as_unit("us").asi8,
        start_ok=~starts.isna(),
        **{
            name: np.array([_decimal(values[i], field) for i in items], dtype=np.float64)
            for name, field in _FIELDS.items()
        },
        interval="1d" if daily else "1m",
        symbol=symbol,
    )
    notes = []
    if daily:
        notes.append(
            f"{symbol} {session.isoformat()}: daily bar only (Alpha Vantage keeps 1-minute "
            "history for premium keys)"
        )
    if not len(rows):
        notes.append(f"{symbol} {session.isoformat()}: no bars in Alpha Vantage's answer")
    return BodyReading(rows, notes=notes)


def series_row_text(body: str, item: int) -> str:
    """Row `item` of a series body: its key and fields as received, as compact JSON."""
    labels, values, _ = _body_series(body)
    if not 0 <= item < len(labels):
        raise IndexError(f"series row {item}: the body has {len(labels)} rows")
    return json.dumps({labels[item]: values[item]}, separators=(",", ":"))


@lru_cache(maxsize=8)
def _body_series(body: str) -> tuple[list[str], list[Any], bool]:
    """A series body's keys and rows (cached: a body's rows are asked for one by one)."""
    return _series(json.loads(body))


def _series(data: dict[str, Any]) -> tuple[list[str], list[Any], bool]:
    """The body's series keys, rows and whether it is daily; ValueError without a series."""
    name = next((key for key in (INTRADAY, DAILY) if isinstance(data.get(key), dict)), None)
    if name is None:
        raise ValueError("no time series")
    return list(data[name]), list(data[name].values()), name == DAILY


def _stamps(labels: list[str], daily: bool) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Each key's New York date (NaT when it is no date) and naive local time."""
    form = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S"
    stamps = pd.DatetimeIndex(pd.to_datetime(pd.Series(labels, dtype=object), format=form,
                                             errors="coerce"))  # fmt: skip
    return stamps.normalize().to_numpy("datetime64[D]"), stamps


def _home(days: np.ndarray, session: date) -> np.ndarray:
    """Which rows are `session`'s: those of its date, and (for the month's first session) those
    whose date is no session."""
    known = days[~np.isnat(days)]
    sessions = (
        np.array(sessions_in(known.min().item(), known.max().item()), dtype="datetime64[D]")
        if len(known)
        else np.zeros(0, "datetime64[D]")
    )
    mine = days == np.datetime64(session, "D")
    if session == _first_session(session.year, session.month):
        mine |= ~np.isin(days, sessions)
    return mine


@lru_cache(maxsize=64)
def _first_session(year: int, month: int) -> date:
    last = (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd()).date()
    return sessions_in(date(year, month, 1), last)[0]


def _eastern(stamps: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Naive New York times as UTC instants (NaT where the time is missing, or does not exist or
    exists twice on a DST change day)."""
    local = stamps.tz_localize(EXCHANGE_TZ, ambiguous="NaT", nonexistent="NaT")
    return local.tz_convert("UTC")


def _daily_starts(days: np.ndarray) -> pd.DatetimeIndex:
    """A daily bar's first instant: its session's open, or New York midnight of a day that is no
    session (the gate judges that bar)."""
    starts = []
    for day in days:
        if np.isnat(day):
            starts.append(pd.NaT)
            continue
        on = day.item()
        opening = session_bounds(on)[0] if sessions_in(on, on) else None
        starts.append(opening if opening is not None else pd.Timestamp(on, tz=EXCHANGE_TZ))
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(starts, dtype=object), utc=True))


def _decimal(row: object, field: str) -> float:
    """A field of a row as a number: AV's decimal strings, or JSON numbers; else NaN."""
    value = row.get(field) if isinstance(row, dict) else None
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    if type(value) in (int, float):
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            return np.nan
    return np.nan

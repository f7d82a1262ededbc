"""Chart-shaped history bodies: Yahoo's chart JSON, which the stub's history writes too.

A chart body carries its bars as columns: `timestamp` (epoch seconds, the bar's start) and
`indicators.quote[0]` {open, high, low, close, volume}. Row `i` of the body is position `i` of
those lists. A minute without trades may be null in all five fields: such a row is no bar and
becomes no candidate (it is counted nowhere); a row with only some fields null is a candidate,
for the gate to judge.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from marketdata_assets.providers.bars import BodyReading, Rows, numbers

_FIELDS = ("open", "high", "low", "close", "volume")
# Epoch seconds a datetime can hold (years 1 to 9999).
_EPOCH_RANGE = (-62_135_596_800, 253_402_300_799)


def read_chart(
    body: str, symbol: str, session: date, envelope: dict[str, Any], daily_note: str = ""
) -> BodyReading:
    """The candidates of a chart body; a chart `error` is the provider's refusal. A body of
    daily bars gets a note, saying why (`daily_note`) when the source knows."""
    chart = json.loads(body)["chart"]
    if chart.get("error"):
        said = chart["error"]
        said = said.get("description", said) if isinstance(said, dict) else said
        return BodyReading(error=f"ProviderError: {' '.join(str(said).split())}")
    result = chart["result"][0]
    columns = _columns(result)
    timestamps = columns.pop("timestamp")
    count = max(len(values) for values in (timestamps, *columns.values()))
    columns = {name: values + [None] * (count - len(values)) for name, values in columns.items()}
    timestamps = timestamps + [None] * (count - len(timestamps))
    kinds = {name: set(map(type, values)) for name, values in columns.items()}
    items = np.arange(count)
    if all(type(None) in kind for kind in kinds.values()):  # maybe rows that are no bar
        absent = [np.array([value is None for value in values]) for values in columns.values()]
        items = np.flatnonzero(~np.logical_and.reduce(absent))
    start_us, start_ok = epoch_micros(timestamps)
    daily = _granularity(result, envelope) == "1d"
    rows = Rows(
        item=items,
        start_us=start_us[items],
        start_ok=start_ok[items],
        **{name: numbers(columns[name], kinds[name])[items] for name in _FIELDS},
        interval="1d" if daily else "1m",
        symbol=symbol,
    )
    notes = []
    if daily:
        why = f" ({daily_note})" if daily_note else ""
        notes.append(f"{symbol} {session.isoformat()}: daily bars only{why}")
    if not len(rows):
        notes.append(f"{symbol} {session.isoformat()}: no bars in the answer")
    return BodyReading(rows, notes=notes)


def chart_row_text(body: str, item: int) -> str:
    """Row `item` of a chart body: its fields as received, as compact JSON."""
    columns = _body_columns(body)
    if not 0 <= item < max(len(values) for values in columns.values()):
        raise IndexError(f"chart row {item}: the body has no such row")
    row = {name: values[item] for name, values in columns.items() if item < len(values)}
    return json.dumps(row, separators=(",", ":"))


@lru_cache(maxsize=8)
def _body_columns(body: str) -> dict[str, list[Any]]:
    """A chart body's columns (cached: a body's rows are asked for one by one)."""
    return _columns(json.loads(body)["chart"]["result"][0])


def _columns(result: dict[str, Any]) -> dict[str, list[Any]]:
    """`timestamp` and the five quote fields as lists ([] where absent or not a list)."""
    indicators = result.get("indicators")
    quotes = indicators.get("quote") if isinstance(indicators, dict) else None
    quote = quotes[0] if isinstance(quotes, list) and quotes and isinstance(quotes[0], dict) else {}
    columns = {"timestamp": result.get("timestamp")} | {name: quote.get(name) for name in _FIELDS}
    return {name: v if isinstance(v, list) else [] for name, v in columns.items()}


def _granularity(result: dict[str, Any], envelope: dict[str, Any]) -> str | None:
    """The interval the request asked for, else the one the body's meta states."""
    request = envelope.get("request")
    if isinstance(request, str):
        try:
            asked = parse_qs(urlsplit(request).query).get("interval")
        except ValueError:  # not a URL
            asked = None
        if asked:
            return asked[-1]
    meta = result.get("meta")
    return meta.get("dataGranularity") if isinstance(meta, dict) else None


def epoch_micros(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds as epoch microseconds, and where they are numbers a datetime can hold."""
    lo, hi = _EPOCH_RANGE
    if set(map(type, values)) <= {int}:
        try:
            seconds = np.array(values, dtype=np.int64)
        except OverflowError:  # an integer beyond int64: read as floats below
            pass
        else:
            ok = (seconds >= lo) & (seconds <= hi)
            return np.where(ok, seconds, 0) * 1_000_000, ok
    floats = numbers(values)
    with np.errstate(invalid="ignore"):
        ok = (floats >= lo) & (floats <= hi)
    return np.round(np.where(ok, floats, 0.0) * 1_000_000).astype(np.int64), ok

"""The one parser of raw_history payloads (the envelopes of `providers.history`).

`parse_history` turns a payload into bar candidates (one per source row, never dropped nor
deduplicated: the bars gate judges them), the symbols the provider did not deliver (`errors`) and
notes for the user. It is total: a line that is no envelope is one `unparseable` candidate, a
body that cannot be read one `unparseable` candidate of its symbol (both with `item` WHOLE, so
`row_text` gives the whole line or body). Bodies are read by their source's module: chart bodies
(stub, yahoo) in `yahoo_history`, series (alphavantage) in `alphavantage_history`, CSV (file) in
`file_history`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from marketdata_assets.market.records import BAR_CANDIDATE_SCHEMA
from marketdata_assets.providers.fetching import detail
from marketdata_assets.providers.history import read_envelope

CANDIDATE_SCHEMA: dict[str, str] = {
    **{name: dtype for name, dtype in BAR_CANDIDATE_SCHEMA.items() if name != "raw"},
    "line": "int64",
    "item": "int64",
}
_NAT = np.iinfo(np.int64).min
# The `item` of a candidate that is a whole line or body which could not be read.
WHOLE = -1


@dataclass
class Rows:
    """A body's candidate rows as columns; `start_us` holds epoch microseconds where `start_ok`.

    `symbol` is one symbol for every row or a per-row object array; `problem` likewise (None:
    no problem on any row).
    """

    item: np.ndarray
    start_us: np.ndarray
    start_ok: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    interval: str | None  # None: rows that cannot be read
    symbol: str | np.ndarray | None
    problem: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.item)


@dataclass
class BodyReading:
    """What a body reader found: rows, the provider's refusal (then no rows), notes."""

    rows: Rows | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


# Reads one envelope's body: (body, symbol, session, envelope) -> its reading.
BodyReader = Callable[[str, str, date, dict[str, Any]], BodyReading]
# Gives one row's original text: (body, item) -> text.
RowTexter = Callable[[str, int], str]


@dataclass(frozen=True)
class HistoryParse:
    """A payload's bar candidates (CANDIDATE_SCHEMA), provider errors by symbol, notes."""

    candidates: pd.DataFrame
    errors: dict[str, str]
    notes: list[str]


def parse_history(payload: bytes, session: date) -> HistoryParse:
    """The candidates, errors and notes of `session`'s raw_history payload. Total."""
    parts: list[tuple[int, str | None, Rows]] = []
    errors: dict[str, str] = {}
    notes: list[str] = []
    for number, line in enumerate(_lines(payload)):
        if not line.strip():
            continue  # a blank line holds no record
        envelope = read_envelope(line)
        if envelope is None:
            parts.append((number, None, unreadable(None)))
            continue
        symbol = envelope["symbol"]
        if envelope.get("error") is not None:
            errors[symbol] = detail(envelope["error"])
            continue
        reading = _read(envelope, session)
        if reading.error is not None:
            errors[symbol] = reading.error
        if reading.rows is not None and len(reading.rows):
            parts.append((number, envelope["source"], reading.rows))
        notes.extend(reading.notes)
    return HistoryParse(_frame(parts), errors, notes)


def row_text(payload: bytes, line: int, item: int) -> str:
    """The original text of one source row: for `item` WHOLE, the line's body (or the line itself
    when it is no envelope or has no body text); else the body's reader's text of row `item`.
    IndexError when the payload has no such line or row."""
    raw, envelope = _line(payload, line)
    body = envelope.get("body") if envelope is not None else None
    if item == WHOLE:
        return body if isinstance(body, str) else raw.decode("utf-8", "replace")
    texter = _texter(envelope["source"]) if envelope is not None else None
    if texter is None or not isinstance(body, str):
        raise IndexError(f"raw_history line {line} has no row {item}")
    return texter(body, item)


@lru_cache(maxsize=8)
def _line(payload: bytes, line: int) -> tuple[bytes, dict[str, Any] | None]:
    """Line `line` of `payload` and its envelope. Cached: the quarantine asks for the texts of
    a session's rows one by one, in line order."""
    lines = _lines(payload)
    if not 0 <= line < len(lines):
        raise IndexError(f"raw_history line {line}: the payload has {len(lines)} lines")
    return lines[line], read_envelope(lines[line])


def unreadable(symbol: str | None, items: np.ndarray | None = None) -> Rows:
    """`unparseable` candidates, one per item (default: one, WHOLE), for what cannot be read."""
    items = np.full(1, WHOLE, np.int64) if items is None else items.astype(np.int64)
    count = len(items)
    return Rows(
        item=items,
        start_us=np.zeros(count, np.int64),
        start_ok=np.zeros(count, bool),
        **{name: np.full(count, np.nan) for name in ("open", "high", "low", "close", "volume")},
        interval=None,
        symbol=symbol,
        problem=np.full(count, "unparseable", dtype=object),
    )


def numbers(values: list[Any], kinds: set[type] | None = None) -> np.ndarray:
    """JSON values as float64: numbers as they are, anything else (null, text, booleans) NaN.
    `kinds`, the set of the values' types, when the caller has it."""
    kinds = set(map(type, values)) if kinds is None else kinds
    if kinds <= {float, int, type(None)}:
        try:
            return np.array(values, dtype=np.float64)
        except OverflowError:  # an integer beyond float's range
            pass
    return np.array([_number(value) for value in values], dtype=np.float64)


def _number(value: object) -> float:
    if type(value) not in (float, int):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return np.nan


def _lines(payload: bytes) -> list[bytes]:
    lines = payload.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _read(envelope: dict[str, Any], session: date) -> BodyReading:
    symbol, body = envelope["symbol"], envelope.get("body")
    reader = _reader(envelope["source"])
    if reader is None or not isinstance(body, str):
        return BodyReading(unreadable(symbol))
    try:
        return reader(body, symbol, session, envelope)
    except Exception:  # totality: an unforeseen body costs its own row, never the session
        return BodyReading(unreadable(symbol))


def _reader(source: str) -> BodyReader | None:
    if source in ("stub", "yahoo"):
        from marketdata_assets.providers.yahoo_history import read_chart

        return read_chart
    if source == "alphavantage":
        from marketdata_assets.providers.alphavantage_history import read_series

        return read_series
    if source == "file":
        from marketdata_assets.providers.file_history import read_csv

        return read_csv
    return None


def _texter(source: str) -> RowTexter | None:
    if source in ("stub", "yahoo"):
        from marketdata_assets.providers.yahoo_history import chart_row_text

        return chart_row_text
    if source == "alphavantage":
        from marketdata_assets.providers.alphavantage_history import series_row_text

        return series_row_text
    if source == "file":
        from marketdata_assets.providers.file_history import csv_row_text

        return csv_row_text
    return None


def _frame(parts: list[tuple[int, str | None, Rows]]) -> pd.DataFrame:
    """The candidates of every (line, source, rows) part, in payload order, as CANDIDATE_SCHEMA."""
    lengths = np.array([len(rows) for _, _, rows in parts], dtype=np.int64)
    owner = np.repeat(np.arange(len(parts)), lengths)  # the part of each row

    def numbers_of(name: str, dtype: Any) -> np.ndarray:
        pieces = [np.asarray(getattr(rows, name), dtype) for _, _, rows in parts]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype)

    start_ok = numbers_of("start_ok", bool)
    problem = _texts([rows.problem for _, _, rows in parts], owner, lengths)
    if not start_ok.all():  # a start that cannot be read, on a row without a worse problem
        problem = pa.array(
            np.where(~start_ok & ~problem.is_valid().to_numpy(zero_copy_only=False),
                     "unparseable_ts", problem.to_numpy(zero_copy_only=False)),
            pa.string(),
        )  # fmt: skip
    start = np.where(start_ok, numbers_of("start_us", np.int64), _NAT)
    frame = pd.DataFrame(
        {
            "row": np.arange(len(owner), dtype=np.int64),
            "symbol": _str(_texts([rows.symbol for _, _, rows in parts], owner, lengths)),
            "start": pd.DatetimeIndex(start.view("datetime64[us]")).tz_localize("UTC"),
            "interval": _str(_texts([rows.interval for _, _, rows in parts], owner, lengths)),
            **{
                name: numbers_of(name, np.float64)
                for name in ("open", "high", "low", "close", "volume")
            },
            "source": _str(_texts([source for _, source, _ in parts], owner, lengths)),
            "problem": _str(problem),
            "line": np.repeat(np.array([line for line, _, _ in parts], np.int64), lengths),
            "item": numbers_of("item", np.int64),
        }
    )
    return frame.astype(CANDIDATE_SCHEMA)


def _texts(values: list[Any], owner: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A string column from one value per part (repeated over its rows) or, for a part whose
    value is an array, one per row."""
    if not any(isinstance(value, np.ndarray) for value in values):
        return pa.array(values, pa.string()).take(pa.array(owner))
    pieces = [
        value if isinstance(value, np.ndarray) else np.full(length, value, dtype=object)
        for value, length in zip(values, lengths, strict=True)
    ]
    return pa.array(np.concatenate(pieces), pa.string())


def _str(texts: pa.Array) -> pd.Series:
    return pd.Series(texts, dtype="str")

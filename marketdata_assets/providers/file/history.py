"""A local CSV or Parquet file of 1-minute bars as a history source, and the reader of its bodies.

The file holds the columns symbol, ts, open, high, low, close, volume (in any order, others
allowed; names compared stripped and case-insensitive); `ts` is the bar's start, ISO-8601 with
an offset ("2026-11-25T09:30:00-05:00", "…Z"). Its kind is decided by content: Parquet's magic
`PAR1`, else UTF-8 text read as CSV. It is read and checked when the source is made: a file that
cannot be read, is neither, or lacks a column is a HistoryError; a row's defects (a bad ts, a
missing price) are never errors but candidates for the gate to judge.

A session's envelope per symbol holds the header line and the symbol's original lines whose ts
falls on the session (New York date); a Parquet file's rows are first written as CSV text (ts in
UTC). Each physical line is one row (a quoted field cannot span lines), a blank line is none, and
line endings become "\\n". A row whose ts names no instant (unreadable, or without an offset) or
whose New York date is no session goes to the payload of `first_session` (the backfill's first
session; by default the file's earliest), so a backfill over the file's range sees every row. A
row without a symbol belongs to no symbol: it goes to every fetch of its session.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from marketdata_assets.market.calendar import EXCHANGE_TZ, FIRST_SESSION, sessions_in
from marketdata_assets.providers.bars import BodyReading, Rows, unreadable
from marketdata_assets.providers.history import HistoryError, envelope, payload, require_session

COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close", "volume")
_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})"
)
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class FileHistory:
    name = "file"

    def __init__(self, source: str, *, first_session: date | None = None):
        self.request = Path(source).name
        self._header, self._lines = _table(source)
        where = _columns(source, self._header)
        fields = [_fields(line) for line in self._lines]
        symbols = [_cell(row, where["symbol"]) for row in fields]
        days = instants([_cell(row, where["ts"]) for row in fields])
        days = days.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize().to_numpy("datetime64[D]")
        known = days[~np.isnat(days)]
        sessions = np.array(
            sessions_in(known.min().item(), known.max().item()) if len(known) else [],
            dtype="datetime64[D]",
        )
        placed = np.isin(days, sessions)
        if first_session is None:
            first_session = days[placed].min().item() if placed.any() else FIRST_SESSION
        self._rows: dict[date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for number, (symbol, day, ok) in enumerate(zip(symbols, days, placed, strict=True)):
            if self._lines[number].strip():
                self._rows[day.item() if ok else first_session][symbol].append(number)
        self._symbols = sorted({symbol for symbol in symbols if symbol})

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        return 0

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        require_session(session)
        rows = self._rows.get(session, {})
        names = sorted(set(symbols) | ({""} & rows.keys()))
        return payload(
            [
                envelope(
                    self.name,
                    symbol,
                    session,
                    "".join(f"{line}\n" for line in [self._header, *self._texts(rows, symbol)]),
                    request=self.request,
                )
                for symbol in names
            ]
        )

    def _texts(self, rows: dict[str, list[int]], symbol: str) -> list[str]:
        return [self._lines[number] for number in rows.get(symbol, [])]


def read_csv(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    """The candidates of a CSV body: one per non-blank line after the header."""
    lines = _body_lines(body)
    items = [i for i, line in enumerate(lines[1:]) if line.strip()]
    where = _positions(lines[0]) if lines else None
    if where is None:  # no usable header: no line can be read
        rows = unreadable(None, np.array(items, dtype=np.int64))
        return BodyReading(rows, notes=_empty(symbol, session, envelope, items))
    fields = [_fields(lines[item + 1]) for item in items]
    starts = instants([_cell(row, where["ts"]) for row in fields])
    cells = [_cell(row, where["symbol"]) for row in fields]
    reading = Rows(
        item=np.array(items, dtype=np.int64),
        start_us=starts.as_unit("us").asi8,
        start_ok=~starts.isna(),
        **{
            name: np.array([_number(_cell(row, where[name])) for row in fields], np.float64)
            for name in _PRICES
        },
        interval="1m",
        symbol=np.array([cell or None for cell in cells], dtype=object),
    )
    return BodyReading(reading, notes=_empty(symbol, session, envelope, items))


def csv_row_text(body: str, item: int) -> str:
    """Data line `item` of a CSV body, exactly as in the file."""
    lines = _body_lines(body)
    if not 0 <= item < len(lines) - 1:
        raise IndexError(f"CSV row {item}: the body has {max(len(lines) - 1, 0)} data lines")
    return lines[item + 1]


def instants(texts: Sequence[str]) -> pd.DatetimeIndex:
    """ISO-8601 timestamps with an offset as UTC instants; NaT for any other text."""
    series = pd.Series(texts, dtype=object)
    shaped = series.map(lambda text: bool(_INSTANT.fullmatch(text.strip())))
    parsed = pd.to_datetime(series.where(shaped), format="ISO8601", utc=True, errors="coerce")
    return pd.DatetimeIndex(parsed).as_unit("us")


def _table(source: str) -> tuple[str, list[str]]:
    """The file's header line and data lines; a Parquet file written as CSV text first."""
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise HistoryError(
            f"--source {source!r}: cannot read the file ({error.strerror})"
        ) from None
    if data.startswith(b"PAR1"):
        text = _parquet_as_csv(source, data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = "\0"
        if "\0" in text:
            raise HistoryError(
                f"--source {source!r}: not a CSV or Parquet file (neither UTF-8 text nor "
                "Parquet's PAR1 magic)"
            )
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise HistoryError(
            f"--source {source!r}: empty; a history file starts with the header {','.join(COLUMNS)}"
        )
    return lines[0], lines[1:]


def _parquet_as_csv(source: str, data: bytes) -> str:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:  # pyarrow's errors are many: any of them means unreadable
        raise HistoryError(
            f"--source {source!r}: not a readable Parquet file ({type(error).__name__})"
        ) from None
    names = {name.strip().lower(): name for name in reversed(table.column_names)}
    _columns(source, ",".join(names))  # the same check as a CSV header's
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    columns = [_texts_of(table.column(names[name]).to_pandas()) for name in COLUMNS]
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def _texts_of(values: pd.Series) -> list[str]:
    """A Parquet column's values as CSV text: numbers as Python writes them (exact), instants
    in ISO-8601 (with the offset when the column has a time zone), null as empty."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        return ["" if pd.isna(v) else v.isoformat() for v in values]
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _columns(source: str, header: str) -> dict[str, int]:
    """Each required column's position in the file's `header`; HistoryError when one lacks."""
    where = _positions(header)
    if where is None:
        missing = [name for name in COLUMNS if name not in _names(header)]
        raise HistoryError(
            f"--source {source!r}: lacks the columns {','.join(missing)}; a history file has "
            f"the columns {','.join(COLUMNS)}"
        )
    return where


def _positions(header: str) -> dict[str, int] | None:
    """Each required column's position in `header`; None when one lacks."""
    names = _names(header)
    where = {name: names.index(name) for name in COLUMNS if name in names}
    return where if len(where) == len(COLUMNS) else None


def _names(header: str) -> list[str]:
    return [name.strip().lower() for name in _fields(header)]


def _fields(line: str) -> list[str]:
    return next(csv.reader([line])) if '"' in line else line.split(",")


def _cell(fields: list[str], position: int) -> str:
    return fields[position] if position < len(fields) else ""


def _number(text: str) -> float:
    text = text.strip()
    return float(text) if _DECIMAL.fullmatch(text) else np.nan


@lru_cache(maxsize=8)
def _body_lines(body: str) -> list[str]:
    lines = body.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _empty(symbol: str, session: date, envelope: dict[str, Any], items: list[int]) -> list[str]:
    if items:
        return []
    return [f"{symbol} {session.isoformat()}: no rows in {envelope.get('request')} on this day"]

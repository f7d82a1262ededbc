"""A local CSV or Parquet file of 1-minute bars as a history source, and the reader of its bodies.

The file holds the columns symbol, ts, open, high, low, close, volume (in any order, others
allowed; names compared stripped and case-insensitive); `ts` is the bar's start, ISO-8601 with
an offset ("2026-11-25T09:30:00-05:00", "…Z"). Its kind is decided by content: Parquet's magic
`PAR1`, else UTF-8 text read as CSV. It is read once (`table.load`: every batch of a backfill
reuses the parse) and checked when the source is made: a file that cannot be read, is neither,
or lacks a column is a HistoryError; a row's defects (a bad ts, a missing price) are never
errors but candidates for the gate to judge.

Every row has exactly one home. A row whose ts falls (New York date) on a session from
2010-01-04 to the last ended one is that session's. Any other row belongs to no session a
backfill can run: its ts names no instant (unreadable, or without an offset), its day is no
session, is before 2010-01-04 or has not ended (any year 0001-9999). Those rows are the
backfill's first session's (`first_session`, which the backfill passes to every batch, so the
rows land once; by default the file's earliest session), where the bars gate quarantines them
with their reason (`unparseable_ts`, `no_session`, `before_first_session`, `not_ended`). A
row of a session outside the backfill's range is in no fetch: the backfill counts it
(`outside_range`). A row without a symbol goes to every fetch of its session.

An `--actions` file's rows ride in the same envelopes (`file.actions`).

A session's envelope per symbol holds the symbol's rows of that home: for a CSV file, the header
line and the rows' original lines; for a Parquet file, JSON Lines: the column names, then one
JSON array of each row's cells as text (so a cell holding a newline stays in its row).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from marketdata_assets.market.calendar import (
    FIRST_SESSION,
    last_ended_session,
    new_york_days,
    sessions_in,
)
from marketdata_assets.providers.bars import BodyReading, Rows, unreadable
from marketdata_assets.providers.file.actions import ActionsFile
from marketdata_assets.providers.file.table import (
    COLUMNS,
    FileTable,
    cell_texts,
    fields,
    instants,
    load,
)
from marketdata_assets.providers.history import envelope, payload, require_session

_PRICES = ("open", "high", "low", "close", "volume")
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class FileHistory:
    name = "file"

    def __init__(
        self, source: str, *, first_session: date | None = None, actions: str | None = None
    ):
        self.request = Path(source).name
        self._table = load(source)
        table = self._table
        kept = ~table.blank()
        days = new_york_days(table.start_us, table.start_ok)
        ended = last_ended_session()
        sessions = np.array(sessions_in(FIRST_SESSION, ended), dtype="datetime64[D]").astype(
            np.int64
        )
        placed = table.start_ok & np.isin(days, sessions)
        if first_session is None:
            chosen = days[placed & kept]
            first_session = _day(int(chosen.min())) if len(chosen) else FIRST_SESSION
        self._days, self._placed, self._kept = days, placed, kept
        home = np.where(placed, days, _day_number(first_session))
        symbols = table.symbol.dictionary_encode()
        names = symbols.dictionary.to_pylist()
        codes = symbols.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        rows = np.flatnonzero(kept)
        order = rows[np.lexsort((codes[rows], home[rows]))]  # stable: file order within a group
        key = home[order] * (len(names) + 1) + codes[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        self._rows: dict[tuple[date, str], np.ndarray] = {
            (_day(int(home[group[0]])), names[codes[group[0]]]): group
            for group in np.split(order, cuts)
            if len(group)
        }
        self._symbols = sorted({symbol for _, symbol in self._rows if symbol})
        self._actions = ActionsFile(actions, first_session) if actions else None

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        return 0

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def outside_range(self, first: date, last: date, symbols: Sequence[str]) -> int:
        """The rows of `symbols` (and without a symbol) on sessions a backfill can run that lie
        outside `first`..`last`: in no fetch of that backfill."""
        lo, hi = _day_number(first), _day_number(last)
        outside = self._placed & self._kept & ((self._days < lo) | (self._days > hi))
        wanted = np.isin(
            self._table.symbol.to_numpy(zero_copy_only=False), [*symbols, ""]
        )  # fmt: skip
        return int((outside & wanted).sum())

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        require_session(session)
        blank = (session, "") in self._rows or bool(
            self._actions and self._actions.has(session, "")
        )
        names = sorted(set(symbols) | ({""} if blank else set()))
        return payload(
            [
                envelope(
                    self.name,
                    symbol,
                    session,
                    self._body(self._rows.get((session, symbol), np.zeros(0, np.int64))),
                    request=self.request,
                    actions=self._actions.body(session, symbol) if self._actions else None,
                )
                for symbol in names
            ]
        )

    def _body(self, rows: np.ndarray) -> str:
        return body_text(self._table, rows)


def body_text(table: FileTable, rows: np.ndarray) -> str:
    """The body of `rows`: CSV lines after the header, or JSON Lines of a Parquet file's cells."""
    taken = pa.array(rows, pa.int64())
    if table.kind == "csv":
        lines = [table.header, *table.rows.take(taken).to_pylist()]
        return "".join(f"{line}\n" for line in lines)
    assert isinstance(table.rows, pa.Table)
    part = table.rows.take(taken)
    columns = [cell_texts(part.column(name)) for name in COLUMNS]
    lines = [
        json.dumps(list(COLUMNS)),
        *(_json(row) for row in zip(*columns, strict=True)),
    ]
    return "".join(f"{line}\n" for line in lines)


def read_body(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    """The candidates of a file body: one per row after the header (a CSV body's non-blank
    lines, a JSON body's lines)."""
    lines = _body_lines(body)
    json_rows = bool(lines) and _json_header(lines[0]) is not None
    items = [i for i, line in enumerate(lines[1:]) if line.strip()]
    header = _json_header(lines[0]) if json_rows else (fields(lines[0]) if lines else None)
    where = _positions(header) if header is not None else None
    if where is None:  # no usable header: no row can be read
        rows = unreadable(None, np.array(items, dtype=np.int64))
        return BodyReading(rows, notes=_empty(symbol, session, envelope, items))
    cells = [(_json_cells if json_rows else fields)(lines[item + 1]) for item in items]
    start_us, start_ok = instants(pa.array([_cell(row, where["ts"]) for row in cells], pa.string()))
    symbols = [_cell(row, where["symbol"]) for row in cells]
    reading = Rows(
        item=np.array(items, dtype=np.int64),
        start_us=start_us,
        start_ok=start_ok,
        **{
            name: np.array([_number(_cell(row, where[name])) for row in cells], np.float64)
            for name in _PRICES
        },
        interval="1m",
        symbol=np.array([cell or None for cell in symbols], dtype=object),
    )
    return BodyReading(reading, notes=_empty(symbol, session, envelope, items))


def body_row_text(body: str, item: int) -> str:
    """Row `item` of a file body, whole: a CSV line exactly as in the file, or a Parquet row's
    JSON array of cells."""
    lines = _body_lines(body)
    if not 0 <= item < len(lines) - 1:
        raise IndexError(f"file row {item}: the body has {max(len(lines) - 1, 0)} rows")
    return lines[item + 1]


def _json_header(line: str) -> list[str] | None:
    """A Parquet body's first line: the JSON list of its column names (None: a CSV header)."""
    if not line.startswith("["):
        return None
    try:
        names = json.loads(line)
    except ValueError:
        return None
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None


def _json_cells(line: str) -> list[str]:
    try:
        cells = json.loads(line)
    except ValueError:
        return []
    if not isinstance(cells, list):
        return []
    return [cell if isinstance(cell, str) else "" for cell in cells]


def _positions(header: list[str]) -> dict[str, int] | None:
    names = [name.strip().lower() for name in header]
    where = {name: names.index(name) for name in COLUMNS if name in names}
    return where if len(where) == len(COLUMNS) else None


def _cell(cells: list[str], position: int) -> str:
    return cells[position] if position < len(cells) else ""


def _number(text: str) -> float:
    text = text.strip()
    return float(text) if _DECIMAL.fullmatch(text) else np.nan


@lru_cache(maxsize=8)
def _body_lines(body: str) -> list[str]:
    lines = body.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _day(number: int) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + number)


def _day_number(day: date) -> int:
    return day.toordinal() - date(1970, 1, 1).toordinal()


def _empty(symbol: str, session: date, envelope: dict[str, Any], items: list[int]) -> list[str]:
    if items:
        return []
    return [f"{symbol} {session.isoformat()}: no rows in {envelope.get('request')} on this day"]


def _json(cells: tuple[str, ...]) -> str:
    return json.dumps(list(cells), separators=(",", ":"))

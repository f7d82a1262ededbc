"""A local CSV or Parquet file of corporate actions (`--actions`), landed with the file's bars.

The file holds the columns symbol, ex_date (YYYY-MM-DD), kind (split or dividend) and value (a
split's new shares per old, a dividend's cash per share), and may hold currency (names compared
stripped and case-insensitive, others allowed). Its kind is decided by content, as a bars file's
(Parquet's magic `PAR1`, else UTF-8 CSV); a file that cannot be read, or lacks a column, is a
HistoryError of one line before anything is written. A row's defects (a bad date, an unknown
kind) are candidates for the actions gate.

A row's home is its ex-date when that is an NYSE session up to the last ended one, else the
backfill's first session (where the gate quarantines it with its reason). A session's envelope
of a symbol carries the symbol's rows of that home as its `actions` member: for a CSV file the
header and the rows' lines, for a Parquet file JSON Lines of the column names and each row's
cells as text.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from marketdata_assets.market.calendar import FIRST_SESSION, last_ended_session, sessions_in
from marketdata_assets.providers.action_rows import ActionRow, unreadable
from marketdata_assets.providers.file.table import cell_texts, fields
from marketdata_assets.providers.history import HistoryError

REQUIRED = ("symbol", "ex_date", "kind", "value")
COLUMNS = (*REQUIRED, "currency")


class ActionsFile:
    """The rows of an actions file, by (home session, symbol)."""

    def __init__(self, source: str, first_session: date):
        self.request = Path(source).name
        header, lines, self._json = _load(source)
        self.header = header
        ended = {d.isoformat() for d in sessions_in(FIRST_SESSION, last_ended_session())}
        where = {name: header.index(name) for name in COLUMNS if name in header}
        self._rows: dict[tuple[date, str], list[str]] = {}
        for line in lines:
            cells = _json_cells(line) if self._json else fields(line)
            day = _cell(cells, where["ex_date"]).strip()
            home = date.fromisoformat(day) if day in ended else first_session
            symbol = _cell(cells, where["symbol"]).strip()
            self._rows.setdefault((home, symbol), []).append(line)

    def body(self, session: date, symbol: str) -> str | None:
        """The `actions` member of the symbol's envelope in `session` (None: no rows there)."""
        rows = self._rows.get((session, symbol))
        if not rows:
            return None
        return "".join(f"{line}\n" for line in [self._header_line(), *rows])

    def has(self, session: date, symbol: str) -> bool:
        return (session, symbol) in self._rows

    def _header_line(self) -> str:
        return json.dumps(self.header) if self._json else ",".join(self.header)


def _load(source: str) -> tuple[list[str], list[str], bool]:
    """The lower-cased header, the data lines (a Parquet file's rows as JSON arrays) and
    whether the file is Parquet."""
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise HistoryError(
            f"--actions {source!r}: cannot read the file ({error.strerror})"
        ) from None
    parquet = data[:4] == b"PAR1"
    if parquet:
        header, lines = _parquet(source)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise HistoryError(f"--actions {source!r}: neither Parquet nor UTF-8 CSV") from None
        all_lines = text.replace("\r\n", "\n").split("\n")
        header = [name.strip().lower() for name in fields(all_lines[0])] if all_lines else []
        lines = [line for line in all_lines[1:] if line.strip()]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise HistoryError(
            f"--actions {source!r}: lacks the columns {','.join(missing)}; an actions file has "
            f"the columns {','.join(REQUIRED)} and may have currency"
        )
    return header, lines, parquet


def _parquet(source: str) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(source)
    except Exception as error:  # pyarrow's errors are many: any of them means unreadable
        raise HistoryError(
            f"--actions {source!r}: not a readable Parquet file ({type(error).__name__})"
        ) from None
    header = [name.strip().lower() for name in table.column_names]
    columns = [cell_texts(table.column(i)) for i in range(table.num_columns)]
    lines = [json.dumps(list(row), separators=(",", ":")) for row in zip(*columns, strict=True)]
    return header, lines


def read_actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    """The action rows of the envelope's `actions` member (none without one)."""
    body = envelope.get("actions")
    if body is None:
        return []
    lines = _lines(body)
    header = _header(lines[0]) if lines else None
    if header is None or any(name not in header for name in REQUIRED):
        return [unreadable(envelope.get("symbol"), item) for item in range(len(lines) - 1)] or [
            unreadable(envelope.get("symbol"))
        ]
    where = {name: header.index(name) for name in COLUMNS if name in header}
    rows = []
    for item, line in enumerate(lines[1:]):
        cells = _json_cells(line) if line.startswith("[") else fields(line)
        text = {name: _cell(cells, at).strip() for name, at in where.items()}
        ex_date = _date(text["ex_date"])
        rows.append(
            ActionRow(
                item,
                text["symbol"].upper() or None,
                ex_date,
                text["kind"].lower() or None,
                _number(text["value"]),
                text.get("currency", "").upper() or None,
                None if ex_date is not None else "unparseable_date",
            )
        )
    return rows


def action_row_text(envelope: dict[str, Any], item: int) -> str:
    """Row `item` of the envelope's `actions` member, exactly as in the file (a Parquet row: its
    JSON array of cells); the whole member for WHOLE."""
    body = envelope.get("actions")
    lines = _lines(body) if isinstance(body, str) else []
    if item < 0:
        return body if isinstance(body, str) else ""
    if not 0 <= item < len(lines) - 1:
        raise IndexError(f"actions row {item}: the envelope has {max(len(lines) - 1, 0)} rows")
    return lines[item + 1]


def _lines(body: str) -> list[str]:
    lines = body.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _header(line: str) -> list[str] | None:
    if line.startswith("["):
        names = _json_cells(line)
        return [name.strip().lower() for name in names] if names else None
    return [name.strip().lower() for name in fields(line)]


def _json_cells(line: str) -> list[str]:
    try:
        cells = json.loads(line)
    except ValueError:
        return []
    return [c if isinstance(c, str) else "" for c in cells] if isinstance(cells, list) else []


def _cell(cells: list[str], position: int) -> str:
    return cells[position] if position < len(cells) else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan

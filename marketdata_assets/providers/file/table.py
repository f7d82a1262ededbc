"""A history file read once: its rows as rows, each row's symbol and start, in Arrow memory.

A CSV file's rows are its physical lines (a quoted field cannot span lines; line endings
become "\\n"; a blank line is no row), kept as one Arrow string array. A Parquet file is read
in record batches into its Arrow table (the seven columns) and stays a table: its rows are
rendered as text only for the sessions fetched, never written out and split again, so a cell
holding a newline stays in its row. Only the symbol and `ts` cells are extracted from every
row, in chunks, vectorised where the line holds no quote. Memory is about the decoded size:
no Python object per row or cell.

`load(path)` caches the last file read, keyed by its resolved path, size and modification
time: every batch of a backfill (each a Dagster run in the same process) reuses one parse.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marketdata_assets.providers.history import HistoryError

COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume")
_INSTANT = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})"
_SHAPED = re.compile(_INSTANT)
_CHUNK = 262_144  # rows whose cells are extracted at once (bounds the transient memory)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class FileTable:
    """A file's rows: `symbol` (text per row, "" when none), `start_us`/`start_ok` (each row's
    start, epoch microseconds, where its ts names an instant) and the rows themselves."""

    kind: str  # "csv" or "parquet"
    header: str  # a CSV file's header line (a Parquet file: the column names joined by ",")
    symbol: pa.Array
    start_us: np.ndarray
    start_ok: np.ndarray
    rows: pa.Array | pa.Table  # CSV: the data lines (blank ones included); Parquet: the table

    def __len__(self) -> int:
        return len(self.start_us)

    def blank(self) -> np.ndarray:
        """Which rows are no rows (a CSV file's blank lines)."""
        if self.kind != "csv":
            return np.zeros(len(self), dtype=bool)
        stripped = pc.utf8_trim_whitespace(self.rows)
        return pc.equal(stripped, "").to_numpy(zero_copy_only=False)


def load(source: str) -> FileTable:
    """The file's table, parsed once for as long as the file is unchanged."""
    path = Path(source)
    try:
        resolved = path.resolve()
        stat = resolved.stat()
    except OSError as error:
        raise HistoryError(
            f"--source {source!r}: cannot read the file ({error.strerror})"
        ) from None
    return _cached(str(resolved), stat.st_size, stat.st_mtime_ns, source)


@lru_cache(maxsize=1)
def _cached(resolved: str, size: int, mtime_ns: int, source: str) -> FileTable:
    return parse(resolved, source)


def parse(path: str, source: str) -> FileTable:
    """Read and check the file at `path` (named `source` in errors); HistoryError when it cannot
    be read, is neither CSV nor Parquet, or lacks a column."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise HistoryError(
            f"--source {source!r}: cannot read the file ({error.strerror})"
        ) from None
    return _parquet(path, source) if magic == b"PAR1" else _csv(path, source)


def positions(source: str, header: str) -> dict[str, int]:
    """Each required column's position in `header`; HistoryError when one lacks."""
    names = [name.strip().lower() for name in fields(header)]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise HistoryError(
            f"--source {source!r}: lacks the columns {','.join(missing)}; a history file has "
            f"the columns {','.join(COLUMNS)}"
        )
    return {name: names.index(name) for name in COLUMNS}


def fields(line: str) -> list[str]:
    """One CSV line's fields (the csv module's quoting when the line holds a quote)."""
    return next(csv.reader([line]), []) if '"' in line else line.split(",")


def instants(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """ISO-8601 timestamps with an offset as epoch microseconds and whether each is one; any
    other text is not. Any year 0001-9999 is an instant (none overflows)."""
    trimmed = pc.utf8_trim_whitespace(texts.cast(pa.large_string()))
    shaped = pc.match_substring_regex(trimmed, f"^{_INSTANT}$").fill_null(False)
    values = trimmed.to_numpy(zero_copy_only=False)
    ok = shaped.to_numpy(zero_copy_only=False).astype(bool)
    start = np.zeros(len(values), dtype=np.int64)
    if ok.any():
        parsed = pd.to_datetime(
            pd.Series(values[ok], dtype=object), format="ISO8601", utc=True, errors="coerce"
        )
        index = pd.DatetimeIndex(parsed).as_unit("us")
        found = ~index.isna()
        chosen = np.flatnonzero(ok)
        start[chosen[found]] = index.asi8[found]
        for at in chosen[~found]:  # beyond pandas' nanosecond range: Python's datetime
            start[at], ok[at] = _instant(values[at])
    return start, ok


def _instant(text: str) -> tuple[int, bool]:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return 0, False
    if moment.tzinfo is None or not _SHAPED.fullmatch(text):
        return 0, False
    return (moment - _EPOCH) // _US, True


def _csv(path: str, source: str) -> FileTable:
    data = Path(path).read_bytes()
    data = data.removeprefix(b"\xef\xbb\xbf")
    text = pa.LargeStringArray.from_buffers(
        1, pa.array([0, len(data)], pa.int64()).buffers()[1], pa.py_buffer(data)
    )
    try:
        text.validate(full=True)
        utf8 = b"\0" not in data
    except pa.ArrowInvalid:
        utf8 = False
    if not utf8:
        raise HistoryError(
            f"--source {source!r}: not a CSV or Parquet file (neither UTF-8 text nor "
            "Parquet's PAR1 magic)"
        )
    lines = pc.list_flatten(pc.split_pattern(text, "\n"))
    del text, data
    if len(lines) and lines[len(lines) - 1].as_py() == "":
        lines = lines.slice(0, len(lines) - 1)
    if len(lines) == 0:
        raise HistoryError(
            f"--source {source!r}: empty; a history file starts with the header {','.join(COLUMNS)}"
        )
    if pc.any(pc.ends_with(lines, "\r")).as_py():
        lines = pc.replace_substring_regex(lines, "\r$", "")
    header = lines[0].as_py()
    where = positions(source, header)
    rows = lines.slice(1)
    symbols, starts, oks = [], [], []
    for begin in range(0, len(rows), _CHUNK):
        chunk = rows.slice(begin, _CHUNK)
        symbol, ts = _cells(chunk, where["symbol"]), _cells(chunk, where["ts"])
        quoted = np.flatnonzero(pc.match_substring(chunk, '"').to_numpy(zero_copy_only=False))
        if len(quoted):  # lines with quotes: the csv module's fields
            symbol, ts = symbol.to_numpy(zero_copy_only=False), ts.to_numpy(zero_copy_only=False)
            for at in quoted:
                cells = fields(chunk[int(at)].as_py())
                symbol[at], ts[at] = (_at(cells, where[name]) for name in ("symbol", "ts"))
            symbol, ts = pa.array(symbol, pa.large_string()), pa.array(ts, pa.large_string())
        start, ok = instants(ts)
        symbols.append(symbol.cast(pa.large_string()))
        starts.append(start)
        oks.append(ok)
    return FileTable(
        "csv",
        header,
        pa.concat_arrays(symbols) if symbols else pa.array([], pa.large_string()),
        np.concatenate(starts) if starts else np.zeros(0, np.int64),
        np.concatenate(oks) if oks else np.zeros(0, bool),
        rows,
    )


def _cells(lines: pa.Array, position: int) -> pa.Array:
    """Field `position` of every line split at commas ("" where the line has fewer)."""
    split = pc.split_pattern(lines, ",")
    offsets = split.offsets.to_numpy()
    at = offsets[:-1] + position
    present = at < offsets[1:]
    values = split.values.take(pa.array(np.where(present, at, 0) if len(split.values) else at))
    return pc.if_else(pa.array(present), values, "")


def _at(cells: list[str], position: int) -> str:
    return cells[position] if position < len(cells) else ""


def _parquet(path: str, source: str) -> FileTable:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        names = {name.strip().lower(): name for name in reversed(file.schema_arrow.names)}
        positions(source, ",".join(names))  # the same check as a CSV header's
        batches = list(file.iter_batches(columns=[names[name] for name in COLUMNS]))
        table = pa.Table.from_batches(batches, schema=file.schema_arrow).select(
            [names[name] for name in COLUMNS]
        )
    except HistoryError:
        raise
    except Exception as error:  # pyarrow's errors are many: any of them means unreadable
        raise HistoryError(
            f"--source {source!r}: not a readable Parquet file ({type(error).__name__})"
        ) from None
    table = table.rename_columns(list(COLUMNS)).combine_chunks()
    column = table.column("symbol")
    symbol = (
        pc.cast(column, pa.large_string()).fill_null("").combine_chunks()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else pa.array(cell_texts(column), pa.large_string())
    )
    start, ok = _parquet_starts(table.column("ts"))
    return FileTable("parquet", ",".join(COLUMNS), symbol, start, ok, table)


def _parquet_starts(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A Parquet `ts` column's instants: a timestamp column with a time zone as it is, a naive
    one names no instant (as a CSV ts without an offset), text read as a CSV cell."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            return np.zeros(len(column), np.int64), np.zeros(len(column), bool)
        micros = pc.cast(column, pa.timestamp("us", kind.tz), safe=False)
        values = micros.cast(pa.int64())
        ok = values.is_valid().to_numpy(zero_copy_only=False)
        return values.fill_null(0).to_numpy(zero_copy_only=False), ok
    return instants(pa.array(cell_texts(column), pa.large_string()))


def cell_texts(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """A Parquet column's values as text, null and NaN as empty: numbers in their shortest
    exact form, instants with a time zone in ISO-8601 UTC ("…Z"), a naive one without an offset;
    cast by Arrow (no Python object per cell but the text)."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        column = pc.cast(column, pa.timestamp(kind.unit, "UTC"))
    if pa.types.is_floating(kind):
        column = pc.if_else(pc.is_nan(column), None, column)
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_timestamp(kind)
    ):
        texts: list[str] = pc.cast(column, pa.large_string()).fill_null("").to_pylist()
        return texts
    return ["" if value is None else _text(value) for value in column.to_pylist()]


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)

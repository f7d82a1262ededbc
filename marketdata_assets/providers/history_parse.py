"""The one parser of raw_history payloads (the envelopes of `providers.history`).

`parse_history` turns a payload into bar candidates (one per source row, never dropped nor
deduplicated: the bars gate judges them), the symbols the provider did not deliver (`errors`) and
notes for the user. It is total: a line that is no envelope is one `unparseable` candidate, a
body that cannot be read one `unparseable` candidate of its symbol (both with `item` WHOLE, so
`row_text` gives the whole line or body). Bodies are read by the reader their source's spec
registered (`registry.history_of`); a source the registry does not know is unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from marketdata_assets.lake.schemas import BAR_CANDIDATE_SCHEMA
from marketdata_assets.providers import registry
from marketdata_assets.providers.bars import WHOLE, BodyReading, Rows, unreadable
from marketdata_assets.providers.fetching import detail
from marketdata_assets.providers.history import read_envelope

CANDIDATE_SCHEMA: dict[str, str] = {
    **{name: dtype for name, dtype in BAR_CANDIDATE_SCHEMA.items() if name != "raw"},
    "line": "int64",
    "item": "int64",
}
_NAT = np.iinfo(np.int64).min


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
    history = registry.history_of(envelope["source"]) if envelope is not None else None
    if history is None or not isinstance(body, str):
        raise IndexError(f"raw_history line {line} has no row {item}")
    return history.row_text(body, item)


@lru_cache(maxsize=8)
def _line(payload: bytes, line: int) -> tuple[bytes, dict[str, Any] | None]:
    """Line `line` of `payload` and its envelope. Cached: the quarantine asks for the texts of
    a session's rows one by one, in line order."""
    lines = _lines(payload)
    if not 0 <= line < len(lines):
        raise IndexError(f"raw_history line {line}: the payload has {len(lines)} lines")
    return lines[line], read_envelope(lines[line])


def _lines(payload: bytes) -> list[bytes]:
    lines = payload.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _read(envelope: dict[str, Any], session: date) -> BodyReading:
    symbol, body = envelope["symbol"], envelope.get("body")
    history = registry.history_of(envelope["source"])
    if history is None or not isinstance(body, str):
        return BodyReading(unreadable(symbol))
    try:
        return history.read(body, symbol, session, envelope)
    except Exception:  # totality: an unforeseen body costs its own row, never the session
        return BodyReading(unreadable(symbol))


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

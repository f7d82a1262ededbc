"""Standardise raw JSON Lines into the curated schema, one curated row per raw record.

Curation never rejects: a value it cannot standardise becomes null, and the gate names the
reason. That keeps `raw lines == curated rows`, which the conservation invariant rests on.
Every function here is total: whatever bytes or JSON values a line holds (wrong types, huge or
non-finite numbers, deep nesting, lone surrogate escapes such as `"\\ud800"`), it becomes one row
and nothing raises. A string holding a lone surrogate is not text Parquet can store: it is a
value that cannot be standardised, so it becomes null.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd

from marketdata_assets.providers import ENVELOPE_PARSERS

# Column -> dtype of the curated dataset; the schema contract check compares against this.
CURATED_SCHEMA: dict[str, str] = {
    "line": "int64",
    "parsed": "bool",
    "symbol": "str",
    "price": "float64",
    "volume": "Int64",
    "currency": "str",
    "event_ts": "datetime64[us, UTC]",
    "tick": "datetime64[us, UTC]",
}
_INT64_MAX = 2**63 - 1
log = logging.getLogger(__name__)


def split_lines(payload: bytes) -> list[str]:
    """The payload's records: every line, a final newline ending the last one."""
    text = payload.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def envelope_of(record: dict[str, object] | None) -> dict[str, object] | None:
    """The fetch metadata when `record` is an HTTP provider's envelope, else None."""
    meta = record.get("fetch") if record else None
    if isinstance(meta, dict) and isinstance(provider := meta.get("provider"), str):
        return meta if provider in ENVELOPE_PARSERS else None
    return None


def raw_records(payload: bytes) -> Iterator[tuple[int, dict[str, object] | None]]:
    """(line number, the raw record or None when unparseable) for every record of a payload.

    An HTTP provider's envelope is unwrapped by that provider's parser; an envelope carrying a
    fetch error is no record at all (it is counted by `provider_errors`).
    """
    for number, line in enumerate(split_lines(payload), start=1):
        record = parse_line(line)
        meta = envelope_of(record)
        if meta is None:
            yield number, record
        elif "error" not in meta:
            assert record is not None
            yield number, _unwrap(number, record.get("body"), meta)


def _unwrap(number: int, body: object, meta: dict[str, object]) -> dict[str, object] | None:
    """The record an envelope's body holds, by its provider's parser; None (an unparseable
    row) when the body is not text or the parser fails.

    The parsers are total (tested on arbitrary JSON); this guard keeps a parser bug from costing
    the tick's other rows: the raw line stays, so a fixed parser can replay it.
    """
    if not isinstance(body, str):
        return None
    provider = str(meta["provider"])
    try:
        record = ENVELOPE_PARSERS[provider](body, meta)
    except Exception:
        log.exception("the %s parser failed on line %d: curated as unparseable", provider, number)
        return None
    return record if isinstance(record, dict) else None


def provider_failures(payload: bytes) -> dict[str, str]:
    """Symbol -> the provider error its envelope carries (`Kind: detail`)."""
    return {
        str(meta.get("symbol")): str(meta["error"])
        for line in split_lines(payload)
        if (meta := envelope_of(parse_line(line))) is not None and "error" in meta
    }


def provider_errors(payload: bytes) -> int:
    """How many requested symbols the provider failed to deliver."""
    return sum(
        1
        for line in split_lines(payload)
        if (meta := envelope_of(parse_line(line))) is not None and "error" in meta
    )


def parse_line(line: str) -> dict[str, object] | None:
    """The JSON object on a line, or None when the line is not one."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def standard_symbol(value: object) -> str | None:
    text = _text(value)
    return text.strip().upper() if text is not None else None


def standard_price(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


def standard_volume(value: object) -> int | None:
    number = _number(value)
    if number is None or not math.isfinite(number) or number != int(number):
        return None
    integral = int(value) if isinstance(value, int) else int(number)
    return integral if abs(integral) <= _INT64_MAX else None


def standard_currency(value: object) -> str | None:
    text = _text(value)
    return text.strip().upper() if text is not None else None


def standard_event_ts(value: object) -> datetime | None:
    """An ISO-8601 string with a UTC offset or Z, as an aware UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:  # 9999-12-31T23:59:59-01:00 is past datetime.max in UTC
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _text(value: object) -> str | None:
    """`value` when it is a string that UTF-8 (so Parquet) can store: no lone surrogate."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def curate(payload: bytes, tick: datetime) -> pd.DataFrame:
    """The curated rows of a raw payload: typed, upper-cased, timestamps in UTC."""
    columns: dict[str, list[object]] = {name: [] for name in CURATED_SCHEMA if name != "tick"}
    for number, record in raw_records(payload):
        fields = record or {}
        columns["line"].append(number)
        columns["parsed"].append(record is not None)
        columns["symbol"].append(standard_symbol(fields.get("symbol")))
        columns["price"].append(standard_price(fields.get("price")))
        columns["volume"].append(standard_volume(fields.get("volume")))
        columns["currency"].append(standard_currency(fields.get("currency")))
        columns["event_ts"].append(standard_event_ts(fields.get("event_ts")))
    frame = pd.DataFrame(columns)
    frame["tick"] = pd.Timestamp(tick)
    return conform(frame)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with exactly the curated columns, in order, with the curated dtypes."""
    out = frame[list(CURATED_SCHEMA)].copy()
    for name in ("event_ts", "tick"):  # a moment pandas cannot hold becomes null, not an error
        out[name] = pd.to_datetime(out[name], utc=True, errors="coerce").astype(
            CURATED_SCHEMA[name]
        )
    return out.astype({k: v for k, v in CURATED_SCHEMA.items() if k not in ("event_ts", "tick")})

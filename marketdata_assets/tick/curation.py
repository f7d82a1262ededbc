"""Standardise raw JSON Lines into the curated schema, one curated row per raw record.

Curation never rejects: a value it cannot standardise becomes null, and the gate names the
reason. That keeps `raw lines == curated rows`, which the conservation invariant rests on.
Every function here is total: whatever bytes or JSON values a line holds (wrong types, huge or
non-finite numbers, deep nesting, lone surrogate escapes such as `"\\ud800"`), it becomes one row
and nothing raises. A string holding a lone surrogate is not text Parquet can store: it is a
value that cannot be standardised, so it becomes null.

Each column has one meaning whatever the provider (the fields of `records.Quote`); each provider
maps its own fields onto them in one table, `QUOTE_FIELDS` of `providers/flat.py` (flat records)
or of the provider's own package (the parser its spec registers for its envelope bodies):

- `day_volume`: the shares traded in the trading day's session up to `event_ts` (cumulative,
  never one tick's or one minute's volume).
- `exchange`: the listing venue's name as the provider gives it (`NMS`, `STUB`); null if unknown.
- `exchange_tz`: the venue's IANA time zone (`America/New_York`); null unless the tz database
  knows the name.
- `trading_day`: the venue's session date the quote belongs to, as a naive midnight; null
  unless a `YYYY-MM-DD` date.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pandas as pd

from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.market.zones import standard_exchange_tz
from marketdata_assets.providers import registry
from marketdata_assets.providers.flat import QUOTE_FIELDS as FLAT_RECORD_FIELDS

# Column -> dtype of the curated dataset, as the registry defines it (the contract compares too).
CURATED_SCHEMA: dict[str, str] = DATASETS["curated"].dtypes
_TIMES = ("event_ts", "trading_day", "tick")  # trading_day is naive: a date
# Only this form: date.fromisoformat would take 20261125 and 2026-W48-3 too.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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
        return meta if registry.envelope_parser(provider) is not None else None
    return None


def raw_records(payload: bytes) -> Iterator[tuple[int, dict[str, object] | None]]:
    """(line number, the record's Quote fields as sent, or None when unparseable) for every
    record of a payload.

    An HTTP provider's envelope is unwrapped by that provider's parser, a flat record mapped by
    the stub's table; an envelope carrying a fetch error is no record at all (it is counted by
    `provider_errors`).
    """
    for number, line in enumerate(split_lines(payload), start=1):
        record = parse_line(line)
        meta = envelope_of(record)
        if meta is None:
            yield number, None if record is None else flat_quote(record)
        elif "error" not in meta:
            assert record is not None
            yield number, _unwrap(number, record.get("body"), meta)


def flat_quote(record: dict[str, object]) -> dict[str, object]:
    """A flat record's Quote fields, as sent (absent ones None); its other fields are dropped."""
    return {field: record.get(name) for field, name in FLAT_RECORD_FIELDS.items()}


def _unwrap(number: int, body: object, meta: dict[str, object]) -> dict[str, object] | None:
    """The record an envelope's body holds, by its provider's parser; None (an unparseable
    row) when the body is not text or the parser fails.

    The parsers are total (tested on arbitrary JSON); this guard keeps a parser bug from costing
    the tick's other rows: the raw line stays, so a fixed parser can replay it.
    """
    if not isinstance(body, str):
        return None
    provider = str(meta["provider"])
    parse = registry.envelope_parser(provider)
    assert parse is not None  # `envelope_of` took only envelopes of a provider with a parser
    try:
        record = parse(body, meta)
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


def standard_day_volume(value: object) -> int | None:
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


def standard_exchange(value: object) -> str | None:
    text = _text(value)
    if text is None or not text.strip():
        return None
    return text.strip()


def standard_trading_day(value: object) -> date | None:
    """A `YYYY-MM-DD` string as a date."""
    text = _text(value)
    if text is None or not _DAY.fullmatch(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:  # 2026-02-30
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
        columns["day_volume"].append(standard_day_volume(fields.get("day_volume")))
        columns["currency"].append(standard_currency(fields.get("currency")))
        columns["event_ts"].append(standard_event_ts(fields.get("event_ts")))
        columns["exchange"].append(standard_exchange(fields.get("exchange")))
        columns["exchange_tz"].append(standard_exchange_tz(fields.get("exchange_tz")))
        columns["trading_day"].append(standard_trading_day(fields.get("trading_day")))
    frame = pd.DataFrame(columns)
    frame["tick"] = pd.Timestamp(tick)
    return conform(frame)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with exactly the curated columns, in order, with the curated dtypes."""
    out = frame[list(CURATED_SCHEMA)].copy()
    for name in _TIMES:  # a moment pandas cannot hold becomes null, not an error
        out[name] = pd.to_datetime(out[name], utc=name != "trading_day", errors="coerce").astype(
            CURATED_SCHEMA[name]
        )
    return out.astype({k: v for k, v in CURATED_SCHEMA.items() if k not in _TIMES})

"""The corporate actions of a chart body: `chart.result[0].events` (Yahoo's with
`events=div,splits`, which the stub's bodies copy).

    "events": {"dividends": {"<epoch>": {"amount": 0.24, "date": <epoch>}},
               "splits": {"<epoch>": {"date": <epoch>, "numerator": 4, "denominator": 1,
                                      "splitRatio": "4:1"}}}

Epochs are the ex-date's session open; the ex-date is the New York date of `date` (else of the
key). A split's value is numerator / denominator; a dividend's is its amount, in the currency of
the body's `meta.currency`. Rows are numbered group by group in name order, then by key; any
other group (`capitalGains`) is a row of that kind, for the gate to refuse as unknown.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.providers.action_rows import ActionRow, unreadable
from marketdata_assets.providers.bars import WHOLE

_KINDS = {"splits": "split", "dividends": "dividend"}


def read_chart_events(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    """The action rows of the envelope's chart body (none without `events`)."""
    symbol = envelope["symbol"]
    body = envelope.get("body")
    if isinstance(body, str) and '"events"' not in body and "\\u" not in body:
        return []  # no events key, not even an escaped one: no need to parse the whole body
    result = _result(body)
    if result is None or result.get("events") is None:
        return []
    entries = _entries(result["events"])
    if entries is None:
        return [unreadable(symbol)]
    meta = result.get("meta")
    currency = meta.get("currency") if isinstance(meta, dict) else None
    currency = currency if isinstance(currency, str) else None
    rows = []
    for item, (group, key, entry) in enumerate(entries):
        if not isinstance(entry, dict):
            rows.append(unreadable(symbol, item))
            continue
        ex_date = _new_york_date(entry.get("date", key))
        kind = _KINDS.get(group, group)
        value = _split_ratio(entry) if kind == "split" else _number(entry.get("amount"))
        problem = None if ex_date is not None else "unparseable_date"
        rows.append(
            ActionRow(
                item, symbol, ex_date, kind, value, currency if kind != "split" else None, problem
            )
        )
    return rows


def chart_event_text(envelope: dict[str, Any], item: int) -> str:
    """Row `item` of the envelope's events as compact JSON ({group: {key: entry}}); the whole
    events value for WHOLE."""
    result = _result(envelope.get("body"))
    events = result.get("events") if result is not None else None
    if item == WHOLE:
        return json.dumps(events, separators=(",", ":"))
    entries = _entries(events) or []
    if not 0 <= item < len(entries):
        raise IndexError(f"chart events row {item}: the body has {len(entries)} rows")
    group, key, entry = entries[item]
    return json.dumps({group: {key: entry}}, separators=(",", ":"))


def _result(body: object) -> dict[str, Any] | None:
    if not isinstance(body, str):
        return None
    try:
        result = json.loads(body)["chart"]["result"][0]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    return result if isinstance(result, dict) else None


def _entries(events: object) -> list[tuple[str, str, object]] | None:
    """Every (group, key, entry) of `events`, in order; None when it is no such mapping."""
    if not isinstance(events, dict) or not all(isinstance(g, dict) for g in events.values()):
        return None
    return [
        (group, str(key), events[group][key])
        for group in sorted(events)
        for key in sorted(events[group], key=str)
    ]


def _new_york_date(epoch: object) -> date | None:
    if isinstance(epoch, str):
        epoch = int(epoch) if epoch.lstrip("-").isdigit() else None
    if type(epoch) not in (int, float):
        return None
    try:
        moment = datetime.fromtimestamp(epoch, UTC)  # type: ignore[arg-type]
    except (OverflowError, OSError, ValueError):
        return None
    return moment.astimezone(ZoneInfo(EXCHANGE_TZ)).date()


def _split_ratio(entry: dict[str, Any]) -> float:
    numerator, denominator = _number(entry.get("numerator")), _number(entry.get("denominator"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float64(numerator) / np.float64(denominator)
    return float(ratio) if denominator else np.nan


def _number(value: object) -> float:
    if type(value) not in (int, float):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return np.nan

"""Alpha Vantage's corporate actions: `function=SPLITS` and `function=DIVIDENDS`, each the
symbol's whole history in one answer:

    {"symbol": "IBM", "data": [{"effective_date": "1999-05-27", "split_factor": "2.0000"}]}
    {"symbol": "IBM", "data": [{"ex_dividend_date": "2026-02-10", "declaration_date": ...,
                                "record_date": ..., "payment_date": ..., "amount": "1.68"}]}

(strings; "None" for an unknown date). A backfill asks both once per symbol (`history`), and
every session's envelope of the symbol carries both answers as received, in its `actions`
member, so any one session replays alone:

    "actions": {"home": "YYYY-MM-DD", "DIVIDENDS": <answer>, "SPLITS": <answer>}

an answer being {"body", "error", "request", "status"} as for the bars. A session's rows are the
entries dated that session; an entry whose date is unreadable or no NYSE session belongs to
`home`, the backfill's first session (where the gate refuses it), unless it is dated before it;
so each entry from the backfill's first session on is a candidate of exactly one session. A
split's value is its factor (new shares per old); a dividend's its amount, in a currency AV does
not state (none recorded). An answer that failed, was refused or holds no `data` list is one
`unparseable` row of the session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from marketdata_assets.market.calendar import is_session
from marketdata_assets.providers.action_rows import ActionRow, unreadable
from marketdata_assets.providers.alphavantage.series import refusal
from marketdata_assets.providers.bars import WHOLE
from marketdata_assets.providers.fetching import Request

# function -> (the kind of its rows, the field of their date, the field of their value)
FUNCTIONS = {
    "DIVIDENDS": ("dividend", "ex_dividend_date", "amount"),
    "SPLITS": ("split", "effective_date", "split_factor"),
}


def action_requests(url: str, function: str, symbols: Sequence[str]) -> list[Request]:
    """Pure: one `function` request per symbol (the key is added by the transport)."""
    return [Request(symbol, url, {"function": function, "symbol": symbol}) for symbol in symbols]


def read_actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    """The action rows of `session` in the envelope's `actions` member (none without one)."""
    member = envelope.get("actions")
    if member is None:
        return []
    symbol = envelope.get("symbol")
    if not isinstance(member, dict):
        return [unreadable(symbol)]
    home = _date(member.get("home"))
    rows: list[ActionRow] = []
    offset = 0
    for number, (function, (kind, when, amount)) in enumerate(FUNCTIONS.items()):
        data = _data(member.get(function))
        if data is None:
            rows.append(unreadable(symbol, _failed(number)))
            continue
        for index, entry in enumerate(data):
            item = offset + index
            if not isinstance(entry, dict):
                if session == home:
                    rows.append(unreadable(symbol, item))
                continue
            day = _date(entry.get(when))
            if _home_of(day, home) != session:
                continue
            value = _decimal(entry.get(amount))
            problem = None if day is not None else "unparseable_date"
            rows.append(ActionRow(item, symbol, day, kind, value, None, problem))
        offset += len(data)
    return rows


def action_text(envelope: dict[str, Any], item: int) -> str:
    """Row `item` of the envelope's actions as compact JSON ({function: entry}); a failed
    answer's whole answer; the whole member for WHOLE."""
    member = envelope.get("actions")
    if item == WHOLE or not isinstance(member, dict):
        return _compact(member)
    offset = 0
    for number, function in enumerate(FUNCTIONS):
        if item == _failed(number):
            return _compact({function: member.get(function)})
        data = _data(member.get(function)) or []
        if offset <= item < offset + len(data):
            return _compact({function: data[item - offset]})
        offset += len(data)
    raise IndexError(f"actions row {item}: the envelope has {offset} rows")


def _home_of(day: date | None, home: date | None) -> date | None:
    """The session an entry dated `day` is a candidate of: its own when it is a session; none
    when it is before `home` (before the backfill); else `home`."""
    if day is not None and is_session(day):
        return day
    if day is not None and (home is None or day < home):
        return None
    return home


def _failed(number: int) -> int:
    """The item of the row of a failed answer: below WHOLE, one per function."""
    return WHOLE - 1 - number


def _data(answer: object) -> list[object] | None:
    """The `data` list of an answer's body; None when the answer failed or holds none."""
    if not isinstance(answer, dict) or answer.get("error") is not None:
        return None
    body = answer.get("body")
    try:
        value = json.loads(body) if isinstance(body, str) else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or refusal(value) is not None:
        return None
    data = value.get("data")
    return data if isinstance(data, list) else None


def _date(text: object) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _decimal(text: object) -> float:
    if not isinstance(text, str):
        return np.nan
    try:
        value = float(text)
    except ValueError:
        return np.nan
    return value if np.isfinite(value) else np.nan


def _compact(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

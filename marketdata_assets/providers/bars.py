"""Bar candidates as a body reader finds them: columns of rows, before the payload's frame.

Each vendor's history body reader returns a `BodyReading`; `history_parse` assembles the
readings of a payload into one candidate frame. Shared by every vendor; names none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

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

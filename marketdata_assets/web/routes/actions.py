"""GET /api/actions/{symbol}: a symbol's splits and dividends, as the actions gate stored them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from marketdata_assets.web.deps import Empty, ReaderDep, Row, SymbolDep, rows_or_empty
from marketdata_assets.web.routes.history import SessionRange

router = APIRouter()


class Action(Row):
    """A gated corporate action: a split's `value` is its ratio of new shares to old (4 for 4:1),
    a dividend's the cash per share in `currency`."""

    symbol: str
    ex_date: str
    kind: str
    value: float
    currency: str | None
    source: str | None


@router.get("/api/actions/{symbol}", response_model=list[Action] | Empty)
def actions(
    reader: ReaderDep, symbol: SymbolDep, ex_dates: SessionRange
) -> list[dict[str, Any]] | Empty:
    """`marketdata actions SYMBOL --json`: a symbol's splits and dividends with an ex-date from
    `from` to `to` (default: every one held), oldest first."""
    return rows_or_empty(*reader.actions.of(symbol, *ex_dates))

"""GET /api/actions/{symbol}: a symbol's splits and dividends, as the actions gate stored them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from marketdata_assets.web.deps import Empty, ReaderDep, Row, SymbolDep, encoded
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
def actions(reader: ReaderDep, symbol: SymbolDep, ex_dates: SessionRange) -> Response:
    """`marketdata actions SYMBOL --json`: a symbol's splits and dividends with an ex-date from
    `from` to `to` (default: every one held), oldest first."""
    return encoded(reader.actions.of(symbol, *ex_dates))

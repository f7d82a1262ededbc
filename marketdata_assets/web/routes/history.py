"""GET /api/bars/{symbol} and /api/analytics/{symbol}: a symbol's bars and session analytics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from marketdata_assets.market import params
from marketdata_assets.market.records import ADJUSTMENTS, INTERVALS
from marketdata_assets.web.deps import Empty, First, Last, ReaderDep, Row, SymbolDep, encoded

router = APIRouter()


def session_range(first: First = None, last: Last = None) -> tuple[date | None, date | None]:
    """The sessions asked for, each optional, checked as the CLI checks --from and --to."""
    return params.session_range(first, last, ("from", "to"))


SessionRange = Annotated[tuple[date | None, date | None], Depends(session_range)]


def bar_interval(
    interval: Annotated[str, Query(description=f"one of {', '.join(INTERVALS)}")] = "1m",
) -> str:
    """The bars' interval, checked as the CLI checks --interval."""
    return params.interval(interval, "interval")


Interval = Annotated[str, Depends(bar_interval)]


def price_basis(
    adjust: Annotated[
        str, Query(description=f"for corporate actions: one of {', '.join(ADJUSTMENTS)}")
    ] = "splits",
) -> str:
    """The prices' adjustment for corporate actions, checked as the CLI checks --adjust."""
    return params.adjustment(adjust, "adjust")


Adjust = Annotated[str, Depends(price_basis)]


class Bar(Row):
    symbol: str
    start: str
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: int
    vwap: float | None


class DailyOnly(Empty):
    """An intraday answer whose range holds sessions known only as daily bars: the minute
    sessions' `rows`, a `message` naming the others, and those sessions in `daily_only`."""

    daily_only: list[str]


class SessionAnalytics(Row):
    symbol: str
    session: str


# The history's answers are pre-encoded and kept (bench/web.py: a year of bars in ~20 ms).
@router.get("/api/bars/{symbol}", response_model=list[Bar] | DailyOnly | Empty)
def bars(
    reader: ReaderDep,
    symbol: SymbolDep,
    sessions: SessionRange,
    interval: Interval,
    adjust: Adjust,
) -> Response:
    """`marketdata bars SYMBOL --json`: a symbol's bars in the sessions asked, adjusted for
    corporate actions as asked (default: splits); at 1m to 1h, with sessions held only as daily
    bars in the range, the object naming them (`daily_only`)."""
    return encoded(reader.bars_json(symbol, interval, *sessions, adjust=adjust))


@router.get("/api/analytics/{symbol}", response_model=list[SessionAnalytics] | Empty)
def analytics(
    reader: ReaderDep, symbol: SymbolDep, sessions: SessionRange, adjust: Adjust
) -> Response:
    """`marketdata analytics SYMBOL --json`: a symbol's session analytics, adjusted for
    corporate actions as asked (default: splits)."""
    return encoded(reader.analytics_json(symbol, *sessions, adjust=adjust))

"""GET /api/calendar: the NYSE sessions of a range (the daily chart marks those a symbol's
history lacks); GET /api/backfill: the one backfill the pages suggest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from marketdata_assets.forecasting.windows import ORIGINS, sessions_needed
from marketdata_assets.market import params
from marketdata_assets.market.backfill_range import recent, suggested
from marketdata_assets.market.calendar import last_known_day, sessions_in

router = APIRouter()


class Calendar(BaseModel):
    first: str
    last: str
    sessions: list[str]


class Backfill(BaseModel):
    first: str
    last: str
    symbols: list[str]
    command: str


@router.get("/api/calendar", response_model=Calendar)
def calendar(
    first: Annotated[str, Query(alias="from", description="first day, YYYY-MM-DD")],
    last: Annotated[str, Query(alias="to", description="last day, YYYY-MM-DD")],
) -> dict[str, object]:
    """The NYSE (XNYS) sessions from `from` to `to`, oldest first (none after the last day the
    calendar knows, about a year ahead): a session here that a symbol's daily bars lack is a
    session missing from its history."""
    start, end = params.session_range(first, last, ("from", "to"))
    assert start is not None and end is not None  # both are required
    known = min(end, last_known_day())
    days = sessions_in(start, known) if start <= known else []
    return {"first": str(start), "last": str(end), "sessions": [str(day) for day in days]}


@router.get("/api/backfill", response_model=Backfill)
def backfill(
    request: Request,
    symbol: Annotated[str | None, Query(description="a ticker symbol, e.g. AAPL")] = None,
) -> dict[str, object]:
    """The backfill a page suggests when it holds no history (one per page): the sessions a
    forecast needs, up to the last session that has ended on the dashboard's clock, so every
    panel of the symbol page (charts, analytics, forecast) has what it reads once it has run."""
    symbols = [params.symbol(symbol, "symbol")] if symbol is not None else []
    now = request.app.state.clock()
    lo, hi = recent(sessions_needed(ORIGINS), now=now)
    command = suggested(lo, hi, symbols, now)
    return {"first": str(lo), "last": str(hi), "symbols": symbols, "command": command}

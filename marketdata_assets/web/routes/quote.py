"""GET /api/quote/{symbol}: a symbol's quote (price, change, the day's range and volume)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from marketdata_assets.web.deps import ReaderDep, SymbolDep

router = APIRouter()


class Quote(BaseModel):
    symbol: str
    price: float | None
    currency: str | None
    event_ts: str | None
    tick: str | None
    session: str | None
    previous_close: float | None
    previous_close_split: float | None
    previous_session: str | None
    change: float | None
    change_pct: float | None
    change_note: str | None
    day_open: float | None
    day_high: float | None
    day_low: float | None
    day_volume: int | None
    day_source: str | None
    day_note: str | None
    market: str
    stale: bool | None
    message: str | None


@router.get("/api/quote/{symbol}", response_model=Quote)
def quote(reader: ReaderDep, request: Request, symbol: SymbolDep) -> dict[str, object]:
    """The symbol's latest price (as /api/latest's row) and `session`, the NYSE session it
    belongs to; its change against the symbol's close in the session before
    (`previous_session`; null, with `change_note` saying why, when that close is not held; on
    a split's ex-date divided by the split's ratio, `previous_close_split`, else null); the
    session's `day_open`, `day_high`, `day_low` and `day_volume` from its 1-minute bars held
    (`day_source` "minute_bars"), else from the validated ticks held that session ("ticks":
    the volume is the provider's cumulative day volume), else null with `day_note` saying why;
    `market` "open" or "closed" now; `stale` when a newer tick has run. Without a price every
    figure is null and `message` names the tick to run (as /api/forecast's empty answer)."""
    return reader.quotes.quote(symbol, request.app.state.clock())

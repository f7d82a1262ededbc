"""GET /api/market: whether NYSE trades now, its session's open and close, the next open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from marketdata_assets.market.state import market_state

router = APIRouter()


class Market(BaseModel):
    open: bool
    session: str | None
    opens_at: str | None
    closes_at: str | None
    next_open: str | None
    last_close: str | None


@router.get("/api/market", response_model=Market)
def market(request: Request) -> dict[str, object]:
    """Whether NYSE (XNYS, early closes included) is in session now; `session` is today's
    (New York) session or null, with its open and close in UTC; `next_open` the first open
    after now, and `last_close` the last close before it (what a closed market is "as of")."""
    return market_state(request.app.state.clock()).as_dict()

"""GET /api/latest: the latest price of every symbol."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketdata_assets.web.deps import Empty, ReaderDep, Row, encoded_or_empty

router = APIRouter()
NO_TICKS = "no ticks yet: run `marketdata tick`"


class LatestRow(Row):
    symbol: str
    price: float
    currency: str
    event_ts: str
    tick: str
    previous_close: float | None
    previous_close_split: float | None
    change: float | None
    change_pct: float | None
    change_basis: str | None
    change_note: str | None
    age_s: float
    stale: bool
    status: str


@router.get("/api/latest", response_model=list[LatestRow] | Empty)
def latest(reader: ReaderDep, request: Request) -> Response:
    """The latest price of every symbol, with its change against the symbol's own close in the
    NYSE session before the price's (`change_basis`; null, with `change_note` saying why, when
    the lake holds no such close; on a split's ex-date that close divided by the split's
    ratio, `previous_close_split`, else null), its age in seconds, `stale` when a newer tick
    has run, and `status`: `stale`, else `closed` while the market is closed, else `current`."""
    # Pre-encoded (bench/web.py: encoding 500 rows costs more than reading them).
    return encoded_or_empty(reader.latest_json(request.app.state.clock()), NO_TICKS)

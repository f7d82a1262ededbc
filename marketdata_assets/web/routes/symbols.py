"""GET /api/symbols: the known symbols and where each is held (`marketdata symbols --json`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from marketdata_assets.web.deps import Empty, ReaderDep, Row, rows_or_empty

router = APIRouter()
NONE_KNOWN = "no symbols known: set MARKETDATA_SYMBOLS or run `marketdata tick --symbols AAPL`"


class Held(BaseModel):
    first: str
    last: str
    sessions: int


class SymbolRow(Row):
    symbol: str
    configured: bool
    latest: bool
    history: Held | None


@router.get("/api/symbols", response_model=list[SymbolRow] | Empty)
def symbols(reader: ReaderDep, request: Request) -> list[dict[str, Any]] | Empty:
    """Every known symbol (configured, in the latest-price table, in the history), with
    `configured`, `latest` and `history` ({"first", "last", "sessions"} of daily bars, or null):
    the dashboard's symbol search suggests them."""
    return rows_or_empty(reader.symbols(request.app.state.configured), NONE_KNOWN)

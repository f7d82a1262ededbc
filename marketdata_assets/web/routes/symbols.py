"""GET /api/symbols: the known symbols and where each is held (`marketdata symbols --json`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from marketdata_assets.web.deps import ReaderDep

router = APIRouter()


@router.get("/api/symbols")
def symbols(reader: ReaderDep, request: Request) -> list[dict[str, Any]]:
    """Every known symbol (configured, in the latest-price table, in the history), with
    `configured`, `latest` and `history` ({"first", "last", "sessions"} of daily bars, or null):
    the dashboard's symbol search suggests them."""
    return reader.symbols(request.app.state.configured)

"""GET /api/ticks: the newest ticks, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marketdata_assets.web.deps import MAX_LIMIT, Empty, ReaderDep, Row, rows_or_empty
from marketdata_assets.web.routes.latest import NO_TICKS

router = APIRouter()


class TickRow(Row):
    tick: str
    outcome: str
    validated: int | None
    quarantined: int | None
    provider_errors: int | None
    duration_ms: int | None
    request_id: str | None
    raw: int | None
    reasons: dict[str, int]


@router.get("/api/ticks", response_model=list[TickRow] | Empty)
def ticks(
    reader: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="ticks to show")] = 20,
) -> list[dict[str, Any]] | Empty:
    """The newest ticks, newest first: from run records, else from the lake's objects."""
    return rows_or_empty(reader.ticks(limit), NO_TICKS)

"""GET /api/quarantine: quarantined records, newest tick first, each with its replay command."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marketdata_assets.gate.routing import REASONS
from marketdata_assets.market import params
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.web.deps import MAX_LIMIT, Empty, ReaderDep, Row, rows_or_empty

router = APIRouter()
NOTHING_QUARANTINED = "nothing quarantined"


class QuarantineRecord(Row):
    tick: str
    line: int
    reasons: list[str]
    replay: str


@router.get("/api/quarantine", response_model=list[QuarantineRecord] | Empty)
def quarantine(
    reader: ReaderDep,
    tick: Annotated[str | None, Query(description="a tick minute, e.g. 2026-11-25T14:31Z")] = None,
    reason: Annotated[str | None, Query(description="a reason code, e.g. price_invalid")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="records to show")] = 100,
) -> list[dict[str, Any]] | Empty:
    """`marketdata quarantine --json` records, newest tick first, each with the command that
    replays its tick; without `tick`, from the newest days holding quarantined rows."""
    minute = parse_tick(tick, "tick", window_s=FUTURE_WINDOW_S) if tick is not None else None
    if reason is not None:
        params.one_of(reason, REASONS, "reason")
    return rows_or_empty(reader.quarantine(minute, reason, limit), NOTHING_QUARANTINED)

"""GET /api/quarantine: quarantined tick records, newest tick first, each with its replay command;
GET /api/quarantine/history: the history rows the bars gate refused, newest session first;
GET /api/quarantine/actions: the corporate actions the actions gate refused, likewise."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marketdata_assets.gate.routing import REASONS
from marketdata_assets.history.actions_gate import ACTION_REASONS
from marketdata_assets.history.gate import BAR_REASONS
from marketdata_assets.market import params
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.web.deps import MAX_LIMIT, Empty, First, Last, ReaderDep, Row, rows_or_empty

router = APIRouter()
NOTHING_QUARANTINED = "nothing quarantined"


class QuarantineRecord(Row):
    tick: str
    line: int
    reasons: list[str]
    replay: str


class QuarantinedBar(Row):
    """A history row the bars gate refused: its session, what was read of it (null where the
    parser could not read it), its reason codes and its text exactly as landed."""

    session: str
    row: int
    symbol: str | None
    start: str | None
    interval: str | None
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None
    source: str | None
    problem: str | None
    reasons: list[str]
    raw: str | None


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


@router.get("/api/quarantine/history", response_model=list[QuarantinedBar] | Empty)
def quarantined_history(
    reader: ReaderDep,
    first: First = None,
    last: Last = None,
    symbol: Annotated[str | None, Query(description="a ticker symbol, e.g. AAPL")] = None,
    reason: Annotated[str | None, Query(description="a reason code, e.g. price_invalid")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows to show")] = 100,
) -> list[dict[str, Any]] | Empty:
    """`marketdata quarantine --history --json` rows, newest session first (default range: the
    5 sessions up to the newest held), filtered by `symbol` and `reason`."""
    start, end = params.session_range(first, last, ("from", "to"))
    if symbol is not None:
        params.symbol(symbol, "symbol")
    if reason is not None:
        params.one_of(reason, BAR_REASONS, "reason")
    rows, message = reader.quarantined_history(start, end, symbol, reason, limit)
    return rows_or_empty(rows, message)


class QuarantinedAction(Row):
    """A corporate-action row the actions gate refused: its session, what was read of it (null
    where the parser could not read it), its reason codes and its text exactly as landed."""

    session: str
    row: int
    symbol: str | None
    ex_date: str | None
    kind: str | None
    value: float | None
    currency: str | None
    source: str | None
    problem: str | None
    reasons: list[str]
    raw: str | None


@router.get("/api/quarantine/actions", response_model=list[QuarantinedAction] | Empty)
def quarantined_actions(
    reader: ReaderDep,
    first: First = None,
    last: Last = None,
    symbol: Annotated[str | None, Query(description="a ticker symbol, e.g. AAPL")] = None,
    reason: Annotated[str | None, Query(description="a reason code, e.g. ratio_invalid")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows to show")] = 100,
) -> list[dict[str, Any]] | Empty:
    """The corporate-action rows the actions gate quarantined, newest session first (default
    range: every session held), each with its reasons and its text as received; filtered by
    `symbol` and `reason`."""
    start, end = params.session_range(first, last, ("from", "to"))
    if symbol is not None:
        params.symbol(symbol, "symbol")
    if reason is not None:
        params.one_of(reason, ACTION_REASONS, "reason")
    rows, message = reader.actions.quarantined(start, end, symbol, reason, limit)
    return rows_or_empty(rows, message)

"""The JSON API behind the dashboard's pages: the rows of the CLI's `--json` outputs.

An empty answer is a normal one: 200 with `{"rows": [], "message": <what to run>}`. A bad
parameter is 422 with a one-line `detail` naming it and its rule. Every endpoint is a plain
`def`: FastAPI runs it in its thread pool, so slow storage never stalls the event loop.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from marketdata_assets.errors import ConfigError
from marketdata_assets.gate.routing import REASONS
from marketdata_assets.market.records import INTERVALS
from marketdata_assets.market.symbols import SYMBOL_PATTERN, is_symbol
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.reads import Reader, answer_json

# The forecast's horizons (forecasting.panel.HORIZONS, whose module loads the model inputs).
HORIZONS = ("1m", "5m", "15m", "1d")
MAX_LIMIT = 1000
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NO_TICKS = "no ticks yet: run `marketdata tick`"
NOTHING_QUARANTINED = "nothing quarantined"

Symbol = Annotated[str, Path(description=f"a ticker symbol ({SYMBOL_PATTERN})", examples=["AAPL"])]
First = Annotated[
    str | None, Query(alias="from", description="first session, YYYY-MM-DD (default: as the CLI)")
]
Last = Annotated[
    str | None, Query(alias="to", description="last session, YYYY-MM-DD (default: the latest held)")
]


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")


class Empty(BaseModel):
    """An empty answer and what to run to fill it."""

    rows: list[Any]
    message: str


class Health(BaseModel):
    status: str
    profile: str


class LatestRow(_Row):
    symbol: str
    price: float
    currency: str
    event_ts: str
    tick: str
    previous_close: float | None
    change: float | None
    change_pct: float | None
    age_s: float
    stale: bool


class TickRow(_Row):
    tick: str
    outcome: str
    validated: int | None
    quarantined: int | None
    provider_errors: int | None
    duration_ms: int | None
    request_id: str | None
    raw: int | None
    reasons: dict[str, int]


class Bar(_Row):
    symbol: str
    start: str
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: int
    vwap: float | None


class SessionAnalytics(_Row):
    symbol: str
    session: str


class QuarantineRecord(_Row):
    tick: str
    line: int
    reasons: list[str]
    replay: str


class Forecast(_Row):
    symbol: str
    horizon: str
    served_model: str | None


def router(settings: StorageSettings) -> APIRouter:
    """The API's routes over `settings`' stores."""
    reader = Reader(settings)
    routes = APIRouter()

    @routes.get("/healthz", response_model=Health)
    def healthz() -> dict[str, str]:
        """The app answers, and which profile it reads."""
        return {"status": "ok", "profile": settings.profile}

    @routes.get("/api/latest", response_model=list[LatestRow] | Empty)
    def latest() -> Response:
        """The latest price of every symbol, with the change since the previous session's close
        (null without history), its age in seconds, and `stale` when a newer tick has run."""
        body = reader.latest_json()
        return _json(body) if body else _answer([], NO_TICKS)

    @routes.get("/api/ticks", response_model=list[TickRow] | Empty)
    def ticks(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="ticks to show")] = 20,
    ) -> Response:
        """The newest ticks, newest first: from run records, else from the lake's objects."""
        return _answer(reader.ticks(limit), NO_TICKS)

    @routes.get("/api/bars/{symbol}", response_model=list[Bar] | Empty)
    def bars(
        symbol: Symbol,
        first: First = None,
        last: Last = None,
        interval: Annotated[str, Query(description=f"one of {', '.join(INTERVALS)}")] = "1m",
    ) -> Response:
        """`marketdata bars SYMBOL --json`: a symbol's bars in the sessions asked."""
        checked, start, end = _range(symbol, first, last)
        if interval not in INTERVALS:
            raise _bad("interval", interval, f"must be one of {', '.join(INTERVALS)}")
        return _json(reader.bars_json(checked, interval, start, end))

    @routes.get("/api/analytics/{symbol}", response_model=list[SessionAnalytics] | Empty)
    def analytics(symbol: Symbol, first: First = None, last: Last = None) -> Response:
        """`marketdata analytics SYMBOL --json`: a symbol's session analytics."""
        return _json(reader.analytics_json(*_range(symbol, first, last)))

    @routes.get("/api/forecast/{symbol}", response_model=Forecast)
    def forecast(
        symbol: Symbol,
        horizon: Annotated[str, Query(description=f"one of {', '.join(HORIZONS)}")] = "5m",
    ) -> JSONResponse:
        """`marketdata forecast SYMBOL --json` and its `verdict` in words; without enough
        history `served_model` is null and `message` names the backfill to run."""
        _symbol(symbol)
        if horizon not in HORIZONS:
            raise _bad("horizon", horizon, f"must be one of {', '.join(HORIZONS)}")
        return JSONResponse(reader.forecast(symbol, horizon))

    @routes.get("/api/quarantine", response_model=list[QuarantineRecord] | Empty)
    def quarantine(
        tick: Annotated[
            str | None, Query(description="a tick minute, e.g. 2026-11-25T14:31Z")
        ] = None,
        reason: Annotated[
            str | None, Query(description="a reason code, e.g. price_invalid")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="records to show")] = 100,
    ) -> Response:
        """`marketdata quarantine --json` records, newest tick first, each with the command that
        replays its tick; without `tick`, from the newest days holding quarantined rows."""
        minute = _tick(tick) if tick is not None else None
        if reason is not None and reason not in REASONS:
            raise _bad("reason", reason, f"must be one of {', '.join(REASONS)}")
        return _answer(reader.quarantine(minute, reason, limit), NOTHING_QUARANTINED)

    return routes


def _answer(rows: list[dict[str, object]], message: str) -> Response:
    return _json(answer_json(rows, message))


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _bad(name: str, value: str, rule: str) -> HTTPException:
    return HTTPException(422, f"{name} {value!r}: {rule}")


def _symbol(symbol: str) -> str:
    if not is_symbol(symbol):
        raise _bad("symbol", symbol, f"not a symbol (rule: {SYMBOL_PATTERN})")
    return symbol


def _range(
    symbol: str, first: str | None, last: str | None
) -> tuple[str, date | None, date | None]:
    """The symbol and dates of a history read, each checked by its rule."""
    start, end = _day(first, "from"), _day(last, "to")
    if start and end and start > end:
        raise _bad("from", str(first), f"must be on or before to {last!r}")
    return _symbol(symbol), start, end


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    if DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _bad(name, text, "must be a date YYYY-MM-DD")


def _tick(text: str) -> datetime:
    try:
        return parse_tick(text, "tick")
    except ConfigError as error:
        raise HTTPException(422, str(error)) from None

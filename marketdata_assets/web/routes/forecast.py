"""GET /api/forecast/{symbol}: a symbol's forecast, judged against naive."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from marketdata_assets.forecasting.horizons import HORIZONS, check_horizon
from marketdata_assets.market.calendar import EXCHANGE_TZ, is_session, session_bounds, sessions_in
from marketdata_assets.web.deps import ReaderDep, Row, SymbolDep

router = APIRouter()


class Forecast(Row):
    symbol: str
    horizon: str
    served_model: str | None
    newest_session: str | None


@router.get("/api/forecast/{symbol}", response_model=Forecast)
def forecast(
    reader: ReaderDep,
    symbol: SymbolDep,
    horizon: Annotated[str, Query(description=f"one of {', '.join(HORIZONS)}")] = "5m",
) -> dict[str, Any]:
    """`marketdata forecast SYMBOL --json` (with `origin`, the instant it forecasts from,
    `target`, the instant it forecasts, and `as_of`, the session it was materialised for), its
    `verdict` in words, and `newest_session`, the newest session whose minute bars are held (a
    forecast whose `as_of` is older is out of date: a refresh forecasts from the newest);
    without a materialised forecast `served_model` is null and `message` names what to run (the
    refresh, or the backfill when the history is too short)."""
    body = reader.forecast(symbol, check_horizon(horizon))
    if body.get("origin") is None:
        return body
    return {**body, "target": forecast_target(str(body["origin"]), horizon)}


def forecast_target(origin: str, horizon: str) -> str:
    """The instant a forecast made at `origin` (ISO, UTC) is for, in UTC: `horizon`'s trading
    minutes later (from a close, into the next session), or for "1d" the next session's close
    (early closes included)."""
    start = datetime.fromisoformat(origin.replace("Z", "+00:00"))
    day = start.astimezone(ZoneInfo(EXCHANGE_TZ)).date()
    later = sessions_in(day + timedelta(days=1), day + timedelta(days=15))[0]
    steps = timedelta(minutes=HORIZONS[horizon])
    if not steps:
        target = session_bounds(later)[1].to_pydatetime()
    else:
        left = timedelta(0)
        if is_session(day):
            close = session_bounds(day)[1].to_pydatetime()
            left = max(close - start, timedelta(0))
        if steps <= left:
            target = start + steps
        else:
            target = session_bounds(later)[0].to_pydatetime() + steps - left
    return target.strftime("%Y-%m-%dT%H:%M:%SZ")

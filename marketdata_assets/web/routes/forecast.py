"""GET /api/forecast/{symbol}: a symbol's forecast, judged against naive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marketdata_assets.forecasting.horizons import HORIZONS, check_horizon
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
    """`marketdata forecast SYMBOL --json` (with `origin`, the instant it forecasts from, and
    `as_of`, the session it was materialised for), its `verdict` in words, and
    `newest_session`, the newest session whose minute bars are held (a forecast whose `as_of`
    is older is out of date: a refresh forecasts from the newest); without a materialised
    forecast `served_model` is null and `message` names what to run (the refresh, or the
    backfill when the history is too short)."""
    return reader.forecast(symbol, check_horizon(horizon))

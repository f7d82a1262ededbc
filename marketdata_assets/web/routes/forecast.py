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


@router.get("/api/forecast/{symbol}", response_model=Forecast)
def forecast(
    reader: ReaderDep,
    symbol: SymbolDep,
    horizon: Annotated[str, Query(description=f"one of {', '.join(HORIZONS)}")] = "5m",
) -> dict[str, Any]:
    """`marketdata forecast SYMBOL --json` and its `verdict` in words; without enough
    history `served_model` is null and `message` names the backfill to run."""
    return reader.forecast(symbol, check_horizon(horizon))

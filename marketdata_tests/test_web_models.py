"""Every API endpoint's answer, on a full and on an empty data dir, validated against the
response model the endpoint declares (the pre-encoded answers of /api/latest and the history
are never checked by FastAPI: here they are, with pydantic's TypeAdapter), and the models are
not vacuous: a row missing a declared field fails them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from marketdata_assets.market.records import INTERVALS
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_assets.web.routes import ROUTERS
from marketdata_tests.web_data import FAULTY_TICK, HOSTILE_TICK, QUARANTINED_SYMBOL, first_session

# Each endpoint (by its route) and the requests that exercise it.
ASKS = {
    "/healthz": ["/healthz"],
    "/api/latest": ["/api/latest"],
    "/api/market": ["/api/market"],
    "/api/symbols": ["/api/symbols"],
    "/api/ticks": ["/api/ticks", "/api/ticks?limit=1"],
    "/api/bars/{symbol}": [
        *(f"/api/bars/AAPL?interval={interval}" for interval in INTERVALS),
        f"/api/bars/KO?interval=1d&from={first_session(30)}",
    ],
    "/api/analytics/{symbol}": [
        "/api/analytics/AAPL",
        f"/api/analytics/MSFT?from={first_session(10)}",
    ],
    "/api/forecast/{symbol}": ["/api/forecast/AAPL?horizon=1d"],
    "/api/quote/{symbol}": ["/api/quote/AAPL", "/api/quote/MSFT"],
    "/api/quarantine": [
        "/api/quarantine",
        f"/api/quarantine?tick={format_tick(FAULTY_TICK)}&reason=price_invalid",
        f"/api/quarantine?tick={format_tick(HOSTILE_TICK)}",
    ],
    "/api/calendar": ["/api/calendar?from=2026-11-20&to=2026-12-01"],
    "/api/backfill": ["/api/backfill", "/api/backfill?symbol=AAPL"],
    "/api/actions/{symbol}": [
        f"/api/actions/{QUARANTINED_SYMBOL}",
        f"/api/actions/{QUARANTINED_SYMBOL}?from=2026-11-25&to=2026-11-25",
    ],
    "/api/quarantine/actions": [
        "/api/quarantine/actions",
        f"/api/quarantine/actions?symbol={QUARANTINED_SYMBOL}&reason=duplicate&limit=1",
    ],
    "/api/quarantine/history": [
        "/api/quarantine/history",
        f"/api/quarantine/history?symbol={QUARANTINED_SYMBOL}&reason=price_invalid&limit=1",
    ],
}


@pytest.fixture(scope="module")
def full(web_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=web_data_dir))) as client:
        yield client


@pytest.fixture(scope="module")
def empty(empty_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=empty_data_dir))) as client:
        yield client


def endpoints() -> dict[str, Any]:
    """Each API route's path -> its declared response model."""
    return {
        route.path: route.response_model
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    }


def row_model(declared: Any) -> type[BaseModel]:
    """The model of one answer's rows (`list[Row] | Empty` -> Row), or the answer's own model."""
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    listed = next(arg for arg in get_args(declared) if get_args(arg))
    model = get_args(listed)[0]
    assert issubclass(model, BaseModel)
    return model


@pytest.mark.graph
def test_every_endpoint_is_asked_for_here(full: TestClient) -> None:
    declared = endpoints()
    assert sorted(declared) == sorted(ASKS) == sorted(full.get("/openapi.json").json()["paths"])
    assert all(model is not None for model in declared.values())


@pytest.mark.graph
@pytest.mark.parametrize("route", sorted(ASKS))
def test_every_answer_on_held_data_is_its_declared_model_with_rows(
    full: TestClient, route: str
) -> None:
    declared = endpoints()[route]
    adapter: TypeAdapter[Any] = TypeAdapter(declared)
    for path in ASKS[route]:
        answer = full.get(path)
        assert answer.status_code == 200, path
        checked = adapter.validate_json(answer.content)
        if isinstance(checked, list):  # a list answer: its rows, each a row of its model
            assert checked and all(isinstance(row, row_model(declared)) for row in checked), path
        else:  # an object answer: the model itself, not an empty answer standing in for rows
            assert isinstance(checked, row_model(declared)), path


@pytest.mark.graph
@pytest.mark.parametrize("route", sorted(ASKS))
def test_every_answer_on_an_empty_data_dir_is_its_declared_model(
    empty: TestClient, route: str
) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(endpoints()[route])
    for path in ASKS[route]:
        answer = empty.get(path)
        assert answer.status_code == 200, path
        adapter.validate_json(answer.content)
        body = answer.json()
        if route == "/api/symbols":  # the configured symbols, held nowhere yet
            assert body and all(not row["latest"] and row["history"] is None for row in body)
            continue
        assert isinstance(body, dict), path  # the empty answer, the health or the forecast
        if "rows" in body:
            assert body["rows"] == [] and body["message"], path


@pytest.mark.graph
@pytest.mark.parametrize("route", sorted(ASKS))
def test_an_answer_missing_a_declared_field_fails_its_model(full: TestClient, route: str) -> None:
    declared = endpoints()[route]
    model = row_model(declared)
    body = full.get(ASKS[route][0]).json()
    one = body[0] if isinstance(body, list) else body
    for field in model.model_fields:
        broken = {key: value for key, value in one.items() if key != field}
        with pytest.raises(ValidationError):
            TypeAdapter(declared).validate_python([broken] if isinstance(body, list) else broken)

"""What the symbol page's charts read besides the bars: the NYSE sessions of a range (the daily
chart's gaps), the instant a forecast is for (where the intraday chart draws it), and the one
backfill every page suggests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.forecasting.windows import ORIGINS, sessions_needed
from marketdata_assets.market.backfill_range import refusal, suggested
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_assets.web.routes.forecast import forecast_target

SUNDAY = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # after Friday's early close, 2026-11-27


@pytest.fixture(scope="module")
def full(web_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=web_data_dir))) as client:
        yield client


def empty_client(folder: Path, now: datetime) -> TestClient:
    return TestClient(create_app(StorageSettings(data_dir=folder), clock=lambda: now))


@pytest.mark.domain
def test_the_calendar_lists_the_nyse_sessions_of_a_range_and_refuses_a_bad_one(
    tmp_path: Path,
) -> None:
    client = empty_client(tmp_path / "data", SUNDAY)
    answer = client.get("/api/calendar?from=2026-11-20&to=2026-12-01").json()
    expected = ["2026-11-20", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"]
    assert answer == {
        "first": "2026-11-20",
        "last": "2026-12-01",
        "sessions": [*expected, "2026-11-30", "2026-12-01"],  # no weekend, no Thanksgiving
    }
    assert answer["sessions"] == [
        str(d) for d in sessions_in(date(2026, 11, 20), date(2026, 12, 1))
    ]
    assert client.get("/api/calendar?from=2026-11-26&to=2026-11-26").json()["sessions"] == []
    for bad in (
        "from=2026-12-01&to=2026-11-20",
        "from=2009-12-31&to=2010-01-05",
        "from=2026-11-20",
    ):
        refused = client.get(f"/api/calendar?{bad}")
        assert refused.status_code == 422, bad


@pytest.mark.domain
def test_the_suggested_backfill_holds_the_sessions_a_forecast_needs_and_backfill_accepts_it(
    tmp_path: Path,
) -> None:
    client = empty_client(tmp_path / "data", SUNDAY)
    answer = client.get("/api/backfill?symbol=AAPL").json()
    first, last = date.fromisoformat(answer["first"]), date.fromisoformat(answer["last"])
    assert last == date(2026, 11, 27)  # the last session that has ended on the dashboard's clock
    assert len(sessions_in(first, last)) == sessions_needed(ORIGINS)
    assert refusal(first, last, SUNDAY) is None
    assert answer["command"] == suggested(first, last, ["AAPL"], SUNDAY)
    assert answer["command"].endswith(f"--from {first} --to {last} --symbols AAPL")
    assert client.get("/api/backfill").json()["symbols"] == []
    assert client.get("/api/backfill?symbol=aa pl").status_code == 422


@pytest.mark.domain
def test_on_an_empty_lake_the_forecast_names_the_same_backfill_as_the_page(tmp_path: Path) -> None:
    # The forecast's sentence is of the present; on the present's clock the two agree.
    client = empty_client(tmp_path / "data", datetime.now(UTC))
    command = client.get("/api/backfill?symbol=AAPL").json()["command"]
    forecast = client.get("/api/forecast/AAPL?horizon=5m").json()
    assert forecast["served_model"] is None and "target" not in forecast
    assert f"`{command}`" in forecast["message"]


@pytest.mark.graph
def test_a_served_forecast_names_the_instant_it_is_for(full: TestClient) -> None:
    # From the close of Wednesday 2026-11-25: Thanksgiving is skipped, Friday closes at 13:00.
    targets = {
        horizon: full.get(f"/api/forecast/AAPL?horizon={horizon}").json()
        for horizon in ("1m", "5m", "15m", "1d")
    }
    assert {h: body["origin"] for h, body in targets.items()} == dict.fromkeys(
        targets, "2026-11-25T21:00:00Z"
    )
    assert {h: body["target"] for h, body in targets.items()} == {
        "1m": "2026-11-27T14:31:00Z",
        "5m": "2026-11-27T14:35:00Z",
        "15m": "2026-11-27T14:45:00Z",
        "1d": "2026-11-27T18:00:00Z",
    }


@pytest.mark.domain
def test_a_target_counts_trading_minutes_across_the_close() -> None:
    assert forecast_target("2026-11-25T20:50:00Z", "5m") == "2026-11-25T20:55:00Z"
    assert forecast_target("2026-11-25T20:50:00Z", "15m") == "2026-11-27T14:35:00Z"
    assert forecast_target("2026-11-27T15:00:00Z", "1d") == "2026-11-30T21:00:00Z"

"""The market's state as a trader reads it (issue 21, item 3): GET /api/market, and each latest
row's status `current`, `stale` or `closed`, on the dashboard's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.latest import LatestPrice
from marketdata_assets.market.calendar import nyse_open, session_bounds, sessions_in
from marketdata_assets.market.state import market_state
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import latest_store
from marketdata_assets.web.app import create_app

pytestmark = pytest.mark.domain


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# now -> (open, session, opens_at, closes_at, next_open, last_close)
STATES = {
    "2026-11-29T17:00:00Z": (  # a Sunday
        False, None, None, None, "2026-11-30T14:30:00Z", "2026-11-27T18:00:00Z"
    ),
    "2026-11-26T16:00:00Z": (  # Thanksgiving
        False, None, None, None, "2026-11-27T14:30:00Z", "2026-11-25T21:00:00Z"
    ),
    "2026-11-27T17:59:00Z": (  # the early close's last minute
        True, "2026-11-27", "2026-11-27T14:30:00Z", "2026-11-27T18:00:00Z",
        "2026-11-30T14:30:00Z", "2026-11-25T21:00:00Z",
    ),
    "2026-11-27T18:00:00Z": (  # the early close
        False, "2026-11-27", "2026-11-27T14:30:00Z", "2026-11-27T18:00:00Z",
        "2026-11-30T14:30:00Z", "2026-11-27T18:00:00Z",
    ),
    "2026-11-30T14:29:59Z": (  # a second before Monday's open
        False, "2026-11-30", "2026-11-30T14:30:00Z", "2026-11-30T21:00:00Z",
        "2026-11-30T14:30:00Z", "2026-11-27T18:00:00Z",
    ),
}  # fmt: skip
FIELDS = ("open", "session", "opens_at", "closes_at", "next_open", "last_close")


@pytest.mark.parametrize("now", sorted(STATES))
def test_api_market_answers_on_the_dashboards_clock(now: str, tmp_path: Path) -> None:
    app = create_app(StorageSettings(data_dir=tmp_path), clock=lambda: utc(now))
    with TestClient(app) as client:
        answer = client.get("/api/market")
    assert answer.status_code == 200
    assert answer.json() == dict(zip(FIELDS, STATES[now], strict=True))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)))
def test_the_state_agrees_with_the_calendar(moment: datetime) -> None:
    now = moment.replace(tzinfo=UTC)
    state = market_state(now)
    minute = now.replace(second=0, microsecond=0)
    assert state.open == nyse_open(minute)
    assert state.next_open is not None and state.next_open > now
    assert state.last_close is not None and state.last_close <= now
    # Nothing trades between the last close and now when closed, or the next open and now.
    between = sessions_in(state.last_close.date(), state.next_open.date())
    opens = [session_bounds(day)[0].to_pydatetime() for day in between]
    closes = [session_bounds(day)[1].to_pydatetime() for day in between]
    assert not [t for t in opens if now < t < state.next_open]
    assert not [t for t in closes if state.last_close < t <= now]


def test_a_latest_rows_status_is_stale_closed_or_current(tmp_path: Path) -> None:
    storage = StorageSettings(data_dir=tmp_path)
    monday = utc("2026-11-30T15:00:00Z")
    earlier = monday - timedelta(minutes=1)
    latest_store(storage).upsert(
        [
            LatestPrice("AAPL", 231.0, "USD", monday, monday),
            LatestPrice("MSFT", 420.0, "USD", earlier, earlier),
        ]
    )
    statuses = {}
    for name, now in {
        "open": monday + timedelta(seconds=5),
        "closed": utc("2026-11-30T22:00Z"),
    }.items():
        with TestClient(create_app(storage, clock=lambda now=now: now)) as client:
            rows = client.get("/api/latest").json()
        statuses[name] = {
            row["symbol"]: (row["status"], row["stale"], row["age_s"]) for row in rows
        }
    assert statuses["open"] == {"AAPL": ("current", False, 5.0), "MSFT": ("stale", True, 65.0)}
    assert statuses["closed"]["AAPL"][:2] == ("closed", False)
    assert statuses["closed"]["MSFT"][:2] == ("stale", True)

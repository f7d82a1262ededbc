"""A price's change is measured against its own symbol's close in the NYSE session before the
price's session (issue 21, item 1): never the newest session held for any symbol. Across a
weekend, a holiday, a missing session and symbols with different history; through the domain
function and `/api/latest`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.history.change import basis_session, change_of
from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.schemas import DAILY_BAR_SCHEMA
from marketdata_assets.latest import LatestPrice
from marketdata_assets.market.calendar import is_session, session_of, sessions_in
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_assets.web.app import create_app

pytestmark = pytest.mark.domain

NY = "America/New_York"
TUE, WED, FRI = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27)  # Thu 26: Thanksgiving


def new_york(text: str) -> datetime:
    return pd.Timestamp(text, tz=NY).to_pydatetime().astimezone(UTC)


# (when the price was seen, the session whose close it is compared with)
BASES = [
    ("2026-11-29 12:00", WED),  # a Sunday: Friday's price, against Wednesday's (Thanksgiving)
    ("2026-11-28 10:00", WED),  # a Saturday
    ("2026-11-26 11:00", TUE),  # Thanksgiving itself: Wednesday's price, against Tuesday's
    ("2026-11-27 10:30", WED),  # the early close after Thanksgiving, in the session
    ("2026-11-30 08:00", FRI),  # Monday before the open: against Friday's close
    ("2026-11-30 18:00", FRI),  # Monday after the close
]


@pytest.mark.parametrize(("seen", "basis"), BASES)
def test_the_basis_is_the_session_before_the_prices_own(seen: str, basis: date) -> None:
    assert basis_session(new_york(seen)) == basis


def test_a_missing_session_gives_no_change_rather_than_an_older_close() -> None:
    closes = {TUE: {"AAPL": 200.0, "MSFT": 400.0}, WED: {"AAPL": 210.0}}  # no MSFT on Wednesday
    asked: list[date] = []

    def on(session: date) -> dict[str, float]:
        asked.append(session)
        return closes.get(session, {})

    sunday = new_york("2026-11-29 12:00")
    aapl = change_of("AAPL", 220.5, sunday, on)
    assert (aapl.previous_close, aapl.basis, aapl.note) == (210.0, WED, None)
    assert aapl.change == pytest.approx(10.5) and aapl.change_pct == pytest.approx(5.0)
    msft = change_of("MSFT", 420.0, sunday, on)
    assert (msft.previous_close, msft.basis, msft.change, msft.change_pct) == (None,) * 4
    assert msft.note is not None and "MSFT on 2026-11-25" in msft.note
    assert "marketdata backfill --from 2026-11-25 --to 2026-11-25 --symbols MSFT" in msft.note
    assert set(asked) == {WED}  # Tuesday's MSFT close is never consulted
    assert msft.fields()["change_basis"] is None and aapl.fields()["change_basis"] == "2026-11-25"


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)))
def test_the_basis_is_the_last_session_before_the_prices_session(moment: datetime) -> None:
    seen = moment.replace(tzinfo=UTC)
    session = session_of(seen)
    assert session is not None and is_session(session)
    day = seen.astimezone(pd.Timestamp(0, tz=NY).tzinfo).date()
    assert session <= day and not [s for s in sessions_in(session, day) if s != session]
    basis = basis_session(seen)
    assert basis is not None and sessions_in(basis, session) == [basis, session]


def daily(session: date, closes: dict[str, float]) -> pd.DataFrame:
    rows = []
    for symbol, close in sorted(closes.items()):
        start = pd.Timestamp(f"{session} 09:30", tz=NY).tz_convert("UTC")
        rows.append(
            {
                "symbol": symbol,
                "session": pd.Timestamp(session),
                "open": close,
                "high": close,
                "low": close,
                "close": close,
                "volume": 1000,
                "vwap": close,
                "minutes": 390,
                "first_minute": start,
                "last_minute": start + timedelta(minutes=389),
                "source": "stub",
            }
        )
    return pd.DataFrame(rows)[list(DAILY_BAR_SCHEMA)].astype(DAILY_BAR_SCHEMA)


def test_api_latest_compares_each_symbol_with_its_own_previous_session(tmp_path: Path) -> None:
    storage = StorageSettings(data_dir=tmp_path)
    lake = lake_store(storage)
    # MSFT's history stops a session earlier than AAPL's; KO has none; a newer session held for
    # AAPL alone (Friday) must not become anybody's basis for a Friday price.
    held = {TUE: {"AAPL": 200.0, "MSFT": 400.0}, WED: {"AAPL": 210.0}, FRI: {"AAPL": 215.0}}
    for session, closes in held.items():
        lake.put(day_key("daily_bars", session), encode("daily_bars", daily(session, closes)))
    sunday = new_york("2026-11-29 12:00")  # the stub's prices carry the tick's time
    friday = new_york("2026-11-27 12:59")
    latest_store(storage).upsert(
        [
            LatestPrice("AAPL", 220.5, "USD", sunday, sunday),
            LatestPrice("MSFT", 420.0, "USD", friday, sunday),
            LatestPrice("KO", 60.0, "USD", friday, sunday),
        ]
    )
    with TestClient(create_app(storage)) as client:
        rows: dict[str, Any] = {row["symbol"]: row for row in client.get("/api/latest").json()}
    assert rows["AAPL"]["previous_close"] == 210.0 and rows["AAPL"]["change_basis"] == "2026-11-25"
    assert rows["AAPL"]["change_pct"] == pytest.approx(5.0) and rows["AAPL"]["change_note"] is None
    for symbol in ("MSFT", "KO"):
        row = rows[symbol]
        assert [row[k] for k in ("previous_close", "change", "change_pct", "change_basis")] == [
            None
        ] * 4
        assert f"no close of {symbol} on 2026-11-25" in row["change_note"]

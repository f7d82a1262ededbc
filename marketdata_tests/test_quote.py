"""`GET /api/quote/{symbol}` (issue 21, item 2): a symbol's latest price with its change against
its own previous session, and its session's open, high, low and volume from the minute bars held,
else from the ticks held, else null with the reason; the market on the dashboard's clock, and
`stale` as /api/latest's. Over a lake written here: a Monday's quotes against the Friday before
(Thanksgiving's early close), minute bars for AAPL, ticks only for MSFT, nothing for KO."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.history.quote import days_from_ticks, tick_keys
from marketdata_assets.lake import ObjectStore, day_key, object_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.lake.schemas import BAR_SCHEMA
from marketdata_assets.latest import LatestPrice
from marketdata_assets.market.calendar import session_bounds
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_assets.web.app import create_app
from marketdata_tests.test_change_basis import daily, new_york

pytestmark = pytest.mark.domain

FRIDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 30)
AAPL_BARS = [  # (New York minute, open, high, low, close, volume) on Monday
    ("09:30", 100.0, 101.0, 99.5, 100.5, 1000),
    ("09:31", 100.5, 103.0, 100.0, 102.0, 2500),
    ("09:32", 102.0, 102.5, 98.0, 99.0, 500),
]
# MSFT's Monday ticks (New York time, price, day volume): the pre-market one does not count.
MSFT_TICKS = [("08:00", 390.0, None), ("09:31", 401.0, 1200), ("09:45", 405.5, 5600)]
MSFT_TICKS += [("10:02", 399.0, 9100)]


def bars(rows: list[tuple[str, float, float, float, float, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "symbol": "AAPL",
                "start": pd.Timestamp(f"{MONDAY} {minute}", tz="America/New_York"),
                "interval": "1m",
                "open": o,
                "high": h,
                "low": lo,
                "close": c,
                "volume": v,
                "source": "stub",
            }
            for minute, o, h, lo, c, v in rows
        ]
    )
    frame["start"] = frame["start"].dt.tz_convert("UTC")
    return frame[list(BAR_SCHEMA)].astype(BAR_SCHEMA)


def ticks(symbol: str, rows: list[tuple[datetime, float, int | None]]) -> pd.DataFrame:
    dtypes = DATASETS["validated"].dtypes
    frame = pd.DataFrame(
        [
            {
                "line": n + 1,
                "symbol": symbol,
                "price": price,
                "day_volume": volume,
                "currency": "USD",
                "event_ts": pd.Timestamp(seen),
                "exchange": "NMS",
                "exchange_tz": "America/New_York",
                "trading_day": pd.Timestamp(MONDAY),
                "tick": pd.Timestamp(seen).floor("min"),
            }
            for n, (seen, price, volume) in enumerate(rows)
        ],
        columns=list(dtypes),
    )
    return frame.astype(dtypes)


def write_ticks(lake: ObjectStore, symbol: str, rows: list[tuple[str, float, int | None]]) -> None:
    """One validated minute object per tick, as the tick writes them."""
    for minute, price, volume in rows:
        seen = new_york(f"{MONDAY} {minute}") + timedelta(seconds=12)
        lake.put(
            object_key("validated", seen),
            encode("validated", ticks(symbol, [(seen, price, volume)])),
        )


MONDAY_10 = new_york(f"{MONDAY} 10:05")


@pytest.fixture
def storage(tmp_path: Path) -> StorageSettings:
    storage = StorageSettings(data_dir=tmp_path)
    lake = lake_store(storage)
    closes = {"AAPL": 98.0, "MSFT": 400.0, "KO": 60.0}
    lake.put(day_key("daily_bars", FRIDAY), encode("daily_bars", daily(FRIDAY, closes)))
    lake.put(day_key("minute_bars", MONDAY), encode("minute_bars", bars(AAPL_BARS)))
    write_ticks(lake, "MSFT", MSFT_TICKS)
    latest_store(storage).upsert(
        [
            LatestPrice("AAPL", 99.5, "USD", MONDAY_10, MONDAY_10),
            LatestPrice("MSFT", 399.0, "USD", MONDAY_10, MONDAY_10),
            # KO's row is of an older tick (Sunday's): stale.
            LatestPrice(
                "KO", 61.2, "USD", new_york("2026-11-29 12:00"), new_york("2026-11-29 12:00")
            ),
        ]
    )
    return storage


def client_at(storage: StorageSettings, now: datetime) -> TestClient:
    return TestClient(create_app(storage, clock=lambda: now))


@pytest.fixture
def open_market(storage: StorageSettings) -> Iterator[TestClient]:
    with client_at(storage, MONDAY_10 + timedelta(minutes=1)) as client:
        yield client


def quote(client: TestClient, symbol: str) -> dict[str, Any]:
    answer = client.get(f"/api/quote/{symbol}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_day_figures_come_from_the_sessions_minute_bars(open_market: TestClient) -> None:
    body = quote(open_market, "AAPL")
    assert (body["price"], body["currency"], body["session"]) == (99.5, "USD", "2026-11-30")
    assert body["event_ts"] == "2026-11-30T15:05:00.000000Z" and body["tick"] == "2026-11-30T15:05Z"
    day = [body[k] for k in ("day_open", "day_high", "day_low", "day_volume", "day_source")]
    assert day == [100.0, 103.0, 98.0, 4000, "minute_bars"]
    assert body["day_note"] is None and body["message"] is None
    # The same price and change as the latest page's row.
    row = next(r for r in open_market.get("/api/latest").json() if r["symbol"] == "AAPL")
    for key in ("price", "event_ts", "tick", "previous_close", "change", "change_pct", "stale"):
        assert body[key] == row[key], key
    assert body["previous_session"] == row["change_basis"]


def test_the_day_figures_stop_at_the_bar_holding_the_quotes_time(tmp_path: Path) -> None:
    """Bars after the price (the session's minute bars held whole, the ticks stopped earlier)
    are not yet that price's day."""
    storage = StorageSettings(data_dir=tmp_path)
    lake = lake_store(storage)
    lake.put(day_key("minute_bars", MONDAY), encode("minute_bars", bars(AAPL_BARS)))
    seen = new_york(f"{MONDAY} 09:31:30")
    latest_store(storage).upsert([LatestPrice("AAPL", 102.0, "USD", seen, seen)])
    with client_at(storage, seen) as client:
        body = quote(client, "AAPL")
    day = [body[k] for k in ("day_open", "day_high", "day_low", "day_volume", "day_source")]
    assert day == [100.0, 103.0, 99.5, 3500, "minute_bars"]  # 09:30 and 09:31, not 09:32


def test_across_a_weekend_the_change_is_against_fridays_close(open_market: TestClient) -> None:
    body = quote(open_market, "AAPL")
    assert (body["previous_session"], body["previous_close"]) == ("2026-11-27", 98.0)
    assert body["change"] == pytest.approx(1.5)
    assert body["change_pct"] == pytest.approx(100 * 1.5 / 98.0)
    assert body["change_note"] is None


def test_without_minute_bars_the_day_comes_from_the_ticks_of_the_session(
    open_market: TestClient,
) -> None:
    body = quote(open_market, "MSFT")
    day = [body[k] for k in ("day_open", "day_high", "day_low", "day_volume", "day_source")]
    assert day == [401.0, 405.5, 399.0, 9100, "ticks"]  # the 08:00 tick is before the open
    assert body["change"] == pytest.approx(-1.0)


def test_without_minute_bars_or_ticks_the_day_figures_are_null_and_say_why(
    open_market: TestClient,
) -> None:
    body = quote(open_market, "KO")
    # Sunday's price belongs to Friday's session; its basis is Wednesday's close, not held.
    assert (body["session"], body["price"]) == ("2026-11-27", 61.2)
    assert [body[k] for k in ("day_open", "day_high", "day_low", "day_volume")] == [None] * 4
    assert body["day_source"] is None
    assert body["day_note"] == (
        "no minute bars or ticks of KO in the session 2026-11-27 are held: run "
        "`marketdata backfill --from 2026-11-27 --to 2026-11-27 --symbols KO`"
    )
    assert [body[k] for k in ("previous_close", "previous_session", "change", "change_pct")] == [
        None
    ] * 4
    assert "no close of KO on 2026-11-25" in body["change_note"]


def test_a_session_still_trading_names_no_backfill(storage: StorageSettings) -> None:
    # A backfill refuses a session that has not ended: the note names none.
    latest_store(storage).upsert([LatestPrice("KO", 61.5, "USD", MONDAY_10, MONDAY_10)])
    with client_at(storage, MONDAY_10) as client:
        body = quote(client, "KO")
    assert body["day_note"] == "no minute bars or ticks of KO in the session 2026-11-30 are held"


def test_stale_is_an_older_tick_than_the_newest(open_market: TestClient) -> None:
    assert quote(open_market, "KO")["stale"] is True
    assert quote(open_market, "AAPL")["stale"] is False


def test_the_market_word_follows_the_dashboards_clock(storage: StorageSettings) -> None:
    moments = {
        "open": MONDAY_10,
        "closed": new_york(f"{MONDAY} 16:00"),  # the close itself: closed
    }
    moments["closed on a Sunday"] = new_york("2026-11-29 12:00")
    for word, now in moments.items():
        with client_at(storage, now) as client:
            assert quote(client, "AAPL")["market"] == word.split()[0], word


def test_a_symbol_without_a_price_answers_nulls_and_the_tick_to_run(
    open_market: TestClient,
) -> None:
    body = quote(open_market, "NVDA")
    assert body["message"] == "no price for NVDA yet: run `marketdata tick --symbols NVDA`"
    assert body["symbol"] == "NVDA" and body["market"] == "open"
    assert {k for k, v in body.items() if v is not None} == {"symbol", "market", "message"}


@pytest.mark.parametrize(
    ("symbol", "detail"),
    [
        ("aapl", "symbol 'aapl': not a symbol"),
        ("A" * 16, f"symbol '{'A' * 16}': not a symbol"),
    ],
)
def test_a_bad_symbol_is_422_in_one_line(open_market: TestClient, symbol: str, detail: str) -> None:
    answer = open_market.get(f"/api/quote/{symbol}")
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(detail) and "\n" not in answer.json()["detail"]


TICK_ROWS = st.lists(
    st.tuples(
        st.integers(-60, 420),  # minutes after the open: before it, in the session, after it
        st.floats(1, 1000, allow_nan=False),
        st.one_of(st.none(), st.integers(0, 10**9)),
    ),
    max_size=12,
    unique_by=lambda row: row[0],  # one tick a minute (a minute's object is rewritten)
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=TICK_ROWS, compacted=st.booleans())
def test_a_day_from_ticks_is_their_first_max_min_and_last_volume_in_the_session(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, float, int | None]],
    compacted: bool,
) -> None:
    lake = lake_store(StorageSettings(data_dir=tmp_path_factory.mktemp("ticks")))
    opened, closed = (t.to_pydatetime() for t in session_bounds(MONDAY))
    seen = [(opened + timedelta(minutes=m, seconds=7), p, v) for m, p, v in rows]
    if compacted:  # after the close: the session's ticks in one object
        lake.put(day_key("validated_daily", MONDAY), encode("validated_daily", ticks("MSFT", seen)))
    else:
        for row in seen:  # every minute lies within Monday's UTC day, as the session does
            lake.put(object_key("validated", row[0]), encode("validated", ticks("MSFT", [row])))
    kept = sorted(row for row in seen if opened <= row[0] < closed)
    keys = tick_keys(lake, MONDAY)
    assert len(keys) == (1 if compacted else len(seen))
    day = days_from_ticks(lake, keys, MONDAY).get("MSFT")
    if not kept:
        assert day is None
        return
    assert day is not None and day.source == "ticks"
    prices = [price for _, price, _ in kept]
    volumes = [volume for _, _, volume in kept if volume is not None]
    assert (day.open, day.high, day.low) == (prices[0], max(prices), min(prices))
    assert day.volume == (max(volumes) if volumes else None)

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.history.analytics import session_analytics
from marketdata_assets.history.daily import daily_bars
from marketdata_assets.lake.schemas import BAR_SCHEMA, DAILY_BAR_SCHEMA, SESSION_ANALYTICS_SCHEMA
from marketdata_assets.market.calendar import session_minutes, sessions_in

pytestmark = pytest.mark.domain

WEDNESDAY = date(2026, 11, 25)
BLACK_FRIDAY = date(2026, 11, 27)  # closes at 13:00 New York: 210 minutes


def bars(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """minute_bars rows: symbol, start, interval, open, high, low, close, volume, source."""
    frame = pd.DataFrame(rows, columns=list(BAR_SCHEMA))
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame.astype(BAR_SCHEMA)


def daily(rows: list[tuple[str, date, float, float]]) -> pd.DataFrame:
    """daily_bars rows from symbol, session, open and close (high, low and vwap around them)."""
    frame = pd.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "session": [pd.Timestamp(r[1]) for r in rows],
            "open": [r[2] for r in rows],
            "high": [max(r[2], r[3]) + 1 for r in rows],
            "low": [min(r[2], r[3]) - 1 for r in rows],
            "close": [r[3] for r in rows],
            "volume": 1000,
            "vwap": [(r[2] + r[3]) / 2 for r in rows],
            "minutes": 390,
            "first_minute": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[us, UTC]"),
            "last_minute": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[us, UTC]"),
            "source": "stub",
        }
    )
    return frame.astype(DAILY_BAR_SCHEMA)


def row(frame: pd.DataFrame, symbol: str, session: date) -> pd.Series:
    match = frame[(frame["symbol"] == symbol) & (frame["session"] == pd.Timestamp(session))]
    assert len(match) == 1
    return match.iloc[0]


# Three AAPL minutes of 2026-11-25 (typical price = (high + low + close) / 3):
#   14:30 o=10 h=12 l=9  c=11   v=100  typical 32/3
#   14:31 o=11 h=13 l=10 c=12   v=200  typical 35/3
#   14:32 o=12 h=12 l=11 c=11.5 v=0    typical 34.5/3
# vwap = (100 * 32/3 + 200 * 35/3 + 0) / 300 = (10200/3) / 300 = 34/3 = 11.333...
VWAP_BARS = [
    ("AAPL", "2026-11-25T14:30Z", "1m", 10.0, 12.0, 9.0, 11.0, 100, "yahoo"),
    ("AAPL", "2026-11-25T14:31Z", "1m", 11.0, 13.0, 10.0, 12.0, 200, "file"),
    ("AAPL", "2026-11-25T14:32Z", "1m", 12.0, 12.0, 11.0, 11.5, 0, "yahoo"),
    ("QUIET", "2026-11-25T14:30Z", "1m", 5.0, 5.0, 5.0, 5.0, 0, "yahoo"),
]


def test_daily_bar_summarises_the_minutes_with_a_volume_weighted_typical_price() -> None:
    summary = row(daily_bars(bars(VWAP_BARS)), "AAPL", WEDNESDAY)
    assert (summary["open"], summary["high"], summary["low"], summary["close"]) == (
        10.0,
        13.0,
        9.0,
        11.5,
    )
    assert summary["volume"] == 300 and summary["minutes"] == 3
    assert summary["vwap"] == pytest.approx(34 / 3)
    assert summary["first_minute"] == pd.Timestamp("2026-11-25T14:30Z")
    assert summary["last_minute"] == pd.Timestamp("2026-11-25T14:32Z")
    assert summary["source"] == "file,yahoo"
    assert pd.isna(row(daily_bars(bars(VWAP_BARS)), "QUIET", WEDNESDAY)["vwap"])  # no volume


def test_daily_bars_have_their_schema_one_row_per_symbol_and_session() -> None:
    frame = daily_bars(bars(VWAP_BARS))
    assert {c: str(t) for c, t in frame.dtypes.items()} == DAILY_BAR_SCHEMA
    assert list(zip(frame["symbol"], frame["session"], strict=True)) == [
        ("AAPL", pd.Timestamp(WEDNESDAY)),
        ("QUIET", pd.Timestamp(WEDNESDAY)),
    ]
    empty = daily_bars(bars([]))
    assert len(empty) == 0 and {c: str(t) for c, t in empty.dtypes.items()} == DAILY_BAR_SCHEMA


def test_daily_bar_of_the_early_close_counts_210_minutes() -> None:
    minutes = session_minutes(BLACK_FRIDAY)
    rows = [
        ("AAPL", start, "1m", 100.0 + i, 100.5 + i, 99.5 + i, 100.0 + i, 10, "yahoo")
        for i, start in enumerate(minutes)
    ]
    summary = row(daily_bars(bars(rows)), "AAPL", BLACK_FRIDAY)
    assert summary["minutes"] == 210
    assert summary["first_minute"] == pd.Timestamp("2026-11-27T14:30Z")  # 09:30 EST
    assert summary["last_minute"] == pd.Timestamp("2026-11-27T17:59Z")  # 12:59 EST
    assert (summary["open"], summary["close"]) == (100.0, 309.0)
    assert (summary["low"], summary["high"]) == (99.5, 309.5)
    assert summary["volume"] == 2100
    # typical price of minute i is 100 + i: equal volumes make vwap their mean, 100 + 209/2
    assert summary["vwap"] == pytest.approx(204.5)


def test_a_session_with_only_a_daily_bar_takes_its_numbers() -> None:
    rows = [
        ("MSFT", "2026-11-24T05:00Z", "1d", 50.0, 56.0, 49.0, 55.0, 1000, "alphavantage"),
        ("MSFT", "2026-11-25T05:00Z", "1d", 1.0, 1.0, 1.0, 1.0, 7, "alphavantage"),
        ("MSFT", "2026-11-25T14:30Z", "1m", 55.0, 57.0, 54.0, 56.0, 10, "yahoo"),
    ]
    frame = daily_bars(bars(rows))
    only_daily = row(frame, "MSFT", date(2026, 11, 24))
    assert (only_daily["open"], only_daily["high"], only_daily["low"]) == (50.0, 56.0, 49.0)
    assert (only_daily["close"], only_daily["volume"], only_daily["minutes"]) == (55.0, 1000, 0)
    assert pd.isna(only_daily["first_minute"]) and pd.isna(only_daily["last_minute"])
    assert only_daily["vwap"] == pytest.approx((56 + 49 + 55) / 3)  # one bar: its typical price
    assert only_daily["source"] == "alphavantage"
    with_minutes = row(frame, "MSFT", WEDNESDAY)  # the minutes win over the 1d bar
    assert (with_minutes["close"], with_minutes["volume"], with_minutes["minutes"]) == (56.0, 10, 1)
    assert with_minutes["source"] == "yahoo"


minute_bar = st.tuples(
    st.sampled_from(["AAPL", "MSFT"]),
    st.integers(0, 389),
    st.floats(1, 1000),
    st.floats(0, 0.1),
    st.integers(0, 10**6),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(minute_bar, max_size=40, unique_by=lambda b: (b[0], b[1])))
def test_daily_bars_conserve_volume_and_minutes_and_keep_vwap_within_the_range(
    generated: list[tuple[str, int, float, float, int]],
) -> None:
    starts = session_minutes(WEDNESDAY)
    rows = [
        (symbol, starts[i], "1m", price, price * (1 + spread), price, price, volume, "stub")
        for symbol, i, price, spread, volume in generated
    ]
    frame = daily_bars(bars(rows))
    assert frame["minutes"].sum() == len(rows)
    assert frame["volume"].sum() == sum(b[4] for b in generated)
    priced = frame[frame["vwap"].notna()]
    assert (priced["low"] <= priced["vwap"] * (1 + 1e-12)).all()
    assert (priced["vwap"] <= priced["high"] * (1 + 1e-12)).all()
    assert frame["vwap"].isna().tolist() == frame["volume"].eq(0).tolist()


# Bucket closes of AAPL on 2026-11-25, buckets of 5 minutes from the 14:30 UTC open:
#   [14:30, 14:35): bars 14:30 (c=100) and 14:34 (c=101) -> 101
#   [14:35, 14:40): bars 14:36 (c=102) and 14:39 (c=99)  -> 99
#   [14:40, 14:45): no bar, skipped
#   [14:45, 14:50): bar 14:47 (c=103)                     -> 103
# returns ln(99/101) = -0.0200007 and ln(103/99) = 0.0396091; squares 0.00040003 + 0.00156888
# = 0.00196891; realized_vol = sqrt(0.00196891) * sqrt(252) = 0.0443724 * 15.874508 = 0.704390
RV_BARS = [
    ("AAPL", "2026-11-25T14:30Z", "1m", 100.0, 100.0, 100.0, 100.0, 1, "stub"),
    ("AAPL", "2026-11-25T14:34Z", "1m", 101.0, 101.0, 101.0, 101.0, 1, "stub"),
    ("AAPL", "2026-11-25T14:36Z", "1m", 102.0, 102.0, 102.0, 102.0, 1, "stub"),
    ("AAPL", "2026-11-25T14:39Z", "1m", 99.0, 99.0, 99.0, 99.0, 1, "stub"),
    ("AAPL", "2026-11-25T14:47Z", "1m", 103.0, 103.0, 103.0, 103.0, 1, "stub"),
    # one bucket only: no return
    ("ONE", "2026-11-25T14:30Z", "1m", 10.0, 10.0, 10.0, 10.0, 1, "stub"),
    ("ONE", "2026-11-25T14:34Z", "1m", 11.0, 11.0, 11.0, 11.0, 1, "stub"),
]


def test_realized_volatility_from_five_minute_bucket_closes() -> None:
    minute_bars = bars(RV_BARS)
    analytics = session_analytics(daily_bars(minute_bars), minute_bars, [WEDNESDAY])
    assert row(analytics, "AAPL", WEDNESDAY)["realized_vol"] == pytest.approx(0.704390, abs=1e-6)
    assert pd.isna(row(analytics, "ONE", WEDNESDAY)["realized_vol"])


def test_range_and_distance_from_vwap() -> None:
    minute_bars = bars(VWAP_BARS)
    analytics = session_analytics(daily_bars(minute_bars), minute_bars, [WEDNESDAY])
    aapl = row(analytics, "AAPL", WEDNESDAY)
    assert aapl["range"] == pytest.approx((13 - 9) / 11.5)  # 0.347826
    assert aapl["close_vs_vwap"] == pytest.approx(11.5 / (34 / 3) - 1)  # 34.5/34 - 1 = 0.014706
    assert aapl["vwap"] == pytest.approx(34 / 3)
    assert pd.isna(row(analytics, "QUIET", WEDNESDAY)["close_vs_vwap"])  # no vwap


def test_returns_against_the_previous_session_close() -> None:
    history = daily(
        [
            ("AAPL", date(2026, 11, 24), 99.0, 100.0),
            ("AAPL", WEDNESDAY, 102.0, 105.0),
            ("GAP", date(2026, 11, 23), 99.0, 100.0),  # no row on the 24th
            ("GAP", WEDNESDAY, 102.0, 105.0),
            ("NEW", WEDNESDAY, 102.0, 105.0),
            ("FRI", WEDNESDAY, 10.0, 20.0),  # Thanksgiving between: still the previous session
            ("FRI", BLACK_FRIDAY, 22.0, 21.0),
        ]
    )
    analytics = session_analytics(history, bars([]), [WEDNESDAY, BLACK_FRIDAY])
    aapl = row(analytics, "AAPL", WEDNESDAY)
    assert aapl["return"] == pytest.approx(0.0487902, abs=1e-6)  # ln(105 / 100)
    assert aapl["overnight_return"] == pytest.approx(0.0198026, abs=1e-6)  # ln(102 / 100)
    for symbol in ("GAP", "NEW"):
        assert pd.isna(row(analytics, symbol, WEDNESDAY)["return"])
        assert pd.isna(row(analytics, symbol, WEDNESDAY)["overnight_return"])
    friday = row(analytics, "FRI", BLACK_FRIDAY)
    assert friday["return"] == pytest.approx(0.0487902, abs=1e-6)  # ln(21 / 20)
    assert friday["overnight_return"] == pytest.approx(0.0953102, abs=1e-6)  # ln(22 / 20)
    assert pd.isna(friday["realized_vol"])  # no minute bars
    # only the sessions asked for, in symbol then session order
    assert list(zip(analytics["symbol"], analytics["session"].dt.date, strict=True)) == [
        ("AAPL", WEDNESDAY),
        ("FRI", WEDNESDAY),
        ("FRI", BLACK_FRIDAY),
        ("GAP", WEDNESDAY),
        ("NEW", WEDNESDAY),
    ]
    assert {c: str(t) for c, t in analytics.dtypes.items()} == SESSION_ANALYTICS_SCHEMA


def test_rolling_volatility_needs_twenty_returns() -> None:
    days = sessions_in(date(2026, 10, 1), WEDNESDAY)[-21:]
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.02, 21)))
    history = daily(
        [("FULL", day, close, close) for day, close in zip(days, closes, strict=True)]
        + [("SHORT", day, close, close) for day, close in zip(days[1:], closes[1:], strict=True)]
    )
    analytics = session_analytics(history, bars([]), [WEDNESDAY])
    expected = np.std(np.diff(np.log(closes)), ddof=1) * np.sqrt(252)  # 21 closes, 20 returns
    assert row(analytics, "FULL", WEDNESDAY)["rolling_vol_20"] == pytest.approx(expected)
    assert pd.isna(row(analytics, "SHORT", WEDNESDAY)["rolling_vol_20"])  # 20 closes: 19 returns
    assert row(analytics, "SHORT", WEDNESDAY)["return"] == pytest.approx(
        math.log(closes[-1] / closes[-2])
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-0.2, 0.2), min_size=41, max_size=41),
    st.integers(0, 20),
    st.lists(st.floats(1, 1e6), max_size=25),
)
def test_a_sessions_figures_do_not_depend_on_the_frame_they_are_computed_in(
    steps: list[float], earlier: int, other: list[float]
) -> None:
    """Order independence, bit for bit: the rolling volatility of the last session is the same
    whether the frame starts 20 sessions before it (the least a run reads) or up to 20 more,
    and whatever symbol sorts before it (a running sum would carry their rounding)."""
    days = sessions_in(date(2026, 9, 1), WEDNESDAY)[-41:]
    closes = 100 * np.exp(np.cumsum(steps))
    own = [("ZZZ", day, close, close) for day, close in zip(days, closes, strict=True)]
    tail = days[len(days) - len(other) :]
    before = [("AAA", day, close, close) for day, close in zip(tail, other, strict=True)]
    least = session_analytics(daily(own[-21:]), bars([]), [WEDNESDAY])
    more = session_analytics(daily(before + own[-21 - earlier :]), bars([]), [WEDNESDAY])
    assert np.array_equal(
        row(least, "ZZZ", WEDNESDAY)[["return", "rolling_vol_20"]].to_numpy(float),
        row(more, "ZZZ", WEDNESDAY)[["return", "rolling_vol_20"]].to_numpy(float),
    )

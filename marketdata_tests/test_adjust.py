"""Back-adjustment (history/adjust.py): hand-computed examples and properties."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.history.adjust import (
    ADJUSTMENTS,
    adjust_bars,
    adjustment,
    previous_closes_of,
)
from marketdata_assets.lake.schemas import BAR_SCHEMA, DAILY_BAR_SCHEMA
from marketdata_assets.market.calendar import sessions_in

pytestmark = pytest.mark.domain

MON, TUE, WED = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)


def daily(rows: list[tuple[str, date, float]], volume: int = 1000) -> pd.DataFrame:
    """daily_bars rows of symbol, session and close (open = high = low = vwap = close)."""
    frame = pd.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "session": [pd.Timestamp(r[1]) for r in rows],
            **{name: [r[2] for r in rows] for name in ("open", "high", "low", "close")},
            "volume": volume,
            "vwap": [r[2] for r in rows],
            "minutes": 390,
            "first_minute": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[us, UTC]"),
            "last_minute": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[us, UTC]"),
            "source": "stub",
        }
    )
    return frame.astype(DAILY_BAR_SCHEMA)


def actions(rows: list[tuple[str, date, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.Series([r[0] for r in rows], dtype="str"),
            "ex_date": pd.Series([pd.Timestamp(r[1]) for r in rows], dtype="datetime64[us]"),
            "kind": pd.Series([r[2] for r in rows], dtype="str"),
            "value": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )


def adjusted(frame: pd.DataFrame, acts: pd.DataFrame, mode: str) -> pd.DataFrame:
    closes = previous_closes_of(acts, frame) if "session" in frame else {}
    return adjust_bars(frame, acts, closes, adjustment(mode))


def test_four_for_one_split_divides_earlier_prices_and_multiplies_volumes() -> None:
    frame = daily([("AAPL", MON, 400.0), ("AAPL", TUE, 404.0), ("AAPL", WED, 101.0)])
    result = adjusted(frame, actions([("AAPL", WED, "split", 4.0)]), "splits")
    assert result["close"].tolist() == [100.0, 101.0, 101.0]
    assert result["open"].tolist() == [100.0, 101.0, 101.0]
    assert result["vwap"].tolist() == [100.0, 101.0, 101.0]
    assert result["volume"].tolist() == [4000, 4000, 1000]
    assert str(result["volume"].dtype) == "int64"
    assert frame["close"].tolist() == [400.0, 404.0, 101.0]  # the stored frame is untouched


def test_three_for_two_split() -> None:
    frame = daily([("KO", TUE, 150.0), ("KO", WED, 100.5)], volume=1001)
    result = adjusted(frame, actions([("KO", WED, "split", 1.5)]), "all")
    assert result["close"].tolist() == [100.0, 100.5]
    assert result["volume"].tolist() == [1502, 1001]  # 1001 * 1.5 = 1501.5, rounded to even


def test_dividend_multiplies_earlier_prices_by_one_minus_amount_over_previous_close() -> None:
    frame = daily([("KO", MON, 98.0), ("KO", TUE, 100.0), ("KO", WED, 99.0)])
    acts = actions([("KO", WED, "dividend", 1.0)])
    result = adjusted(frame, acts, "all")
    assert result["close"].tolist() == pytest.approx([98.0 * 0.99, 100.0 * 0.99, 99.0])
    assert result["volume"].tolist() == [1000, 1000, 1000]
    assert adjusted(frame, acts, "splits")["close"].tolist() == [98.0, 100.0, 99.0]


def test_split_and_dividend_on_adjacent_sessions_compound() -> None:
    # 2:1 on Tuesday, then a 0.50 dividend on Wednesday: Wednesday's factor uses Tuesday's raw
    # close (100, already post-split): 1 - 0.5 / 100 = 0.995.
    frame = daily([("MSFT", MON, 200.0), ("MSFT", TUE, 100.0), ("MSFT", WED, 99.5)])
    acts = actions([("MSFT", TUE, "split", 2.0), ("MSFT", WED, "dividend", 0.5)])
    assert adjusted(frame, acts, "all")["close"].tolist() == pytest.approx([99.5, 99.5, 99.5])
    assert adjusted(frame, acts, "splits")["close"].tolist() == [100.0, 100.0, 99.5]
    assert adjusted(frame, acts, "all")["volume"].tolist() == [2000, 1000, 1000]


def test_minute_bars_take_their_session_from_the_new_york_date_of_their_start() -> None:
    # 20:59 UTC on Tuesday is 15:59 in New York: Tuesday's bar, before a Wednesday split.
    starts = ["2026-11-24T20:59:00Z", "2026-11-25T14:30:00Z"]
    frame = pd.DataFrame(
        {
            "symbol": "NVDA",
            "start": pd.to_datetime(starts, utc=True),
            "interval": "1m",
            **{name: [40.0, 10.0] for name in ("open", "high", "low", "close")},
            "volume": [10, 10],
            "source": "stub",
        }
    ).astype(BAR_SCHEMA)
    result = adjusted(frame, actions([("NVDA", WED, "split", 4.0)]), "splits")
    assert result["close"].tolist() == [10.0, 10.0]
    assert result["volume"].tolist() == [40, 10]


def test_a_dividend_without_its_previous_close_adjusts_nothing() -> None:
    friday = date(2026, 11, 27)
    acts = actions([("KO", friday, "dividend", 1.0)])
    gap = daily([("KO", TUE, 99.0), ("KO", friday, 98.0)])  # Wednesday, the session before, lacks
    assert adjusted(gap, acts, "all")["close"].tolist() == [99.0, 98.0]
    # the session before the Friday ex-date is Wednesday (Thursday is Thanksgiving)
    held = daily([("KO", WED, 100.0), ("KO", friday, 98.0)])
    assert previous_closes_of(acts, held) == {("KO", friday): 100.0}
    assert adjusted(held, acts, "all")["close"].tolist() == pytest.approx([99.0, 98.0])


def test_other_symbols_are_untouched() -> None:
    frame = daily([("AAPL", TUE, 400.0), ("MSFT", TUE, 400.0)])
    result = adjusted(frame, actions([("AAPL", WED, "split", 4.0)]), "splits")
    assert result["close"].tolist() == [100.0, 400.0]


def test_an_unknown_adjustment_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"adjust 'raw': must be one of none, splits, all"):
        adjustment("raw")


SESSIONS = sessions_in(date(2026, 9, 1), date(2026, 11, 30))
closes_st = st.lists(st.floats(1.0, 1000.0), min_size=3, max_size=40)
action_st = st.tuples(
    st.sampled_from(["split", "dividend"]),
    st.integers(0, 39),
    st.floats(0.001, 1000.0),
)


@settings(max_examples=60, deadline=None)
@given(closes=closes_st, mode=st.sampled_from(ADJUSTMENTS))
def test_no_actions_is_the_identity(closes: list[float], mode: str) -> None:
    frame = daily([("AAPL", SESSIONS[i], c) for i, c in enumerate(closes)])
    pd.testing.assert_frame_equal(adjusted(frame, actions([]), mode), frame)


@settings(max_examples=60, deadline=None)
@given(closes=closes_st, acts=st.lists(action_st, max_size=5))
def test_none_always_returns_the_stored_prices(
    closes: list[float], acts: list[tuple[str, int, float]]
) -> None:
    frame = daily([("AAPL", SESSIONS[i], c) for i, c in enumerate(closes)])
    given_actions = actions([("AAPL", SESSIONS[i], kind, v) for kind, i, v in acts])
    pd.testing.assert_frame_equal(adjusted(frame, given_actions, "none"), frame)


@settings(max_examples=60, deadline=None)
@given(closes=closes_st, at=st.integers(1, 39), ratio=st.floats(0.001, 1000.0))
def test_adjusted_returns_across_a_split_equal_raw_returns_on_every_other_day(
    closes: list[float], at: int, ratio: float
) -> None:
    at = min(at, len(closes) - 1)
    frame = daily([("AAPL", SESSIONS[i], c) for i, c in enumerate(closes)])
    result = adjusted(frame, actions([("AAPL", SESSIONS[at], "split", ratio)]), "splits")
    raw = np.diff(np.log(frame["close"].to_numpy()))
    adj = np.diff(np.log(result["close"].to_numpy()))
    others = np.arange(len(raw)) != at - 1  # diff k joins sessions k and k + 1
    np.testing.assert_allclose(adj[others], raw[others], rtol=1e-9, atol=1e-9)
    assert adj[at - 1] == pytest.approx(raw[at - 1] + np.log(ratio))
    assert result["close"].iloc[at:].tolist() == frame["close"].iloc[at:].tolist()

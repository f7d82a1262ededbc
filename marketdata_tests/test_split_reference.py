"""The tick gate knows the calendar of splits (issue 24, item 5), in the domain: on a split's
ex-date the as-of reference is divided by the ratio once, at the session's first tick at or
after the open, so a correct post-split price is accepted at once; without actions (or with
actions that do not split a held symbol) the `price_jump` pass decides exactly as before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.gate.jumps import price_jumps
from marketdata_assets.gate.reference import PriceState, Reference
from marketdata_assets.gate.splits import (
    adjusted_for_splits,
    ex_dates_to_apply,
    on_post_split_basis,
    split_ratios,
)

pytestmark = pytest.mark.domain

EX_DATE = date(2026, 12, 2)  # a Wednesday; the open is 14:30 UTC
OPEN = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
EVENING = datetime(2026, 12, 1, 20, 59, tzinfo=UTC)  # the session before, 15:59 New York
MINUTE = timedelta(minutes=1)


MONDAY_CLOSE = datetime(2026, 11, 30, 20, 59, tzinfo=UTC)  # two sessions before EX_DATE


@pytest.mark.parametrize(
    ("written", "tick", "applies"),
    [
        (EVENING, OPEN, [EX_DATE]),  # the session's first tick at its open
        (EVENING, OPEN + 90 * MINUTE, [EX_DATE]),  # the first tick, later in the session
        (OPEN, OPEN + MINUTE, []),  # a later tick: the reference is on the new basis already
        (OPEN - MINUTE, OPEN, [EX_DATE]),  # written before the open (pre-market): old basis
        (EVENING, OPEN - 90 * MINUTE, []),  # pre-market: quotes are still the old basis
        (None, OPEN, []),  # no reference: nothing to divide
        (
            datetime(2026, 11, 27, 18, 0, tzinfo=UTC),
            OPEN,
            [date(2026, 11, 30), date(2026, 12, 1), EX_DATE],
        ),
        (MONDAY_CLOSE, OPEN, [date(2026, 12, 1), EX_DATE]),  # no tick ran on Tuesday
        (datetime(2026, 12, 5, 15, 0, tzinfo=UTC), datetime(2026, 12, 6, 15, 0, tzinfo=UTC), []),
    ],
)
def test_a_reference_takes_the_splits_of_every_session_opened_since_it_was_written(
    written: datetime | None, tick: datetime, applies: list[date]
) -> None:
    assert ex_dates_to_apply(written, tick) == applies


def actions(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["symbol", "kind", "value"])


def test_split_ratios_compound_and_ignore_dividends() -> None:
    found = split_ratios(
        actions([("NVDA", "split", 1.5), ("AAPL", "split", 4.0), ("KO", "dividend", 0.51)])
    )
    assert found == {"AAPL": 4.0, "NVDA": 1.5}
    assert split_ratios(actions([("X", "split", 2.0), ("X", "split", 3.0)])) == {"X": 6.0}


def test_the_reference_is_divided_by_the_ratio_and_keeps_everything_else() -> None:
    pending = PriceState(
        price=250.0,
        pending_price=400.0,
        pending_ticks=2,
        pending_tick=EVENING,
        event_ts=EVENING - MINUTE,
        written_tick=EVENING - MINUTE,
    )
    reference = {"AAPL": pending, "MSFT": PriceState(price=380.0, event_ts=EVENING)}
    adjusted, applied = on_post_split_basis(reference, {"AAPL": 4.0, "TSLA": 3.0})
    assert applied == {"AAPL": 4.0}  # TSLA holds no reference: nothing to divide
    assert adjusted["AAPL"] == PriceState(
        price=62.5,
        pending_price=100.0,
        pending_ticks=2,
        pending_tick=EVENING,
        event_ts=EVENING - MINUTE,
        written_tick=EVENING - MINUTE,
    )
    assert adjusted["MSFT"] == reference["MSFT"]
    unchanged, none = on_post_split_basis(reference, {"TSLA": 3.0})
    assert unchanged is reference and none == {}


def test_the_splits_are_read_only_when_a_reference_must_take_them() -> None:
    asked: list[date] = []

    def splits_of(session: date) -> dict[str, float]:
        asked.append(session)
        return {"AAPL": 4.0}

    reference = {"AAPL": 250.0}
    adjusted, applied = adjusted_for_splits(reference, EVENING, OPEN, splits_of)
    assert applied == {"AAPL": 4.0} and adjusted["AAPL"].price == 62.5
    assert adjusted_for_splits(reference, OPEN, OPEN + MINUTE, splits_of) == (reference, {})
    assert adjusted_for_splits({}, EVENING, OPEN, splits_of) == ({}, {})
    assert asked == [EX_DATE]  # one read, at the session's first tick from the open


def test_a_split_on_a_session_no_tick_ran_applies_at_the_next_sessions_first_tick() -> None:
    """The schedule missed Tuesday (a 2:1 split's ex-date); Wednesday has a 3:1 split of its
    own: Wednesday's first tick judges against Monday's reference divided by both."""
    splits = {date(2026, 12, 1): {"AAPL": 2.0}, EX_DATE: {"AAPL": 3.0, "MSFT": 2.0}}
    reference = {"AAPL": PriceState(price=600.0, event_ts=MONDAY_CLOSE)}
    adjusted, applied = adjusted_for_splits(
        reference, MONDAY_CLOSE, OPEN, lambda day: splits.get(day, {})
    )
    assert applied == {"AAPL": 6.0}
    assert adjusted["AAPL"].price == 100.0
    assert judged([("AAPL", 101.0)], adjusted)[0] == [False]  # accepted at once
    assert judged([("AAPL", 101.0)], reference)[0] == [True]  # a jump against Monday's price


def judged(
    rows: list[tuple[str, float]], reference: Reference, confirm: int = 3
) -> tuple[list[bool], pd.DataFrame, dict[str, dict[str, float]]]:
    """The `price_jump` pass over one tick's rows at the open: jumps, states, level shifts."""
    symbols = np.array([s for s, _ in rows], dtype=object)
    prices = np.array([p for _, p in rows], dtype="float64")
    moments = np.full(len(rows), np.datetime64(OPEN.replace(tzinfo=None), "us"))
    found = price_jumps(symbols, prices, moments, moments, reference, 0.5, confirm)
    return found.jumped.tolist(), found.states.frame(), found.level_shifts


SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]
prices = st.floats(min_value=0.01, max_value=5000, allow_nan=False)
states = st.builds(
    PriceState,
    price=prices,
    pending_price=st.one_of(st.none(), prices),
    pending_ticks=st.integers(0, 2),
    pending_tick=st.sampled_from([None, EVENING]),
    event_ts=st.sampled_from([None, EVENING]),
    written_tick=st.sampled_from([None, EVENING]),
)


@settings(max_examples=150, deadline=None)
@given(
    reference=st.dictionaries(st.sampled_from(SYMBOLS), states, max_size=4),
    rows=st.lists(st.tuples(st.sampled_from([*SYMBOLS, "EEE"]), prices), max_size=8),
    other=st.lists(
        st.tuples(
            st.sampled_from([*SYMBOLS, "ZZZ"]),
            st.sampled_from(["split", "dividend"]),
            st.floats(0.001, 1000),
        ),
        max_size=4,
    ),
    written=st.sampled_from([None, EVENING, OPEN - MINUTE, OPEN]),
    tick=st.sampled_from([OPEN - MINUTE, OPEN, OPEN + MINUTE]),
    confirm=st.integers(1, 3),
)
def test_without_a_split_of_a_held_symbol_the_verdicts_are_unchanged(
    reference: dict[str, PriceState],
    rows: list[tuple[str, float]],
    other: list[tuple[str, str, float]],
    written: datetime | None,
    tick: datetime,
    confirm: int,
) -> None:
    # Dividends of any symbol, splits of symbols the reference does not hold, or no action.
    unrelated = [(s, k, v) for s, k, v in other if k == "dividend" or s not in reference]
    for found in (actions([]), actions(unrelated)):
        adjusted, applied = adjusted_for_splits(
            reference, written, tick, lambda _session, found=found: split_ratios(found)
        )
        assert applied == {}
        jumped, after, shifts = judged(rows, adjusted, confirm)
        jumped_before, after_before, shifts_before = judged(rows, reference, confirm)
        assert (jumped, shifts) == (jumped_before, shifts_before)
        pd.testing.assert_frame_equal(after, after_before)


@settings(max_examples=150, deadline=None)
@given(
    price=st.floats(min_value=0.01, max_value=5000),
    ratio=st.floats(min_value=0.001, max_value=1000),
    move=st.floats(min_value=-0.4, max_value=0.4),
    pending=st.one_of(st.none(), st.floats(min_value=0.01, max_value=5000)),
)
def test_a_post_split_price_is_accepted_at_the_first_tick_of_the_ex_date(
    price: float, ratio: float, move: float, pending: float | None
) -> None:
    reference = {"AAA": PriceState(price=price, pending_price=pending, pending_ticks=1)}
    adjusted, applied = adjusted_for_splits(reference, EVENING, OPEN, lambda _: {"AAA": ratio})
    traded = price / ratio * (1 + move)  # within the band of the post-split level
    jumped, after, shifts = judged([("AAA", traded)], adjusted)
    assert applied == {"AAA": ratio} and jumped == [False] and shifts == {}
    assert after["price"].tolist() == [traded] and after["pending_price"].isna().all()

"""The vectorised `price_jump` pass decides exactly as `judge_price` row by row in event order:
the same jumps, the same states after each tick, the same level shifts, on random ticks with
many rows per symbol, pending levels and confirmations."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.gate import jumps
from marketdata_assets.gate.reference import PriceState, judge_price, state_of
from marketdata_tests.conftest import TICK

pytestmark = pytest.mark.domain

SYMBOLS = [f"S{i}" for i in range(6)]
# Levels near each other and far apart: within the band, jumps, and levels that agree.
PRICES = [1.0, 1.2, 1.4, 2.0, 2.1, 3.5, 10.0, 10.5, 100.0, 0.4]
MINUTE = timedelta(minutes=1)


def row_by_row(rows: list[tuple[str, float, datetime, datetime]], reference, threshold, confirm):
    """The pass as it was: `judge_price` on each row in event order (ties in row order)."""
    states = {symbol: state_of(value) for symbol, value in reference.items()}
    jumped, shifts = [False] * len(rows), {}
    for index in sorted(range(len(rows)), key=lambda i: rows[i][2]):
        symbol, price, _, tick = rows[index]
        decision = judge_price(states.get(symbol), price, tick, threshold, confirm)
        states[symbol] = decision.state
        jumped[index] = decision.jumped
        if decision.level_shift:
            shifts[symbol] = dict(zip(("from", "to"), decision.level_shift, strict=True))
    return jumped, states, shifts


def judged(state: PriceState) -> tuple[object, ...]:
    """What `judge_price` decides on: the state without what the table was given."""
    return (state.price, state.pending_price, state.pending_ticks, state.pending_tick)


def vectorised(rows, reference, threshold, confirm) -> jumps.Jumps:
    frame = pd.DataFrame(rows, columns=["symbol", "price", "event_ts", "tick"])
    as_us = {
        name: pd.to_datetime(frame[name], utc=True)
        .dt.tz_convert(None)
        .to_numpy(dtype="datetime64[us]")
        for name in ("event_ts", "tick")
    }
    return jumps.price_jumps(
        frame["symbol"].to_numpy(dtype=object),
        frame["price"].to_numpy(dtype="float64"),
        as_us["event_ts"],
        as_us["tick"],
        reference,
        threshold,
        confirm,
    )


row = st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(PRICES), st.integers(0, 20))
tick_rows = st.lists(row, min_size=0, max_size=40)
# The gate quarantines a repeated (symbol, event_ts) as `duplicate` before `price_jump` runs, so
# the rows reaching it hold one per symbol and instant: "a symbol's newest row" is then one row.
distinct_rows = st.lists(row, min_size=0, max_size=40, unique_by=lambda r: (r[0], r[2]))
start = st.dictionaries(
    st.sampled_from(SYMBOLS),
    st.builds(
        lambda price, pending, count, seen: PriceState(
            price, pending, count if pending else 0, TICK - MINUTE if pending and seen else None
        ),
        st.sampled_from(PRICES),
        st.none() | st.sampled_from(PRICES),
        st.integers(1, 4),
        st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    start=start,
    ticks=st.lists(tick_rows, min_size=1, max_size=5),
    threshold=st.sampled_from([0.05, 0.5]),
    confirm=st.integers(1, 4),
    below=st.sampled_from([1, 2, 4, jumps.ROW_BY_ROW_BELOW]),
)
def test_the_vectorised_pass_equals_judging_row_by_row(start, ticks, threshold, confirm, below):
    expected_ref: dict = dict(start)
    reference: object = dict(start)
    with mock.patch.object(jumps, "ROW_BY_ROW_BELOW", below):  # rounds, row by row, or both
        for k, drawn in enumerate(ticks):
            tick = TICK + k * MINUTE
            rows = [(s, p, tick + timedelta(seconds=second), tick) for s, p, second in drawn]
            jumped, states, shifts = row_by_row(rows, expected_ref, threshold, confirm)
            got = vectorised(rows, reference, threshold, confirm)
            assert got.jumped.tolist() == jumped
            assert {s: judged(v) for s, v in got.states.items()} == {
                s: judged(v) for s, v in states.items()
            }
            assert got.level_shifts == shifts and list(got.level_shifts) == list(shifts)
            expected_ref, reference = states, got.states


@settings(max_examples=200, deadline=None)
@given(start=start, ticks=st.lists(distinct_rows, min_size=1, max_size=4))
def test_the_state_keeps_the_newest_accepted_price_and_the_tick_that_gave_it(start, ticks):
    """After each tick a symbol's state holds its newest accepted row's price and event time;
    the tick that gave it is this one, unless an earlier tick gave exactly that price and
    event time (then that earlier tick stays)."""
    reference: object = dict(start)
    for k, drawn in enumerate(ticks):
        tick = TICK + k * MINUTE
        rows = [(s, p, TICK + timedelta(seconds=second), tick) for s, p, second in drawn]
        before = dict(reference)  # type: ignore[call-overload]
        got = vectorised(rows, reference, 0.5, 2)
        for symbol in {s for s, *_ in rows}:
            accepted = [r for r, j in zip(rows, got.jumped.tolist(), strict=True) if not j]
            mine = [r for r in accepted if r[0] == symbol]
            state, held = got.states[symbol], before.get(symbol)
            if not mine:
                assert (state.event_ts, state.written_tick) == (
                    (held.event_ts, held.written_tick) if held else (None, None)
                )
                continue
            _, price, event_ts, _ = max(mine, key=lambda r: r[2])
            assert (state.price, state.event_ts) == (price, event_ts)
            again = held is not None and (held.price, held.event_ts) == (price, event_ts)
            assert state.written_tick == (held.written_tick if again else tick)
        reference = got.states


def test_a_tick_of_a_million_rows_is_judged_in_rounds_not_rows() -> None:
    """Four rows for each of 250k symbols: four vectorised rounds, whose decisions match the
    row-by-row pass on a sample of symbols."""
    n, symbols = 1_000_000, 250_000
    rng = np.random.default_rng(7)
    names = np.array([f"S{i}" for i in range(symbols)], dtype=object)[np.arange(n) % symbols]
    prices = rng.choice([10.0, 10.2, 30.0], n)
    event_ts = np.datetime64("2026-11-25T14:31:00", "us") + (np.arange(n) // symbols).astype(
        "timedelta64[s]"
    )
    ticks = np.full(n, np.datetime64("2026-11-25T14:31:00", "us"))
    got = jumps.price_jumps(names, prices, event_ts, ticks, {}, 0.5, 2)
    sample = np.flatnonzero(np.isin(names, names[:50]))
    rows = [
        (names[i], float(prices[i]), pd.Timestamp(event_ts[i], tz="UTC").to_pydatetime(), TICK)
        for i in sample
    ]
    jumped, states, _ = row_by_row(rows, {}, 0.5, 2)
    assert got.jumped[sample].tolist() == jumped
    assert {s: got.states[s].price for s in states} == {s: v.price for s, v in states.items()}

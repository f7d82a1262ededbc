"""The price_jump rule as a function of the past: level shifts, the storable-price rule, and
the contracts the blocking checks enforce on stored frames."""

import io
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketdata_assets.gate import judge
from marketdata_assets.gate.reference import (
    PriceState,
    judge_price,
    reference_frame,
    reference_from_frame,
)
from marketdata_assets.gate.routing import suite_failures, validated_rows
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.tick.contracts import curated_violations, validated_violations
from marketdata_assets.tick.curation import curate
from marketdata_tests.conftest import TICK, good, line

pytestmark = pytest.mark.domain

THRESHOLD = 0.5
MINUTE = timedelta(minutes=1)


def payload(*records: dict[str, object]) -> bytes:
    return "".join(line(**record) + "\n" for record in records).encode()


def at(tick: datetime, **fields: object) -> dict[str, object]:
    return good(event_ts=(tick + timedelta(seconds=5)).isoformat(), **fields)


def test_a_wrong_reference_gives_way_after_the_confirming_ticks() -> None:
    reference: dict[str, PriceState | float] = {"X": 0.1}
    outcomes = []
    for k in range(4):
        tick = TICK + k * MINUTE
        curated = curate(payload(at(tick, symbol="X", price=100.0)), tick)
        verdict = judge(curated, reference, THRESHOLD, confirmations=3)
        outcomes.append((verdict.reasons_of(0), verdict.level_shifts))
        reference = dict(verdict.reference)
    assert outcomes == [
        (["price_jump"], {}),
        (["price_jump"], {}),
        ([], {"X": {"from": 0.1, "to": 100.0}}),
        ([], {}),
    ]


def test_rows_of_one_tick_are_judged_in_event_order_against_the_state_before_them() -> None:
    first = good("X", 100.0, event_ts=(TICK + timedelta(seconds=1)).isoformat())
    spike = good("X", 300.0, event_ts=(TICK + timedelta(seconds=2)).isoformat())
    after = good("X", 101.0, event_ts=(TICK + timedelta(seconds=3)).isoformat())
    curated = curate(payload(after, spike, first), TICK)
    verdict = judge(curated, {}, THRESHOLD)
    assert [verdict.reasons_of(i) for i in range(3)] == [[], ["price_jump"], []]
    assert verdict.reference["X"].price == 101.0


def test_a_second_row_of_the_same_tick_confirms_nothing() -> None:
    held = PriceState(price=1.0)
    one = judge_price(held, 100.0, TICK, THRESHOLD, confirmations=2)
    two = judge_price(one.state, 100.0, TICK, THRESHOLD, confirmations=2)
    three = judge_price(two.state, 100.0, TICK + MINUTE, THRESHOLD, confirmations=2)
    assert (one.jumped, two.jumped, three.jumped) == (True, True, False)
    assert three.level_shift == (1.0, 100.0)


levels = st.floats(0.01, 10_000.0, allow_nan=False, allow_infinity=False)
prices = st.lists(levels, min_size=1, max_size=30)


def walk(
    start: float | None, sequence: list[float], confirmations: int
) -> list[tuple[bool, float]]:
    """(jumped, accepted price after it) for one row per tick."""
    held = None if start is None else PriceState(price=start)
    out = []
    for k, price in enumerate(sequence):
        decision = judge_price(held, price, TICK + k * MINUTE, THRESHOLD, confirmations)
        held = decision.state
        out.append((decision.jumped, held.price))
    return out


@given(start=st.none() | levels, sequence=prices, confirmations=st.integers(1, 6))
def test_verdicts_depend_only_on_earlier_ticks(start, sequence, confirmations) -> None:
    full = walk(start, sequence, confirmations)
    for cut in range(len(sequence)):
        assert walk(start, sequence[:cut], confirmations) == full[:cut]


@given(start=levels, level=levels, confirmations=st.integers(1, 6), extra=st.integers(0, 5))
def test_a_steady_new_level_is_accepted_at_its_confirming_tick(
    start, level, confirmations, extra
) -> None:
    outcome = walk(start, [level] * (confirmations + extra), confirmations)
    jumped = [j for j, _ in outcome]
    if abs(level / start - 1) <= THRESHOLD:
        assert not any(jumped)
    else:
        assert jumped == [True] * (confirmations - 1) + [False] * (extra + 1)
    assert outcome[-1][1] == level


@given(level=levels, spike=levels, confirmations=st.integers(2, 6), after=st.integers(1, 5))
def test_a_lone_spike_is_quarantined_and_the_level_goes_on(
    level, spike, confirmations, after
) -> None:
    assume(abs(spike / level - 1) > THRESHOLD)
    outcome = walk(level, [spike] + [level] * after, confirmations)
    assert [j for j, _ in outcome] == [True] + [False] * after
    assert outcome[-1][1] == level


@given(start=levels, sequence=prices, confirmations=st.integers(1, 6))
def test_a_price_outside_the_band_is_accepted_only_after_agreeing_jumps(
    start, sequence, confirmations
) -> None:
    """Accepted: within the band of the last accepted price, or the last of `confirmations`
    consecutive jumping ticks each within the band of the one before."""
    held, jumps = start, []
    for price, (jumped, accepted) in zip(
        sequence, walk(start, sequence, confirmations), strict=True
    ):
        if jumped:
            assert accepted == held
            agrees = bool(jumps) and abs(price / jumps[-1] - 1) <= THRESHOLD
            jumps = [*jumps, price] if agrees else [price]
            continue
        assert accepted == price
        if abs(price / held - 1) > THRESHOLD:
            assert len(jumps) == confirmations - 1
            streak = [*jumps, price]
            assert all(abs(b / a - 1) <= THRESHOLD for a, b in pairwise(streak))
        held, jumps = price, []


def test_the_reference_round_trips_through_its_stored_frame() -> None:
    reference = {
        "B": PriceState(100.0, pending_price=300.0, pending_ticks=2, pending_tick=TICK),
        "A": PriceState(1.5),
    }
    frame = decode("reference", encode("reference", reference_frame(reference)))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["symbol"]) == ["A", "B"]
    assert reference_from_frame(frame) == reference


# DynamoDB stores numbers from 1E-130 to below 1E+126 (38 significant digits; a float has 17).
DYNAMODB_MIN, DYNAMODB_BOUND = Decimal("1E-130"), Decimal("1E+126")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.floats(min_value=5e-324, allow_nan=False, allow_infinity=False)
        | st.sampled_from([1e-130, 9.99e-131, 1e-131, 9.99e125, 1e126, 1.7976931348623157e308]),
        min_size=1,
        max_size=40,
    )
)
def test_a_price_passes_the_gate_only_if_dynamodb_can_store_it(values: list[float]) -> None:
    records = [at(TICK, symbol=f"S{i}", price=value) for i, value in enumerate(values)]
    verdict = judge(curate(payload(*records), TICK), {})
    for i, value in enumerate(values):
        storable = DYNAMODB_MIN <= Decimal(repr(value)) < DYNAMODB_BOUND
        assert ("price_invalid" in verdict.reasons_of(i)) == (not storable), value


def test_the_curated_contract_fails_when_rows_were_lost() -> None:
    raw = payload(at(TICK, symbol="A"), at(TICK, symbol="B"), at(TICK, symbol="C"))
    curated = curate(payload(at(TICK, symbol="A"), at(TICK, symbol="B")), TICK)
    assert curated_violations(curate(raw, TICK), raw, TICK) == []
    assert curated_violations(curated, raw, TICK) == [
        "2 rows for 3 raw records: rows must be the records' lines, in order"
    ]


def test_the_curated_contract_fails_on_a_stored_object_of_another_schema() -> None:
    raw = payload(at(TICK, symbol="A"))
    sink = io.BytesIO()  # what an older writer, with prices as text, left in the lake
    table = pa.Table.from_pandas(curate(raw, TICK).astype({"price": "str"}), preserve_index=False)
    pq.write_table(table, sink)
    stored = decode("curated", sink.getvalue())
    assert isinstance(stored, pd.DataFrame)
    assert curated_violations(stored, raw, TICK) == ["column price is str, expected float64"]


def test_the_curated_contract_fails_on_another_ticks_rows() -> None:
    raw = payload(at(TICK, symbol="A"))
    assert curated_violations(curate(raw, TICK + MINUTE), raw, TICK) == [
        "lines 1 carry another tick than 2026-11-25T14:31Z"
    ]


def test_the_validated_contract_fails_on_rows_the_gate_would_quarantine() -> None:
    curated = curate(
        payload(at(TICK, symbol="A"), at(TICK, symbol="B", price=-1), at(TICK, symbol="A")), TICK
    )
    everything = curated.drop(columns="parsed")
    assert suite_failures(everything) == {"price_positive": 1, "price_storable": 1}
    assert validated_violations(everything) == ["lines 3 repeat a symbol and event_ts"]
    clean = validated_rows(curated, judge(curated, {}))
    assert suite_failures(clean) == {} and validated_violations(clean) == []


def test_level_shifts_are_reported_once_for_their_symbol() -> None:
    reference = {"X": PriceState(1.0, pending_price=50.0, pending_ticks=2, pending_tick=TICK)}
    tick = TICK + MINUTE
    curated = curate(payload(at(tick, symbol="X", price=51.0), at(tick, symbol="Y")), tick)
    verdict = judge(curated, reference, THRESHOLD, confirmations=3)
    assert verdict.level_shifts == {"X": {"from": 1.0, "to": 51.0}}
    given = {"event_ts": tick + timedelta(seconds=5), "written_tick": tick}
    assert verdict.reference["X"] == PriceState(51.0, **given)
    assert verdict.reference["Y"] == PriceState(100.0, **given)
    # The reference carries no wall-clock time: a level still pending keeps the tick that saw it.
    later = curate(payload(at(tick, symbol="X", price=1.0)), tick)
    pending = judge(later, verdict.reference, THRESHOLD, confirmations=3)
    assert pending.reference["X"] == PriceState(
        51.0, 1.0, pending_ticks=1, pending_tick=tick, **given
    )

import json
import math
from datetime import timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.gate import REASONS, judge
from marketdata_assets.gate.expectations import SUITE_PATH, suite_definition
from marketdata_assets.gate.quarantine import quarantine_rows
from marketdata_assets.gate.routing import VALIDATED_COLUMNS, validated_rows
from marketdata_assets.market.symbols import SYMBOL_PATTERN
from marketdata_assets.tick.curation import curate, split_lines
from marketdata_tests.conftest import TICK, good, line

pytestmark = pytest.mark.domain


def route(lines: list[str], reference: dict[str, float] | None = None) -> list[list[str]]:
    curated = curate("".join(text + "\n" for text in lines).encode(), TICK)
    verdict = judge(curated, reference or {})
    return [verdict.reasons_of(i) for i in range(len(curated))]


def ts(seconds_from_tick: float) -> str:
    return (TICK + timedelta(seconds=seconds_from_tick)).isoformat()


CASES = {
    "unparseable": ["{not json", "[1, 2]", "", "42"],
    "symbol_invalid": [
        line(**{k: v for k, v in good().items() if k != "symbol"}),
        line(**good(symbol=5)),
        line(**good(symbol="a/b")),
        line(**good(symbol="..")),
        line(**good(symbol="TOOLONGSYMBOLNAME")),
        line(**good(symbol="")),
    ],
    "price_invalid": [
        line(**{k: v for k, v in good().items() if k != "price"}),
        line(**good(price=None)),
        line(**good(price=True)),
        line(**good(price="abc")),
        line(**good(price=0)),
        line(**good(price=-3.5)),
        '{"symbol": "AAPL", "price": Infinity, "volume": 1, "currency": "USD", '
        '"event_ts": "2026-11-25T14:31:05Z"}',
        '{"symbol": "AAPL", "price": NaN, "volume": 1, "currency": "USD", '
        '"event_ts": "2026-11-25T14:31:05Z"}',
    ],
    "volume_invalid": [
        line(**{k: v for k, v in good().items() if k != "volume"}),
        line(**good(volume=None)),
        line(**good(volume=False)),
        line(**good(volume=1.5)),
        line(**good(volume=-1)),
        line(**good(volume="ten")),
    ],
    "currency_invalid": [
        line(**good(currency="US")),
        line(**good(currency="US1")),
        line(**good(currency=None)),
        line(**{k: v for k, v in good().items() if k != "currency"}),
    ],
    "timestamp_invalid": [
        line(**{k: v for k, v in good().items() if k != "event_ts"}),
        line(**good(event_ts="2026-11-25T14:31:05")),  # no offset
        line(**good(event_ts="soon")),
        line(**good(event_ts=1764081065)),
    ],
    "timestamp_future": [line(**good(event_ts=ts(61))), line(**good(event_ts=ts(3600)))],
    "timestamp_stale": [line(**good(event_ts=ts(-86401))), line(**good(event_ts=ts(-(10**6))))],
}


@pytest.mark.parametrize(
    ("reason", "text"), [(reason, text) for reason, texts in CASES.items() for text in texts]
)
def test_each_row_rule_quarantines_with_its_reason_alone(reason: str, text: str) -> None:
    assert route([text]) == [[reason]]


def test_clean_rows_pass_including_the_edges_of_the_time_window() -> None:
    lines = [
        line(**good(symbol="A", event_ts=ts(60))),
        line(**good(symbol="B", event_ts=ts(-86400))),
        line(**good(symbol="BRK.B", volume=0, price="0.0001")),
    ]
    assert route(lines) == [[], [], []]


def test_a_row_carries_every_reason_that_applies() -> None:
    text = line(symbol="a/b", price=-1, volume=-1, currency="dollars", event_ts=ts(120))
    assert route([text]) == [
        [
            "symbol_invalid",
            "price_invalid",
            "volume_invalid",
            "currency_invalid",
            "timestamp_future",
        ]
    ]


def test_validated_rows_keep_the_day_volume_exchange_zone_and_trading_day() -> None:
    listed = good(volume=1200, exchange="NYQ", exchange_tz="America/New_York")
    lines = [line(**listed, trading_day="2026-11-25"), line(**good(symbol="BARE"))]
    curated = curate("".join(text + "\n" for text in lines).encode(), TICK)
    validated = validated_rows(curated, judge(curated, {}))
    assert list(validated.columns) == VALIDATED_COLUMNS
    day = pd.Timestamp("2026-11-25")
    assert validated.loc[0, ["day_volume", "exchange", "exchange_tz", "trading_day"]].tolist() == [
        1200,
        "NYQ",
        "America/New_York",
        day,
    ]
    # No rule needs them: a row without exchange, zone or trading day is validated too.
    assert validated.loc[1, "symbol"] == "BARE"
    assert validated.loc[1, ["exchange", "exchange_tz", "trading_day"]].isna().all()


def test_day_volume_rules_judge_the_day_volume_column() -> None:
    rules = {
        e["meta"]["rule"]: e["kwargs"]["column"]
        for e in suite_definition()["expectations"]
        if e["meta"]["reason"] == "volume_invalid"
    }
    assert rules == {"day_volume_present": "day_volume", "day_volume_not_negative": "day_volume"}


def test_duplicate_keeps_the_first_passing_row_in_input_order() -> None:
    first, bad_copy, copy = good(price=100.0), good(price=-1.0), good(price=101.0)
    assert route([line(**bad_copy), line(**first), line(**copy)]) == [
        ["price_invalid"],
        [],
        ["duplicate"],
    ]


def test_price_jump_compares_with_the_last_held_price() -> None:
    lines = [
        line(**good(symbol="UP", price=151.0)),
        line(**good(symbol="DOWN", price=49.0)),
        line(**good(symbol="OK", price=149.0)),
        line(**good(symbol="NEW", price=1.0)),
        line(**good(symbol="BAD", price=500.0, currency="X")),
    ]
    reference = {"UP": 100.0, "DOWN": 100.0, "OK": 100.0, "BAD": 1.0}
    assert route(lines, reference) == [["price_jump"], ["price_jump"], [], [], ["currency_invalid"]]


def test_jump_threshold_is_configurable() -> None:
    curated = curate((line(**good(price=120.0)) + "\n").encode(), TICK)
    assert judge(curated, {"AAPL": 100.0}, jump_threshold=0.1).reasons_of(0) == ["price_jump"]
    assert judge(curated, {"AAPL": 100.0}, jump_threshold=0.5).reasons_of(0) == []


def test_every_reason_code_is_covered_by_a_case() -> None:
    assert set(CASES) | {"duplicate", "price_jump"} == set(REASONS)


def test_suite_file_names_a_reason_for_every_rule_and_shares_the_symbol_rule() -> None:
    suite = json.loads(SUITE_PATH.read_text())
    assert suite["meta"]["suite_version"]
    reasons = {e["meta"]["reason"] for e in suite["expectations"]}
    assert reasons == set(REASONS) - {"duplicate", "price_jump"}
    symbol_rule = next(e for e in suite["expectations"] if e["meta"]["rule"] == "symbol_shape")
    assert symbol_rule["kwargs"]["regex"] == SYMBOL_PATTERN


def test_suite_round_trips_through_great_expectations() -> None:
    import great_expectations as gx

    suite = gx.ExpectationSuite(**suite_definition())
    again = suite.to_json_dict()
    assert [e["meta"] for e in again["expectations"]] == [
        e["meta"] for e in suite_definition()["expectations"]
    ]


def test_quarantine_keeps_the_original_record_or_raw_text() -> None:
    lines = [line(**good(price=-1, exchange="XNAS")), "oops", line(**good())]
    curated = curate("\n".join(lines).encode(), TICK)
    verdict = judge(curated, {})
    quarantined = quarantine_rows(lines, curated, verdict)
    assert quarantined["line"].tolist() == [1, 2]
    assert json.loads(quarantined.loc[0, "record"])["exchange"] == "XNAS"
    assert quarantined.loc[1, "raw"] == "oops"
    assert [list(r) for r in quarantined["reasons"]] == [["price_invalid"], ["unparseable"]]
    assert validated_rows(curated, verdict)["line"].tolist() == [3]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
record_like = st.fixed_dictionaries(
    {},
    optional={
        "symbol": st.sampled_from(["AAPL", "msft ", "a/b", "", 3]) | st.text(max_size=6),
        "price": st.floats(allow_nan=True) | st.text(max_size=6) | st.integers(-5, 500),
        "volume": st.integers(-5, 10**20) | st.floats() | st.text(max_size=4),
        "currency": st.sampled_from(["USD", "usd", "EURO", None]),
        "event_ts": st.sampled_from([ts(0), ts(30), ts(61), ts(-90000), "2026-11-25T14:31"])
        | st.text(max_size=8),
    },
).map(lambda fields: json.dumps(fields))
any_line = (
    record_like
    | json_values.map(json.dumps)
    | st.text(max_size=30).map(lambda s: s.replace("\n", " "))
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_line, max_size=25))
def test_every_line_is_validated_or_quarantined_never_both_never_lost(lines: list[str]) -> None:
    payload = "".join(text + "\n" for text in lines).encode()
    curated = curate(payload, TICK)
    verdict = judge(curated, {"AAPL": 100.0})
    validated = validated_rows(curated, verdict)
    quarantined = quarantine_rows(split_lines(payload), curated, verdict)
    assert len(validated) + len(quarantined) == len(lines)
    assert set(validated["line"]).isdisjoint(set(quarantined["line"]))
    assert all(len(reasons) > 0 for reasons in quarantined["reasons"])
    assert validated["price"].gt(0).all() and validated["price"].map(math.isfinite).all()

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.gate.expectations import SUITE_PATHS, suite_definition
from marketdata_assets.history.gate import BAR_REASONS, gate_bars
from marketdata_assets.lake.schemas import BAR_CANDIDATE_SCHEMA, BAR_SCHEMA
from marketdata_assets.market.symbols import SYMBOL_PATTERN

pytestmark = pytest.mark.domain

WEDNESDAY = date(2026, 11, 25)  # a full session: 14:30-21:00 UTC (09:30-16:00 EST)
BLACK_FRIDAY = date(2026, 11, 27)  # an early close: 14:30-18:00 UTC (09:30-13:00 EST)
TUESDAY = date(2026, 11, 24)

CANDIDATE_DTYPES = {
    **{c: t for c, t in BAR_CANDIDATE_SCHEMA.items() if c != "raw"},
    "line": "int64",
    "item": "int64",
    "session": "datetime64[us]",
}


def candidate(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "row": 0,
        "symbol": "AAPL",
        "start": "2026-11-25T14:31:00Z",
        "interval": "1m",
        "open": 100.0,
        "high": 101.0,
        "low": 99.0,
        "close": 100.5,
        "volume": 1000.0,
        "source": "stub",
        "problem": None,
        "line": 1,
        "item": 0,
        "session": WEDNESDAY,
    }
    row.update(overrides)
    return row


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Candidates as the history parser yields them, numbering rows in order unless given."""
    data = pd.DataFrame(
        [{**r, "row": r.get("row") or i, "line": i + 1} for i, r in enumerate(rows)],
        columns=list(CANDIDATE_DTYPES),
    )
    data["start"] = pd.to_datetime(data["start"], utc=True).astype("datetime64[us, UTC]")
    data["session"] = pd.to_datetime(data["session"]).astype("datetime64[us]")
    return data.astype(CANDIDATE_DTYPES)


def reasons_per_row(rows: list[dict[str, object]], sessions: list[date]) -> list[list[str]]:
    """Each candidate's reasons, in input order ([] when it became a bar)."""
    candidates = frame(rows)
    verdict = gate_bars(candidates, sessions)
    quarantined = {
        (s, r): list(reasons)
        for s, r, reasons in zip(
            verdict.quarantine["session"],
            verdict.quarantine["row"],
            verdict.quarantine["reasons"],
            strict=True,
        )
    }
    return [
        quarantined.get((s, r), [])
        for s, r in zip(candidates["session"], candidates["row"], strict=True)
    ]


NAN, INF = float("nan"), float("inf")
CASES: dict[str, list[dict[str, object]]] = {
    "unparseable": [
        candidate(problem="unparseable", symbol=None, start=None, open=NAN, volume=NAN),
        candidate(problem="unparseable", symbol="a/b", open=-1.0, interval="7m"),
        candidate(problem="not_json"),  # any parser code but unparseable_ts
    ],
    "unparseable_ts": [
        candidate(problem="unparseable_ts", start=None),
        candidate(start=None),
    ],
    "symbol_invalid": [
        candidate(symbol=None),
        candidate(symbol="aapl"),
        candidate(symbol="a/b"),
        candidate(symbol=""),
        candidate(symbol="TOOLONGSYMBOLNAME"),
        candidate(symbol=" AAPL"),
    ],
    "interval_invalid": [candidate(interval=None), candidate(interval="5m")],
    # each keeps low <= min(open, close) and max(open, close) <= high, or leaves it unknown
    "price_invalid": [
        candidate(open=NAN),
        candidate(close=None),
        candidate(high=INF),
        candidate(low=-1.0),
        candidate(low=0.0),
        candidate(low=1e-131),
        candidate(high=1e126, close=1e126),
    ],
    "ohlc_inconsistent": [
        candidate(low=100.2),  # above the open (100)
        candidate(high=100.4),  # below the close (100.5)
        candidate(open=101.5),  # above the high (101)
        candidate(close=98.0),  # below the low (99)
    ],
    "volume_invalid": [
        candidate(volume=None),
        candidate(volume=-1.0),
        candidate(volume=1.5),
        candidate(volume=INF),
        candidate(volume=2.0**60),  # no exact integer as a float
    ],
    "outside_session": [
        candidate(start="2026-11-25T14:29:00Z"),  # 09:29, before the open
        candidate(start="2026-11-25T21:00:00Z"),  # 16:00: the close, not a bar's minute
        candidate(start="2026-11-25T14:31:30Z"),  # not on a minute
        candidate(start="2026-11-24T14:31:00Z"),  # a minute of another session
        candidate(interval="1d", start="2026-11-25T04:59:00Z"),  # 23:59 on the 24th, New York
    ],
    "no_session": [
        candidate(start="2026-11-26T14:31:00Z"),  # Thanksgiving
        candidate(start="2026-11-22T15:00:00Z"),  # a Sunday
        candidate(interval="1d", start="2026-11-26T05:00:00Z"),  # New York midnight of the 26th
    ],
    "before_first_session": [
        candidate(start="2009-12-31T15:00:00Z"),
        candidate(start="0001-01-01T00:00:00Z"),  # beyond pandas' nanoseconds: no overflow
    ],
    "not_ended": [
        candidate(start="2026-11-27T15:00:00Z"),  # a later session (Black Friday)
        candidate(start="9999-12-31T10:00:00Z"),  # beyond the calendar
    ],
}


def test_each_row_rule_quarantines_with_its_reason_alone() -> None:
    cases = [(reason, row) for reason, rows in CASES.items() for row in rows]
    got = reasons_per_row([row for _, row in cases], [WEDNESDAY])  # one gate call: GE is slow
    assert list(zip(got, cases, strict=True)) == [
        ([reason], (reason, row)) for reason, row in cases
    ]


def test_every_reason_code_is_covered() -> None:
    assert set(CASES) | {"duplicate"} == set(BAR_REASONS)


def test_clean_bars_pass_at_the_edges() -> None:
    rows = [
        candidate(start="2026-11-25T14:30:00Z"),  # the first minute
        candidate(start="2026-11-25T20:59:00Z"),  # the last minute
        candidate(symbol="BRK.B", volume=0.0),
        candidate(symbol="FLAT", open=5.0, high=5.0, low=5.0, close=5.0),
        candidate(interval="1d", start="2026-11-25T05:00:00Z"),  # New York midnight
        candidate(symbol="MSFT", interval="1d", start="2026-11-25T14:30:00Z"),
        candidate(symbol="TINY", open=1e-130, high=1e-130, low=1e-130, close=1e-130),
        candidate(symbol="BIG", volume=2.0**53),
    ]
    assert reasons_per_row(rows, [WEDNESDAY]) == [[]] * len(rows)


def test_a_row_carries_every_reason_that_applies_in_code_order() -> None:
    row = candidate(symbol="a/b", open=-1.0, volume=1.5, start="2026-11-25T03:00:00Z")
    assert reasons_per_row([row], [WEDNESDAY]) == [
        [
            "symbol_invalid",
            "price_invalid",
            "ohlc_inconsistent",
            "volume_invalid",
            "outside_session",
        ]
    ]


def test_early_close_ends_the_session_at_13_new_york() -> None:
    rows = [
        candidate(session=BLACK_FRIDAY, start="2026-11-27T17:59:00Z"),  # 12:59 EST
        candidate(session=BLACK_FRIDAY, start="2026-11-27T18:00:00Z"),  # 13:00 EST
        candidate(session=WEDNESDAY, start="2026-11-25T18:00:00Z"),  # 13:00 EST
    ]
    assert reasons_per_row(rows, [WEDNESDAY, BLACK_FRIDAY]) == [[], ["outside_session"], []]


def test_a_bar_is_judged_against_the_session_it_was_fetched_for() -> None:
    rows = [
        candidate(session=WEDNESDAY, start="2026-11-25T15:00:00Z"),
        candidate(session=TUESDAY, start="2026-11-25T15:00:00Z"),
        candidate(session=TUESDAY, start="2026-11-24T15:00:00Z"),
    ]
    assert reasons_per_row(rows, [TUESDAY, WEDNESDAY]) == [[], ["outside_session"], []]


def test_duplicate_keeps_the_first_valid_row_by_row_number() -> None:
    rows = [
        candidate(row=7, close=100.9),  # a later row of the same bar
        candidate(row=1, open=-1.0),  # the earliest row, invalid: judged on its own
        candidate(row=3),  # the first valid one
        candidate(row=4, interval="1d"),  # another interval: another bar
        candidate(row=5, symbol="MSFT"),
        candidate(row=6, close=100.7),
    ]
    assert reasons_per_row(rows, [WEDNESDAY]) == [
        ["duplicate"],
        ["price_invalid", "ohlc_inconsistent"],
        [],
        [],
        [],
        ["duplicate"],
    ]
    bars = gate_bars(frame(rows), [WEDNESDAY]).bars
    assert bars.loc[bars["interval"] == "1m", "close"].tolist() == [100.5, 100.5]


def test_a_second_daily_bar_of_a_session_is_a_duplicate_whatever_its_start() -> None:
    rows = [
        candidate(interval="1d", start="2026-11-25T14:30:00Z"),
        candidate(interval="1d", start="2026-11-25T05:00:00Z"),
        candidate(interval="1d", start="2026-11-27T05:00:00Z", session=BLACK_FRIDAY),
    ]
    assert reasons_per_row(rows, [WEDNESDAY, BLACK_FRIDAY]) == [[], ["duplicate"], []]


def test_valid_bars_have_the_minute_bars_schema_sorted_by_symbol_then_start() -> None:
    rows = [
        candidate(symbol="MSFT", start="2026-11-25T14:32:00Z"),
        candidate(symbol="AAPL", start="2026-11-25T14:33:00Z", volume=7.0),
        candidate(symbol="MSFT", start="2026-11-25T14:31:00Z", source="file"),
        candidate(symbol="AAPL", start="2026-11-25T14:32:00Z"),
    ]
    bars = gate_bars(frame(rows), [WEDNESDAY]).bars
    assert {c: str(t) for c, t in bars.dtypes.items()} == BAR_SCHEMA
    assert list(zip(bars["symbol"], bars["start"].dt.minute, strict=True)) == [
        ("AAPL", 32),
        ("AAPL", 33),
        ("MSFT", 31),
        ("MSFT", 32),
    ]
    assert bars["volume"].tolist() == [1000, 7, 1000, 1000]
    assert bars["source"].tolist() == ["stub", "stub", "file", "stub"]
    assert isinstance(bars.index, pd.RangeIndex)


def test_quarantine_shows_the_raw_text_the_callback_gives() -> None:
    rows = [
        candidate(line=1, item=0, volume=-1.0),
        candidate(symbol="MSFT"),
        candidate(item=4, problem="unparseable", session=BLACK_FRIDAY),
    ]
    seen: list[pd.DataFrame] = []

    def row_text(quarantined: pd.DataFrame) -> list[str]:
        seen.append(quarantined)
        return [
            f"{s:%Y-%m-%d} line {ln} item {it}"
            for s, ln, it in zip(
                quarantined["session"], quarantined["line"], quarantined["item"], strict=True
            )
        ]

    verdict = gate_bars(frame(rows), [WEDNESDAY, BLACK_FRIDAY], row_text)
    assert len(seen) == 1 and len(seen[0]) == 2  # called once, on quarantined rows only
    assert verdict.quarantine["raw"].tolist() == [
        "2026-11-25 line 1 item 0",
        "2026-11-27 line 3 item 4",
    ]
    assert list(verdict.quarantine.columns) == [*BAR_CANDIDATE_SCHEMA, "reasons", "session"]
    assert str(verdict.quarantine["session"].dtype) == "datetime64[us]"
    assert verdict.reason_counts == {
        r: (1 if r in ("volume_invalid", "unparseable") else 0) for r in BAR_REASONS
    }
    without = gate_bars(frame(rows), [WEDNESDAY, BLACK_FRIDAY]).quarantine
    assert without["raw"].isna().all() and len(without) == 2


def test_candidates_of_a_session_not_gated_are_refused() -> None:
    with pytest.raises(ValueError, match="2026-11-24"):
        gate_bars(frame([candidate(session=TUESDAY)]), [WEDNESDAY])


def test_candidates_of_another_dtype_are_refused_naming_the_column() -> None:
    candidates = frame([candidate()]).astype({"volume": "int64"})
    with pytest.raises(ValueError, match="volume"):
        gate_bars(candidates, [WEDNESDAY])


def test_no_candidates_give_two_empty_tables_of_their_schemas() -> None:
    verdict = gate_bars(frame([]), [WEDNESDAY])
    assert {c: str(t) for c, t in verdict.bars.dtypes.items()} == BAR_SCHEMA
    assert len(verdict.quarantine) == 0
    assert list(verdict.quarantine.columns) == [*BAR_CANDIDATE_SCHEMA, "reasons", "session"]


def test_bars_suite_names_known_reasons_and_shares_the_symbol_rule() -> None:
    suite = json.loads(SUITE_PATHS["bars"].read_text())
    assert suite["meta"]["suite_version"]
    reasons = {e["meta"]["reason"] for e in suite["expectations"]}
    context = {"outside_session", "no_session", "before_first_session", "not_ended", "duplicate"}
    assert reasons == set(BAR_REASONS) - context
    rules = [e["meta"]["rule"] for e in suite["expectations"]]
    assert len(rules) == len(set(rules))
    symbol_rule = next(e for e in suite["expectations"] if e["meta"]["rule"] == "symbol_shape")
    assert symbol_rule["kwargs"]["regex"] == SYMBOL_PATTERN


def test_bars_suite_round_trips_through_great_expectations() -> None:
    import great_expectations as gx

    suite = gx.ExpectationSuite(**suite_definition("bars"))
    assert [e["meta"] for e in suite.to_json_dict()["expectations"]] == [
        e["meta"] for e in suite_definition("bars")["expectations"]
    ]


STARTS = [
    "2026-11-25T14:30:00Z",
    "2026-11-25T14:31:00Z",
    "2026-11-25T20:59:00Z",
    "2026-11-25T21:00:00Z",
    "2026-11-25T05:00:00Z",
    "2026-11-27T17:59:00Z",
    "2026-11-27T18:00:00Z",
    "2026-11-27T14:30:30Z",
    None,
]
prices = st.sampled_from([100.0, 99.0, 101.0, 0.0, -1.0, NAN, INF, -INF, 1e130, None])
volumes = st.sampled_from([0.0, 1.0, 1000.0, 1.5, -1.0, NAN, INF, 2.0**60, None])
candidates_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "row": st.integers(0, 5),  # repeats: duplicates and ties
            "symbol": st.sampled_from(["AAPL", "MSFT", "a/b", "", None]),
            "start": st.sampled_from(STARTS),
            "interval": st.sampled_from(["1m", "1m", "1d", "5m", None]),
            "open": prices,
            "high": prices,
            "low": prices,
            "close": prices,
            "volume": volumes,
            "problem": st.sampled_from([None, None, None, "unparseable", "unparseable_ts"]),
            "session": st.sampled_from([WEDNESDAY, BLACK_FRIDAY]),
        }
    ).map(lambda fields: candidate(**fields)),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(candidates_strategy)
def test_every_candidate_is_a_bar_or_quarantined_never_both_never_lost(
    rows: list[dict[str, object]],
) -> None:
    candidates = frame(rows)
    candidates["row"] = np.array(
        [r["row"] for r in rows], dtype=np.int64
    )  # keep the generated (repeating) numbers
    candidates["item"] = np.arange(len(rows))
    verdict = gate_bars(
        candidates, [WEDNESDAY, BLACK_FRIDAY], lambda q: [str(i) for i in q["item"]]
    )
    bars, quarantine = verdict.bars, verdict.quarantine
    assert len(bars) + len(quarantine) == len(candidates)
    assert all(len(reasons) > 0 for reasons in quarantine["reasons"])
    assert all(
        list(reasons) == [r for r in BAR_REASONS if r in reasons]
        for reasons in quarantine["reasons"]
    )
    passed = set(range(len(rows))) - {int(i) for i in quarantine["raw"]}
    assert len(passed) == len(bars)  # the quarantined items are exactly the missing ones
    assert {c: str(t) for c, t in bars.dtypes.items()} == BAR_SCHEMA
    assert not bars.duplicated(["symbol", "start", "interval"]).any()
    day_bars = bars[bars["interval"] == "1d"]
    new_york_day = day_bars["start"].dt.tz_convert("America/New_York").dt.date
    assert not day_bars.assign(day=new_york_day).duplicated(["symbol", "day"]).any()
    for column in ("open", "high", "low", "close"):
        assert bars[column].map(lambda p: math.isfinite(p) and p > 0).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars[["open", "close"]].max(axis=1) <= bars["high"]).all()
    assert bars["volume"].ge(0).all()
    assert sum(verdict.reason_counts.values()) >= len(quarantine)

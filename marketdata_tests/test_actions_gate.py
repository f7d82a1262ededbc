"""The actions gate (history/actions_gate.py): each reason code, the first valid duplicate kept,
and conservation under garbage."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.history.actions_gate import ACTION_REASONS, gate_actions
from marketdata_assets.lake.datasets import DATASETS

pytestmark = pytest.mark.domain

WED = date(2026, 11, 25)
THANKSGIVING = date(2026, 11, 26)


def candidates(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Action candidates: each row's fields over a valid 4:1 AAPL split landed on Wednesday."""
    base = {
        "symbol": "AAPL",
        "ex_date": pd.Timestamp(WED),
        "kind": "split",
        "value": 4.0,
        "currency": None,
        "source": "file",
        "problem": None,
        "session": pd.Timestamp(WED),
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame.insert(0, "row", np.arange(len(frame), dtype=np.int64))
    return frame.astype(
        {
            "row": "int64",
            "symbol": "str",
            "ex_date": "datetime64[us]",
            "kind": "str",
            "value": "float64",
            "currency": "str",
            "source": "str",
            "problem": "str",
            "session": "datetime64[us]",
        }
    )


CLOSES = {("AAPL", WED): 100.0}  # AAPL closed at 100 the session before Wednesday
CASES: dict[str, dict[str, object]] = {
    "unparseable": {"problem": "unparseable", "symbol": None, "ex_date": None, "value": np.nan},
    "unparseable_date": {"ex_date": None, "problem": "unparseable_date"},
    "symbol_invalid": {"symbol": "aapl!"},
    "kind_unknown": {"kind": "spinoff"},
    "ratio_invalid": {"value": 1001.0},
    "amount_invalid": {"kind": "dividend", "value": -0.5},
    "dividend_not_below_close": {"kind": "dividend", "value": 100.0},
    "currency_invalid": {"kind": "dividend", "value": 0.5, "currency": "dollars"},
    "not_a_session": {"ex_date": pd.Timestamp(THANKSGIVING)},
    "other_session": {"ex_date": pd.Timestamp(date(2026, 11, 24))},
}


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_rule_quarantines_with_its_reason_and_text(reason: str) -> None:
    frame = candidates([CASES[reason]])
    verdict = gate_actions(frame, CLOSES, lambda rows: [f"text {r}" for r in rows["row"]])
    assert verdict.actions.empty
    assert verdict.quarantine["reasons"].tolist() == [[reason]]
    assert verdict.quarantine["raw"].tolist() == ["text 0"]
    assert verdict.reason_counts[reason] == 1


def test_every_reason_has_a_case() -> None:
    assert set(CASES) | {"duplicate"} == set(ACTION_REASONS)


@pytest.mark.parametrize("ratio", [1 / 1000, 0.5, 1.5, 4.0, 1000.0])
def test_ratios_within_bounds_pass(ratio: float) -> None:
    verdict = gate_actions(candidates([{"value": ratio}]), CLOSES)
    assert verdict.actions["value"].tolist() == [ratio]


@pytest.mark.parametrize("ratio", [0.0, -4.0, 0.0009, np.nan, np.inf])
def test_non_positive_or_absurd_ratios_are_quarantined(ratio: float) -> None:
    verdict = gate_actions(candidates([{"value": ratio}]), CLOSES)
    assert verdict.quarantine["reasons"].tolist() == [["ratio_invalid"]]


def test_a_dividend_below_the_previous_close_passes_with_its_ingestion_at_the_close() -> None:
    verdict = gate_actions(
        candidates([{"kind": "dividend", "value": 0.24, "currency": "USD"}]), CLOSES
    )
    row = verdict.actions.iloc[0]
    assert (row["kind"], row["value"], row["currency"]) == ("dividend", 0.24, "USD")
    assert row["ingested_at"] == pd.Timestamp("2026-11-25T21:00:00Z")
    assert {k: str(v) for k, v in verdict.actions.dtypes.items()} == (
        DATASETS["corporate_actions"].dtypes
    )


def test_a_dividend_whose_previous_close_is_unknown_is_not_judged_against_it() -> None:
    verdict = gate_actions(candidates([{"kind": "dividend", "value": 500.0}]), {})
    assert len(verdict.actions) == 1


def test_the_first_valid_duplicate_is_kept() -> None:
    frame = candidates(
        [{"value": 0.0}, {"value": 4.0}, {"value": 2.0}, {"kind": "dividend", "value": 1.0}]
    )
    verdict = gate_actions(frame, CLOSES)
    assert sorted(zip(verdict.actions["kind"], verdict.actions["value"], strict=True)) == [
        ("dividend", 1.0),
        ("split", 4.0),
    ]
    assert verdict.quarantine["row"].tolist() == [0, 2]
    assert verdict.quarantine["reasons"].tolist() == [["ratio_invalid"], ["duplicate"]]


texts = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["AAPL", "split", "dividend"]))
garbage_row = st.fixed_dictionaries(
    {
        "symbol": st.one_of(texts, st.sampled_from(["AAPL", "MSFT"])),
        "ex_date": st.one_of(
            st.none(),
            st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(pd.Timestamp),
            st.sampled_from([pd.Timestamp(WED), pd.Timestamp(THANKSGIVING)]),
        ),
        "kind": st.one_of(texts, st.sampled_from(["split", "dividend"])),
        "value": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(4.0)),
        "currency": st.one_of(st.none(), st.sampled_from(["USD", "usd", "EURO"])),
        "problem": st.sampled_from([None, None, "unparseable", "unparseable_date"]),
    }
)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(garbage_row, max_size=30))
def test_every_candidate_is_gated_or_quarantined_exactly_once(
    rows: list[dict[str, object]],
) -> None:
    frame = candidates(rows) if rows else candidates([{}]).iloc[0:0]
    verdict = gate_actions(frame, CLOSES, lambda q: [str(r) for r in q["row"]])
    assert len(verdict.actions) + len(verdict.quarantine) == len(frame)
    assert verdict.quarantine["row"].is_unique
    assert set(verdict.quarantine["row"]) <= set(frame["row"])
    assert all(reasons for reasons in verdict.quarantine["reasons"])
    assert not verdict.actions.duplicated(["symbol", "ex_date", "kind"]).any()
    counted = verdict.quarantine["reasons"].explode().value_counts().to_dict()
    assert {k: v for k, v in verdict.reason_counts.items() if v} == counted

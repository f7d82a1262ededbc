"""Where corporate actions come from: the stub's seeded schedule, Yahoo's chart events and the
file provider's --actions file, each read from the raw history payload it landed in."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.history.adjust import adjust_bars
from marketdata_assets.providers.actions import action_text, parse_actions
from marketdata_assets.providers.file.history import FileHistory
from marketdata_assets.providers.history import HistoryError, envelope, payload
from marketdata_assets.providers.stub.actions import STUB_ACTIONS
from marketdata_assets.providers.stub.history import StubHistory
from marketdata_assets.providers.stub.market import session_bars

pytestmark = pytest.mark.domain

HISTORY = Path(__file__).with_name("payloads") / "history"
# Shaped after Yahoo's chart answer with events=div,splits for AAPL's 2020 dividend and 4:1
# split (the documented shape; no network here to record one).
YAHOO_EVENTS = (HISTORY / "yahoo_chart_events_AAPL.json").read_text()
SPLIT_DAY = date(2026, 12, 2)  # the stub's AAPL 4:1
BARS_CSV = (HISTORY / "bars.csv").read_text()


def test_yahoo_chart_events_parse_into_a_split_and_a_dividend() -> None:
    line = envelope("yahoo", "AAPL", date(2020, 8, 31), YAHOO_EVENTS, request="chart")
    frame = parse_actions(payload([line]), date(2020, 8, 31))
    rows = [
        (r.symbol, r.ex_date.date().isoformat(), r.kind, r.value, r.currency or None)
        for r in frame.astype({"currency": object}).where(frame.notna(), None).itertuples()
    ]
    assert rows == [
        ("AAPL", "2020-08-07", "dividend", 0.82, "USD"),
        ("AAPL", "2020-08-31", "split", 4.0, None),
    ]
    texts = [action_text(payload([line]), 0, item) for item in frame["item"]]
    assert json.loads(texts[1]) == {
        "splits": {
            "1598880600": {
                "date": 1598880600, "numerator": 4, "denominator": 1, "splitRatio": "4:1"
            }
        }
    }  # fmt: skip


def test_the_stub_lands_its_actions_in_the_ex_date_sessions_body() -> None:
    stub = StubHistory(seed=7)
    found = []
    for action in STUB_ACTIONS:
        frame = parse_actions(stub.fetch(action.ex_date, [action.symbol]), action.ex_date)
        found += [(r.symbol, r.ex_date.date(), r.kind) for r in frame.itertuples()]
        before = parse_actions(stub.fetch(date(2026, 11, 27), [action.symbol]), date(2026, 11, 27))
        assert before.empty
    assert found == [(a.symbol, a.ex_date, a.kind) for a in STUB_ACTIONS]


def test_the_stubs_raw_prices_step_down_by_the_split_and_adjust_back_to_its_walk() -> None:
    before, on = session_bars(7, date(2026, 12, 1), ["AAPL"]), session_bars(7, SPLIT_DAY, ["AAPL"])
    # the open after a 4:1 split is about a quarter of the close before (the walk's gap aside)
    assert 0.24 < on["open"][0, 0] / before["close"][0, -1] < 0.26
    assert 3.5 < on["volume"][0].mean() / before["volume"][0].mean() < 4.6
    daily = pd.DataFrame(
        {
            "symbol": "AAPL",
            "session": pd.to_datetime([date(2026, 12, 1), SPLIT_DAY]).as_unit("us"),
            **{
                name: [before[name][0, -1 if name == "close" else 0], on[name][0, 0]]
                for name in ("open", "close")
            },
            "volume": np.array([100, 100], np.int64),
        }
    )
    actions = pd.DataFrame(
        {"symbol": ["AAPL"], "ex_date": [pd.Timestamp(SPLIT_DAY)], "kind": ["split"],
         "value": [4.0]}
    )  # fmt: skip
    adjusted = adjust_bars(daily, actions, {}, "splits")
    gap = np.log(adjusted["open"].iloc[1] / adjusted["close"].iloc[0])
    assert abs(gap) < 0.03  # an ordinary overnight gap once split-adjusted


def test_a_stub_fetch_is_byte_identical_when_repeated() -> None:
    stub = StubHistory(seed=7)
    assert stub.fetch(SPLIT_DAY, ["AAPL", "MSFT"]) == StubHistory(seed=7).fetch(
        SPLIT_DAY, ["AAPL", "MSFT"]
    )


def _bars_file(tmp_path: Path) -> str:
    path = tmp_path / "bars.csv"
    path.write_text(BARS_CSV)
    return str(path)


def test_a_file_of_actions_rides_in_its_ex_date_sessions_envelopes(tmp_path: Path) -> None:
    actions = tmp_path / "actions.csv"
    actions.write_text(
        "symbol,ex_date,kind,value,currency\n"
        "AAPL,2026-11-20,dividend,0.26,USD\n"
        "AAPL,2026-11-22,split,4,\n"  # a Sunday: lands in the backfill's first session
        "MSFT,2026-11-20,split,abc,\n"
    )
    source = FileHistory(_bars_file(tmp_path), first_session=date(2026, 11, 19),
                         actions=str(actions))  # fmt: skip
    day = date(2026, 11, 20)
    frame = parse_actions(source.fetch(day, ["AAPL", "MSFT"]), day)
    first = next(frame.itertuples())
    assert (first.symbol, first.kind, first.value) == ("AAPL", "dividend", 0.26)
    assert frame["symbol"].tolist() == ["AAPL", "MSFT"]
    assert np.isnan(frame["value"].iloc[1])
    texts = [action_text(source.fetch(day, ["AAPL", "MSFT"]), int(r.line), int(r.item))
             for r in frame.itertuples()]  # fmt: skip
    assert texts == ["AAPL,2026-11-20,dividend,0.26,USD", "MSFT,2026-11-20,split,abc,"]
    first = parse_actions(source.fetch(date(2026, 11, 19), ["AAPL"]), date(2026, 11, 19))
    assert first["ex_date"].dt.date.tolist() == [date(2026, 11, 22)]


def test_a_parquet_file_of_actions_reads_as_its_csv(tmp_path: Path) -> None:
    path = tmp_path / "actions.parquet"
    pq.write_table(
        pa.table({"Symbol": ["AAPL"], "ex_date": [date(2026, 11, 20)], "kind": ["split"],
                  "value": [1.5]}),
        path,
    )  # fmt: skip
    source = FileHistory(_bars_file(tmp_path), actions=str(path))
    day = date(2026, 11, 20)
    frame = parse_actions(source.fetch(day, ["AAPL"]), day)
    assert [(r.symbol, r.ex_date.date(), r.kind, r.value) for r in frame.itertuples()] == [
        ("AAPL", day, "split", 1.5)
    ]


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"symbol,kind,value\nAAPL,split,4\n", "lacks the columns ex_date"),
        (b"\xff\xfe\x00garbage", "neither Parquet nor UTF-8 CSV"),
        (b"PAR1 not really", "not a readable Parquet file"),
    ],
)
def test_a_bad_actions_file_is_one_line_naming_it(
    tmp_path: Path, content: bytes, rule: str
) -> None:
    path = tmp_path / "actions.csv"
    path.write_bytes(content)
    with pytest.raises(HistoryError, match=rule) as raised:
        FileHistory(_bars_file(tmp_path), actions=str(path))
    assert "\n" not in str(raised.value) and "--actions" in str(raised.value)


events = st.recursive(
    st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(value=events)
def test_any_events_value_parses_without_error(value: object) -> None:
    body = json.dumps({"chart": {"result": [{"meta": {}, "events": value}], "error": None}})
    line = payload([envelope("yahoo", "AAPL", SPLIT_DAY, body)])
    frame = parse_actions(line, SPLIT_DAY)
    for row in frame.itertuples():
        assert isinstance(action_text(line, int(row.line), int(row.item)), str)

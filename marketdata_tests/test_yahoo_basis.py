"""Yahoo's price basis (issue 24, item 1): its chart bars are split-adjusted as of the request,
so a session fetched after a later split comes at a quarter of the price it traded at. Each
envelope records the splits known when it was fetched, and the bars are read back to the
traded basis: the same session fetched on both sides of a 4:1 split lands the same prices.

The bodies: `yahoo_chart_AAPL.json` (recorded) as fetched before the split; the same body at a
quarter of the prices and four times the volumes, as Yahoo serves it after; and the answers of
the basis request on both sides, shaped after Yahoo's documented chart events (no network here
to record one after a split)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdata_assets.providers.fetching import FetchPolicy
from marketdata_assets.providers.history import envelope, payload
from marketdata_assets.providers.history_parse import parse_history
from marketdata_assets.providers.yahoo.history import YahooHistory
from marketdata_tests.provider_server import ProviderServer, serving

PAYLOADS = Path(__file__).with_name("payloads")
BEFORE = (PAYLOADS / "yahoo_chart_AAPL.json").read_text()  # 2026-11-25, fetched that day
BASIS_BEFORE = (PAYLOADS / "history" / "yahoo_splits_AAPL_before.json").read_text()
BASIS_AFTER = (PAYLOADS / "history" / "yahoo_splits_AAPL_after.json").read_text()  # 4:1 12-02
SESSION, SPLIT_DAY = date(2026, 11, 25), date(2026, 12, 2)
FAST = FetchPolicy(request_timeout_s=2.0, deadline_s=20, max_attempts=2, backoff_base_s=0.01)
PRICES = ["open", "high", "low", "close"]


def after_split(body: str) -> str:
    """`body` as Yahoo serves it after a later 4:1 split: prices a quarter, volumes four times."""
    chart = json.loads(body)
    quote = chart["chart"]["result"][0]["indicators"]["quote"][0]
    for name in PRICES:
        quote[name] = [None if v is None else v / 4 for v in quote[name]]
    quote["volume"] = [None if v is None else v * 4 for v in quote["volume"]]
    return json.dumps(chart)


AFTER = after_split(BEFORE)


def answer(body: str | None, error: str | None = None) -> dict[str, Any]:
    return {"body": body, "error": error, "request": "chart?events=splits", "status": 200}


def bars(body: str, basis: dict[str, Any] | None, session: date = SESSION) -> pd.DataFrame:
    line = envelope("yahoo", "AAPL", session, body, request="u?interval=1m", basis=basis)
    return parse_history(payload([line]), session).candidates


@pytest.mark.domain
def test_a_session_fetched_on_both_sides_of_a_split_lands_the_same_traded_bars() -> None:
    before = bars(BEFORE, answer(BASIS_BEFORE))
    after = bars(AFTER, answer(BASIS_AFTER))
    assert len(before) == 2
    np.testing.assert_allclose(after[PRICES].to_numpy(), before[PRICES].to_numpy(), rtol=1e-12)
    pd.testing.assert_series_equal(after["volume"], before["volume"])
    pd.testing.assert_series_equal(after["start"], before["start"])
    assert before["close"].tolist() == [229.8, 229.87]  # the recorded body's own prices
    # without the basis the two fetches would mix: a quarter of the price, four times the volume
    unknown = bars(AFTER, None)
    np.testing.assert_allclose(unknown["close"].to_numpy() * 4, before["close"].to_numpy())


@pytest.mark.domain
def test_a_split_on_or_before_the_session_moves_nothing() -> None:
    on_the_day = bars(BEFORE, answer(BASIS_AFTER), SPLIT_DAY)
    assert on_the_day["close"].tolist() == [229.8, 229.87]  # Yahoo's bars of the day are traded


@pytest.mark.domain
@pytest.mark.parametrize(
    "basis",
    [
        answer(None, "RateLimited: HTTP 429"),
        answer("not json"),
        answer(BASIS_AFTER.replace('"numerator":4', '"numerator":"four"')),
    ],
    ids=["failed", "not_a_chart", "unreadable_split"],
)
def test_an_unknown_basis_lands_no_bars_and_says_why(basis: dict[str, Any]) -> None:
    line = envelope("yahoo", "AAPL", SESSION, AFTER, request="u?interval=1m", basis=basis)
    parsed = parse_history(payload([line]), SESSION)
    assert parsed.candidates.empty
    assert parsed.errors["AAPL"].startswith("BasisUnknown:")


@pytest.fixture
def yahoo() -> Iterator[ProviderServer]:
    """Yahoo after the split: bars on the new basis, and the split among the events."""

    def route(path: str, query: dict[str, str]) -> str:
        return f"{path.rsplit('/', 1)[-1]}:{query['events']}"

    bodies = {"div,splits": AFTER, "splits": BASIS_AFTER}
    server = ProviderServer(route, lambda key: bodies[key.split(":")[1]])
    with serving(server):
        yield server


@pytest.mark.system
def test_a_refetch_after_the_split_stores_the_traded_prices(yahoo: ProviderServer) -> None:
    source = YahooHistory(FAST, yahoo.url, today=lambda: date(2026, 12, 4))
    monday = date(2026, 11, 24)
    assert source.requests_needed([monday, SESSION], ["AAPL"]) == 3
    raw = {day: source.fetch(day, ["AAPL"]) for day in (monday, SESSION)}
    assert sorted(yahoo.requests) == ["AAPL:div,splits", "AAPL:div,splits", "AAPL:splits"]
    (basis,) = [q for q in yahoo.queries if q["events"] == "splits"]
    assert basis["interval"] == "3mo" and int(basis["period2"]) == 1796428800  # 12-05 00:00Z
    line = json.loads(raw[SESSION])
    assert line["basis"]["body"] == BASIS_AFTER and line["basis"]["error"] is None
    parsed = parse_history(raw[SESSION], SESSION)
    np.testing.assert_allclose(parsed.candidates["close"].to_numpy(), [229.8, 229.87], rtol=1e-12)
    assert any("back to the traded basis" in note for note in parsed.notes)
    assert source.fetch(SESSION, ["AAPL"]) == raw[SESSION]  # no wall-clock time inside


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
basis_members = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "body": st.one_of(
                st.text(max_size=20),
                st.sampled_from([BASIS_AFTER, BASIS_BEFORE]),
                json_values.map(
                    lambda events: json.dumps({"chart": {"result": [{"events": events}]}})
                ),
            ),
            "error": st.none() | st.text(max_size=5),
        }
    ),
)


@pytest.mark.domain
@given(basis_members)
def test_any_basis_parses_without_error(basis: Any) -> None:
    line = json.loads(envelope("yahoo", "AAPL", SESSION, AFTER, request="u?interval=1m"))
    parsed = parse_history(payload([json.dumps(line | {"basis": basis})]), SESSION)
    assert parsed.candidates.empty == ("AAPL" in parsed.errors)

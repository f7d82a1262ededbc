"""Alpha Vantage's corporate actions (issue 24, item 1): SPLITS and DIVIDENDS asked once per
symbol per backfill and charged to the request budget, landed raw in every session's envelope
before anything parses them, read into the rows of their own sessions, refused by the gate
where they break a rule, and the key in none of it. The bodies are shaped after Alpha Vantage's
documented answers (no network here to record them); their 2026 entries are placed in the
recorded intraday month."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdata_assets.history.actions_gate import gate_actions
from marketdata_assets.operations.request_budget import FileRequestBudget
from marketdata_assets.providers.action_rows import ActionRow
from marketdata_assets.providers.actions import action_text, parse_actions
from marketdata_assets.providers.alphavantage import history as alphavantage_history
from marketdata_assets.providers.alphavantage.actions import read_actions
from marketdata_assets.providers.alphavantage.history import AlphaVantageHistory
from marketdata_assets.providers.fetching import FetchPolicy
from marketdata_assets.providers.history import envelope, payload
from marketdata_tests.provider_server import ProviderServer, serving

HISTORY = Path(__file__).with_name("payloads") / "history"
MONTH = (HISTORY / "alphavantage_intraday_IBM_2026-03.json").read_text()
SPLITS = (HISTORY / "alphavantage_splits_IBM.json").read_text()
DIVIDENDS = (HISTORY / "alphavantage_dividends_IBM.json").read_text()
REFUSED = (Path(__file__).with_name("payloads") / "alphavantage_error_message.json").read_text()
KEY = "K3YS3CR3T0000042"
FAST = FetchPolicy(request_timeout_s=2.0, deadline_s=20, max_attempts=2, backoff_base_s=0.01)
FIRST, DIVIDEND_DAY, SPLIT_DAY = date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 9)
TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def own_backfills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own backfills' shared actions answers (a port may serve two tests)."""
    monkeypatch.setattr(alphavantage_history, "_BACKFILLS", OrderedDict())


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    bodies = {"SPLITS": SPLITS, "DIVIDENDS": DIVIDENDS, "TIME_SERIES_INTRADAY": MONTH}

    def answer(key: str) -> str:
        symbol, function = key.split(":")
        return bodies[function].replace('"IBM"', f'"{symbol}"')

    provider = ProviderServer(lambda _, query: f"{query['symbol']}:{query['function']}", answer)
    with serving(provider):
        yield provider


def source(server: ProviderServer, tmp_path: Path, limit: int = 25) -> AlphaVantageHistory:
    budget = FileRequestBudget(tmp_path / "budget.json", "alphavantage", limit)
    return AlphaVantageHistory(
        KEY, budget, FAST, server.url, today=lambda: TODAY, first_session=FIRST
    )


def rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """(symbol, ex-date, kind, value, problem) of each candidate, None where unknown."""

    def known(value: object) -> object:
        return None if pd.isna(value) else value  # type: ignore[call-overload]

    return [
        (r.symbol, known(r.ex_date) and r.ex_date.date(), known(r.kind), known(r.value),
         known(r.problem))
        for r in frame.itertuples()
    ]  # fmt: skip


@pytest.mark.system
def test_splits_and_dividends_are_asked_once_per_symbol_and_land_in_their_sessions(
    server: ProviderServer, tmp_path: Path
) -> None:
    history = source(server, tmp_path)
    sessions = [FIRST, DIVIDEND_DAY, SPLIT_DAY]
    raw = {session: history.fetch(session, ["IBM", "MSFT"]) for session in sessions}
    assert sorted(server.requests) == [
        f"{symbol}:{function}"
        for symbol in ("IBM", "MSFT")
        for function in ("DIVIDENDS", "SPLITS", "TIME_SERIES_INTRADAY")
    ]
    assert history.budget.used(TODAY) == 6 and history.requests_needed(sessions, ["IBM"]) == 0
    assert {query["apikey"] for query in server.queries} == {KEY}
    for body in raw.values():
        assert KEY.encode() not in body
        for line in body.splitlines():  # landed raw: both answers exactly as received
            actions = json.loads(line)["actions"]
            symbol = json.loads(line)["symbol"]
            assert actions["SPLITS"]["body"] == SPLITS.replace('"IBM"', f'"{symbol}"')
            assert actions["DIVIDENDS"]["status"] == 200 and actions["home"] == "2026-03-02"
            assert actions["SPLITS"]["request"].endswith(f"function=SPLITS&symbol={symbol}")
    found = {session: parse_actions(raw[session], session) for session in sessions}
    ibm = {s: [r for r in rows(f) if r[0] == "IBM"] for s, f in found.items()}
    # the dividend dated a Saturday belongs to the backfill's first session (the gate refuses
    # it there); the others to their own sessions; the ones of other years to none
    assert ibm[FIRST] == [("IBM", date(2026, 3, 7), "dividend", 0.10, None)]
    assert ibm[DIVIDEND_DAY] == [("IBM", DIVIDEND_DAY, "dividend", 1.68, None)]
    assert ibm[SPLIT_DAY] == [("IBM", SPLIT_DAY, "split", 4.0, None)]
    assert found[SPLIT_DAY]["source"].eq("alphavantage").all()
    (split,) = found[SPLIT_DAY][found[SPLIT_DAY]["symbol"].eq("IBM")].itertuples()
    text = action_text(raw[SPLIT_DAY], int(split.line), int(split.item))
    assert json.loads(text) == {
        "SPLITS": {"effective_date": "2026-03-09", "split_factor": "4.0000"}
    }


@pytest.mark.system
def test_the_runs_of_one_backfill_ask_the_actions_once_and_write_the_same_bytes(
    server: ProviderServer, tmp_path: Path
) -> None:
    # a backfill runs a few sessions at a time, each run with a source of its own
    first_run = source(server, tmp_path)
    first_run.fetch(FIRST, ["IBM"])
    kept = first_run.fetch(SPLIT_DAY, ["IBM"])
    later_run = source(server, tmp_path)
    assert later_run.requests_needed([SPLIT_DAY], ["IBM"]) == 1  # the month only
    assert later_run.fetch(SPLIT_DAY, ["IBM"]) == kept
    assert sorted(server.requests) == [
        "IBM:DIVIDENDS",
        "IBM:SPLITS",
        "IBM:TIME_SERIES_INTRADAY",
        "IBM:TIME_SERIES_INTRADAY",
    ]


@pytest.mark.system
def test_the_budget_pays_for_the_actions_or_the_session_is_refused(
    server: ProviderServer, tmp_path: Path
) -> None:
    history = source(server, tmp_path, limit=2)
    assert history.requests_needed([FIRST], ["IBM"]) == 3
    with pytest.raises(Exception, match="needs 1 requests but 0 of 2 are left"):
        history.fetch(FIRST, ["IBM"])


@pytest.mark.system
def test_a_refused_answer_is_one_unparseable_row_of_each_session(
    server: ProviderServer, tmp_path: Path
) -> None:
    server.answers["IBM:DIVIDENDS"] = [(200, REFUSED, 0.0, False)]
    history = source(server, tmp_path)
    raw = history.fetch(SPLIT_DAY, ["IBM"])
    found = parse_actions(raw, SPLIT_DAY)
    assert rows(found) == [
        ("IBM", None, None, None, "unparseable"),
        ("IBM", SPLIT_DAY, "split", 4.0, None),
    ]
    text = action_text(raw, 0, int(found["item"].iloc[0]))
    assert "InvalidRequest" in json.loads(text)["DIVIDENDS"]["error"] and KEY not in text


@pytest.mark.domain
def test_the_gate_keeps_each_session_s_own_actions_and_refuses_the_rest() -> None:
    actions = {
        "home": FIRST.isoformat(),
        **{
            function: {"body": body, "error": None, "request": "query", "status": 200}
            for function, body in (("DIVIDENDS", DIVIDENDS), ("SPLITS", SPLITS))
        },
    }
    frames = []
    for session in (FIRST, DIVIDEND_DAY, SPLIT_DAY):
        line = envelope("alphavantage", "IBM", session, MONTH, status=200, actions=actions)
        found = parse_actions(payload([line]), session)
        frames.append(found.assign(session=pd.Timestamp(session).as_unit("us")))
    candidates = pd.concat(frames, ignore_index=True)
    candidates["row"] = range(len(candidates))
    closes = {("IBM", DIVIDEND_DAY): 250.0, ("IBM", SPLIT_DAY): 250.0}
    verdict = gate_actions(candidates, closes, lambda rows: ["text"] * len(rows))
    kept = verdict.actions
    assert list(zip(kept["kind"], kept["ex_date"].dt.date, kept["value"], strict=True)) == [
        ("dividend", DIVIDEND_DAY, 1.68),
        ("split", SPLIT_DAY, 4.0),
    ]
    assert verdict.quarantine["reasons"].map(list).tolist() == [["not_a_session"]]
    assert len(kept) + len(verdict.quarantine) == len(candidates)


answers = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.fixed_dictionaries(
        {
            "body": st.one_of(
                st.none(),
                st.text(max_size=30),
                st.sampled_from([SPLITS, DIVIDENDS, REFUSED, '{"data": [1, null, {}]}']),
            ),
            "error": st.one_of(st.none(), st.text(max_size=10)),
        }
    ),
)
members = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=10),
    st.fixed_dictionaries(
        {
            "home": st.one_of(st.none(), st.sampled_from(["2026-03-02", "x", "2026-03-07"])),
            "DIVIDENDS": answers,
            "SPLITS": answers,
        }
    ),
)


@pytest.mark.domain
@given(members, st.sampled_from([FIRST, DIVIDEND_DAY, SPLIT_DAY]))
def test_any_actions_member_reads_without_error_and_every_row_has_its_text(
    member: object, session: date
) -> None:
    line: dict[str, Any] = {"symbol": "IBM", "source": "alphavantage", "actions": member}
    found: list[ActionRow] = read_actions(line, session)
    for row in found:
        assert row.symbol == "IBM" and (row.problem is not None or np.isfinite(row.value))
        assert isinstance(action_text_of(line, row.item), str)


def action_text_of(line: dict[str, Any], item: int) -> str:
    from marketdata_assets.providers.alphavantage.actions import action_text as text

    return text(line, item)


@pytest.mark.system
def test_a_backfill_lands_gates_and_stores_them_asking_once_across_its_runs(
    server: ProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketdata_assets import stores
    from marketdata_assets.execution import backfill
    from marketdata_assets.history.adjusted import actions_frame
    from marketdata_assets.settings import Settings

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", KEY)
    settings = Settings(data_dir=tmp_path / "data", providers={"alphavantage": {"url": server.url}})
    # 12 sessions: two runs of at most 10
    plan = backfill.plan(settings, FIRST, date(2026, 3, 17), ["IBM"], "alphavantage", None, False)
    assert len(plan.sessions) == 12
    summary = backfill.run(settings, plan)
    assert not summary.failed
    assert sorted(server.requests) == [
        "IBM:DIVIDENDS",
        "IBM:SPLITS",
        "IBM:TIME_SERIES_INTRADAY",
        "IBM:TIME_SERIES_INTRADAY",  # the month again in the second run
    ]
    lake = stores.lake_store(settings)
    stored = actions_frame(lake, "IBM")
    assert list(zip(stored["ex_date"].dt.date, stored["kind"], stored["value"], strict=True)) == [
        (DIVIDEND_DAY, "dividend", 1.68),
        (SPLIT_DAY, "split", 4.0),
    ]
    assert stored["source"].eq("alphavantage").all() and stored["currency"].isna().all()
    refused = pd.read_parquet(
        tmp_path / "data" / "actions_quarantine" / f"date={FIRST}" / "part.parquet"
    )
    assert refused["reasons"].map(list).tolist() == [["not_a_session"]]
    assert json.loads(refused["raw"].iloc[0])["DIVIDENDS"]["ex_dividend_date"] == "2026-03-07"
    for key in lake.keys(""):  # the key in no dataset, in any encoding
        body = lake.get(key)
        assert KEY.encode() not in body and KEY.encode("utf-16-le") not in body

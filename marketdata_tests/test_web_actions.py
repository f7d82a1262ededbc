"""The API's corporate actions: a symbol's splits and dividends and the rows the actions gate
refused, against the CLI's `--json` output and the lake's objects on the same data dir; the
bars and analytics on each basis; ranges, filters, bad parameters and empty stores."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import lake_store
from marketdata_assets.web.app import create_app
from marketdata_tests.test_web_api import cli_json
from marketdata_tests.web_data import (
    HOSTILE_ACTION,
    LAST_SESSION,
    QUARANTINED_SYMBOL,
    SYMBOLS,
)

pytestmark = pytest.mark.graph

SPLIT, DIVIDEND = "2026-12-02", "2026-12-03"  # AAPL's 4:1, MSFT's dividend (stub/actions.py)
WEEK = "from=2026-11-30&to=2026-12-04"


@pytest.fixture(scope="module")
def week(actions_week_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=actions_week_dir))) as client:
        yield client


@pytest.fixture(scope="module")
def web(web_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=web_data_dir))) as client:
        yield client


def test_a_symbols_actions_are_the_cli_objects(week: TestClient, actions_week_dir: Path) -> None:
    for symbol in SYMBOLS:
        answer = week.get(f"/api/actions/{symbol}")
        assert answer.status_code == 200
        assert answer.json() == cli_json(actions_week_dir, "actions", symbol), symbol
    assert week.get("/api/actions/AAPL").json() == [
        {"symbol": "AAPL", "ex_date": SPLIT, "kind": "split", "value": 4.0, "currency": None,
         "source": "stub"}
    ]  # fmt: skip
    [dividend] = week.get("/api/actions/MSFT").json()
    assert (dividend["ex_date"], dividend["kind"], dividend["currency"]) == (DIVIDEND, "dividend",
                                                                            "USD")  # fmt: skip
    ranged = week.get("/api/actions/KO?from=2026-12-01&to=2026-12-01").json()
    assert ranged == cli_json(actions_week_dir, "actions", "KO", "--from", "2026-12-01",
                              "--to", "2026-12-01")  # fmt: skip
    assert [row["ex_date"] for row in ranged] == ["2026-12-01"]


def test_actions_outside_the_range_asked_answer_empty_saying_why(week: TestClient) -> None:
    after = week.get(f"/api/actions/AAPL?from={DIVIDEND}").json()
    assert after == {"rows": [], "message": f"no corporate actions for AAPL with an ex-date "
                     f"from {DIVIDEND} to the latest held"}  # fmt: skip
    assert week.get("/api/actions/ZZZQ").json() == {
        "rows": [], "message": "no corporate actions for ZZZQ in the lake"
    }  # fmt: skip


@pytest.mark.parametrize("basis", ["none", "splits", "all"])
def test_daily_bars_and_analytics_on_each_basis_are_the_clis(
    week: TestClient, actions_week_dir: Path, basis: str
) -> None:
    for symbol in ("AAPL", "MSFT"):
        bars = week.get(f"/api/bars/{symbol}?interval=1d&{WEEK}&adjust={basis}").json()
        range_ = ["--from", "2026-11-30", "--to", "2026-12-04", "--adjust", basis]
        assert bars == cli_json(actions_week_dir, "bars", symbol, "--interval", "1d", *range_)
        analytics = week.get(f"/api/analytics/{symbol}?{WEEK}&adjust={basis}").json()
        assert analytics == cli_json(actions_week_dir, "analytics", symbol, *range_)


def test_the_bases_scale_the_bars_before_each_ex_date_and_no_others(week: TestClient) -> None:
    def closes(symbol: str, basis: str | None) -> dict[str, float]:
        asked = f"&adjust={basis}" if basis else ""
        bars = week.get(f"/api/bars/{symbol}?interval=1d&{WEEK}{asked}").json()
        return {bar["start"][:10]: bar["close"] for bar in bars}

    raw, splits = closes("AAPL", "none"), closes("AAPL", "splits")
    assert closes("AAPL", None) == splits  # the default basis
    assert len(raw) == 5
    for day, close in raw.items():
        assert splits[day] == pytest.approx(close / 4 if day < SPLIT else close), day
    raw, splits, every = closes("MSFT", "none"), closes("MSFT", "splits"), closes("MSFT", "all")
    assert splits == raw  # a dividend is no split
    [dividend] = week.get("/api/actions/MSFT").json()
    factor = 1 - dividend["value"] / raw["2026-12-02"]
    for day, close in raw.items():
        assert every[day] == pytest.approx(close * factor if day < DIVIDEND else close), day
    returns = {
        basis: {
            row["session"]: row["return"]
            for row in week.get(f"/api/analytics/AAPL?{WEEK}&adjust={basis}").json()
        }
        for basis in ("none", "splits")
    }
    assert returns["none"][SPLIT] == pytest.approx(returns["splits"][SPLIT] - math.log(4))


def test_quarantined_actions_are_the_lakes_refused_rows_with_their_reasons_and_text(
    web: TestClient, web_data_dir: Path
) -> None:
    answer = web.get("/api/quarantine/actions")
    assert answer.status_code == 200
    rows = answer.json()
    stored = decode("actions_quarantine",
                    lake_store(StorageSettings(data_dir=web_data_dir)).get(
                        day_key("actions_quarantine", LAST_SESSION)))  # fmt: skip
    assert [row["raw"] for row in rows] == stored.sort_values("row")["raw"].tolist()
    assert [(row["row"], row["reasons"], row["raw"]) for row in rows] == [
        (1, ["ratio_invalid"], f"{QUARANTINED_SYMBOL},2026-11-25,split,0"),
        (2, ["duplicate"], f"{QUARANTINED_SYMBOL},2026-11-25,split,3"),
        (3, ["kind_unknown"], HOSTILE_ACTION),
    ]
    assert {row["session"] for row in rows} == {LAST_SESSION.isoformat()}
    assert rows[0] | {"reasons": None} == {
        "session": "2026-11-25", "row": 1, "symbol": QUARANTINED_SYMBOL, "ex_date": "2026-11-25",
        "kind": "split", "value": 0.0, "currency": None, "source": "file", "problem": None,
        "reasons": None, "raw": f"{QUARANTINED_SYMBOL},2026-11-25,split,0",
    }  # fmt: skip
    assert json.dumps(HOSTILE_ACTION) in answer.text  # markup is a JSON string, nothing else
    # the split the gate kept is the symbol's one action
    assert [a["value"] for a in web.get(f"/api/actions/{QUARANTINED_SYMBOL}").json()] == [2.0]


def test_quarantined_actions_filter_by_symbol_reason_range_and_limit(web: TestClient) -> None:
    def asked(query: str) -> Any:
        return web.get(f"/api/quarantine/actions?{query}").json()

    assert [r["row"] for r in asked("reason=duplicate")] == [2]
    assert [r["row"] for r in asked(f"symbol={QUARANTINED_SYMBOL}&limit=2")] == [1, 2]
    assert [r["row"] for r in asked("from=2026-11-25&to=2026-11-25")] == [1, 2, 3]
    assert asked("symbol=AAPL")["rows"] == []
    assert asked("symbol=AAPL")["message"].endswith(" match these filters")
    assert asked("from=2026-11-20&to=2026-11-24") == {
        "rows": [],
        "message": "no corporate actions quarantined in 2026-11-20..2026-11-24: every action "
        "landed passed the actions gate",
    }


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/actions/aapl", "symbol 'aapl': not a symbol (rule: "),
        ("/api/actions/%3Cimg%3E", "symbol '<img>': not a symbol (rule: "),
        ("/api/actions/AAPL?from=2026-13-01", "from '2026-13-01': must be a date YYYY-MM-DD"),
        (
            "/api/actions/AAPL?from=2026-12-04&to=2026-12-01",
            "from '2026-12-04': must be on or before to '2026-12-01'",
        ),
        ("/api/quarantine/actions?reason=bad", "reason 'bad': must be one of unparseable, "),
        ("/api/quarantine/actions?symbol=a%20b", "symbol 'a b': not a symbol (rule: "),
        ("/api/quarantine/actions?limit=0", "limit '0': input should be greater than or equal"),
        ("/api/quarantine/actions?to=20261201", "to '20261201': must be a date YYYY-MM-DD"),
        ("/api/bars/AAPL?adjust=raw", "adjust 'raw': must be one of none, splits, all"),
        ("/api/analytics/AAPL?adjust=", "adjust '': must be one of none, splits, all"),
    ],
)
def test_bad_parameters_are_422_in_one_line_naming_the_parameter_and_the_rule(
    web: TestClient, path: str, detail: str
) -> None:
    answer = web.get(path)
    assert answer.status_code == 422
    body = answer.json()
    assert isinstance(body["detail"], str) and "\n" not in body["detail"]
    assert body["detail"].startswith(detail)


def test_empty_stores_answer_200_saying_what_to_run(tmp_path: Path) -> None:
    with TestClient(create_app(StorageSettings(data_dir=tmp_path / "data"))) as empty:
        actions = empty.get("/api/actions/AAPL").json()
        refused = empty.get("/api/quarantine/actions").json()
    assert actions["rows"] == refused["rows"] == []
    assert actions["message"].startswith(
        "no corporate actions for AAPL: no session of history is held yet; run `marketdata "
        "backfill --from "
    )
    assert actions["message"].endswith(" --symbols AAPL`")
    assert refused["message"].startswith(
        "no corporate actions quarantined: no session of history is held yet; run `marketdata "
        "backfill --from "
    )

"""The dashboard's app through its test client: every endpoint against the CLI's `--json` output
on the same data dir, filters, bad parameters, empty stores, the security headers, read-only
routes, the aws profile on moto, and `marketdata serve`."""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from fastapi.testclient import TestClient

from marketdata_assets import stores
from marketdata_assets.cli import main
from marketdata_assets.execution import backfill
from marketdata_assets.history import query
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.settings import Settings, StorageSettings
from marketdata_assets.web import pages, reads
from marketdata_assets.web.app import CSP, create_app
from marketdata_assets.web.kept import Kept, KeptObjects
from marketdata_assets.web.pages import render
from marketdata_assets.web.reads import Reader
from marketdata_assets.web.routes.forecast import forecast_target
from marketdata_tests.conftest import free_port
from marketdata_tests.web_data import (
    FAULTY_TICK,
    HOSTILE,
    HOSTILE_TICK,
    LAST_SESSION,
    QUARANTINED_SYMBOL,
    SYMBOLS,
    first_session,
)

PREVIOUS_SESSION = "2026-11-24"  # the session before the ticks' trading day, LAST_SESSION
# Every page the app serves: the registered ones (a symbol page at AAPL) and the API's.
PAGES = [page.path.replace("{symbol}", "AAPL") for page in pages.PAGES] + ["/docs"]
LIST_ENDPOINTS = [
    "/api/latest",
    "/api/ticks",
    "/api/bars/AAPL",
    "/api/analytics/AAPL",
    "/api/quarantine",
    "/api/quarantine/history",
    "/api/actions/AAPL",
    "/api/quarantine/actions",
]


def cli_json(data_dir: Path, *args: str) -> Any:
    """What `marketdata *args --json` prints for the local profile on `data_dir`."""
    out = io.StringIO()
    with mock.patch.dict(os.environ):
        for name in [name for name in os.environ if name.startswith("MARKETDATA_")]:
            del os.environ[name]
        os.environ["MARKETDATA_DATA_DIR"] = str(data_dir)
        with redirect_stdout(out):
            assert main([*args, "--json"]) == 0
    return json.loads(out.getvalue())


def without_age(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "age_s"} for row in rows]


@pytest.fixture(scope="module")
def client(web_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=web_data_dir))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def empty(empty_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=empty_data_dir))) as test_client:
        yield test_client


@pytest.mark.graph
def test_latest_is_the_cli_rows_with_previous_close_change_age_and_staleness(
    client: TestClient, web_data_dir: Path
) -> None:
    expected = cli_json(web_data_dir, "latest")
    before = time.time()
    answer = client.get("/api/latest")
    after = time.time()
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    rows = answer.json()
    assert [{k: row[k] for k in expected[0]} for row in rows] == expected
    assert [row["symbol"] for row in rows] == sorted(SYMBOLS)
    closes = {
        bar["symbol"]: bar["close"]
        for symbol in SYMBOLS
        for bar in cli_json(
            web_data_dir, "bars", symbol, "--interval", "1d", "--from", PREVIOUS_SESSION
        )
        if bar["start"].startswith(PREVIOUS_SESSION)
    }
    assert sorted(closes) == sorted(SYMBOLS)
    newest = format_tick(HOSTILE_TICK)  # the last tick written
    stale = {row["symbol"] for row in expected if row["tick"] != newest}
    assert stale and stale != set(SYMBOLS)  # some rows were not refreshed by the newest tick
    for row in rows:
        previous = closes[row["symbol"]]
        assert row["previous_close"] == previous
        assert row["change"] == pytest.approx(row["price"] - previous)
        assert row["change_pct"] == pytest.approx(100 * (row["price"] - previous) / previous)
        assert row["stale"] is (row["symbol"] in stale)
        event = datetime.fromisoformat(row["event_ts"]).timestamp()
        assert before - event - 0.001 <= row["age_s"] <= after - event + 0.001


@pytest.mark.graph
def test_ticks_are_newest_first_with_each_ticks_counts_and_reasons(
    client: TestClient, web_prepared: dict[str, Any]
) -> None:
    summaries = list(reversed(web_prepared["summaries"]))
    rows = client.get("/api/ticks", params={"limit": 20}).json()
    assert [row["tick"] for row in rows] == [summary["tick"] for summary in summaries]
    for row, summary in zip(rows, summaries, strict=True):
        for name in ("raw", "validated", "quarantined", "provider_errors", "reasons"):
            assert row[name] == summary[name], (row["tick"], name)
        assert row["outcome"] == "succeeded"
    assert [row["tick"] for row in client.get("/api/ticks?limit=2").json()] == [
        summary["tick"] for summary in summaries[:2]
    ]
    faulty = next(row for row in rows if row["tick"] == format_tick(FAULTY_TICK))
    assert faulty["quarantined"] > 0 and len(faulty["reasons"]) > 1


@pytest.mark.graph
def test_ticks_without_run_records_are_read_from_the_lakes_minute_objects(
    web_data_dir: Path, web_prepared: dict[str, Any], tmp_path: Path
) -> None:
    for dataset in ("raw", "validated", "quarantine"):
        shutil.copytree(web_data_dir / dataset, tmp_path / dataset)
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as lake_only:
        rows = lake_only.get("/api/ticks").json()
    summaries = list(reversed(web_prepared["summaries"]))
    assert [
        {k: row[k] for k in ("tick", "raw", "validated", "quarantined", "reasons")} for row in rows
    ] == [
        {k: summary[k] for k in ("tick", "raw", "validated", "quarantined", "reasons")}
        for summary in summaries
    ]
    assert {(row["outcome"], row["duration_ms"], row["request_id"]) for row in rows} == {
        ("succeeded", None, None)
    }
    (
        tmp_path
        / "validated"
        / f"date={HOSTILE_TICK:%Y-%m-%d}"
        / f"minute={HOSTILE_TICK:%H%M}"
        / ("ticks.parquet")
    ).unlink()
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as lake_only:
        newest = lake_only.get("/api/ticks?limit=1").json()
    assert newest[0]["tick"] == format_tick(HOSTILE_TICK)
    assert newest[0]["outcome"] == "failed" and newest[0]["validated"] is None


@pytest.mark.domain
def test_ticks_with_run_records_show_the_records_outcome_duration_and_checks(
    tmp_path: Path,
) -> None:
    from marketdata_assets.operations import run_records

    store = stores.local_lake(tmp_path)
    tick = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    check = {"asset": "validated_ticks", "check": "no_nulls", "evaluated": True}
    record = run_records.new_record(
        tick,
        run_records.RunOrigin("lambda", "request-1"),
        "failed",
        cause="validated_ticks: the gate's suite failed",
        raw=3,
        provider_errors=1,
        checks=[
            {**check, "passed": False, "severity": "ERROR", "metadata": {}},
            {**check, "check": "not_run", "evaluated": False, "passed": None, "severity": None},
        ],
    )
    run_records.write(store, record)
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as recorded:
        rows = recorded.get("/api/ticks").json()
    assert rows == [
        {
            "tick": "2026-11-25T15:00Z",
            "outcome": "failed",
            "validated": None,
            "quarantined": None,
            "provider_errors": 1,
            "duration_ms": record["duration_ms"],
            "request_id": "request-1",
            "raw": 3,
            "reasons": {},
            "checks": [
                {
                    "asset": "validated_ticks",
                    "check": "no_nulls",
                    "passed": False,
                    "severity": "ERROR",
                }
            ],
            "source": "lambda",
            "cause": "validated_ticks: the gate's suite failed",
        }
    ]


@pytest.mark.graph
@pytest.mark.parametrize(
    "args",
    [
        ["AAPL"],
        ["MSFT", "--interval", "5m"],
        ["NVDA", "--interval", "1h", "--from", "2026-11-20", "--to", "2026-11-24"],
        ["AAPL", "--interval", "1d"],
        ["KO", "--interval", "1d", "--from", "2026-10-01"],
    ],
)
def test_bars_are_the_cli_rows(client: TestClient, web_data_dir: Path, args: list[str]) -> None:
    symbol, *flags = args
    params = {
        flag.removeprefix("--"): value for flag, value in zip(flags[::2], flags[1::2], strict=True)
    }
    rows = client.get(f"/api/bars/{symbol}", params=params).json()
    assert rows == cli_json(web_data_dir, "bars", *args)
    assert rows and {row["symbol"] for row in rows} == {symbol}


@pytest.mark.graph
def test_analytics_are_the_cli_rows(client: TestClient, web_data_dir: Path) -> None:
    for params, flags in [
        ({}, []),
        (
            {"from": "2026-11-02", "to": "2026-11-13"},
            ["--from", "2026-11-02", "--to", "2026-11-13"],
        ),
    ]:
        rows = client.get("/api/analytics/MSFT", params=params).json()
        assert rows == cli_json(web_data_dir, "analytics", "MSFT", *flags)
        assert len(rows) >= 5


@pytest.mark.graph
def test_concurrent_history_reads_return_what_each_read_alone_returns(web_data_dir: Path) -> None:
    lake = stores.lake_store(StorageSettings(data_dir=web_data_dir))
    asks = [(symbol, interval) for symbol in SYMBOLS for interval in ("1m", "15m", "1d")]
    alone = {ask: query.bars(lake, *ask).rows for ask in asks}
    together: dict[tuple[str, str], list[dict[str, object]]] = {}

    def read(ask: tuple[str, str]) -> None:
        together[ask] = query.bars(lake, *ask).rows

    threads = [threading.Thread(target=read, args=(ask,)) for ask in asks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone


@pytest.mark.graph
def test_a_rewritten_session_changes_the_next_answer_to_what_the_cli_reads(
    web_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(web_data_dir, data_dir)
    monkeypatch.setattr(reads, "LISTING_S", 0.0)  # objects listed on every read, not every 5 s
    day = LAST_SESSION.isoformat()
    asks = {
        f"/api/bars/AAPL?from={day}&to={day}": ["bars", "AAPL", "--from", day, "--to", day],
        f"/api/bars/MSFT?interval=15m&to={day}": ["bars", "MSFT", "--interval", "15m"],
        f"/api/bars/KO?interval=1d&from={first_session(20)}": [
            *("bars", "KO", "--interval", "1d", "--from", str(first_session(20))),
        ],
        "/api/analytics/NVDA": ["analytics", "NVDA"],
    }
    with TestClient(create_app(StorageSettings(data_dir=data_dir))) as app:
        before = {path: app.get(path).json() for path in asks}
        reseeded = Settings(data_dir=data_dir, symbols=SYMBOLS, seed=8, log_level="CRITICAL")
        plan = backfill.plan(
            reseeded, LAST_SESSION, LAST_SESSION, list(SYMBOLS), "stub", None, True
        )
        assert not backfill.run(reseeded, plan, force=True).failed
        after = {path: app.get(path).json() for path in asks}
    for path, args in asks.items():
        assert after[path] == cli_json(data_dir, *args) and after[path], path
        assert after[path] != before[path], path


@pytest.mark.graph
def test_kept_session_answers_stay_within_their_byte_bound_and_match_the_lakes(
    web_data_dir: Path,
) -> None:
    settings = StorageSettings(data_dir=web_data_dir)
    days = sessions_in(first_session(6), LAST_SESSION)
    probe = Reader(stores.lake_store(settings), stores.latest_store(settings))
    probe.bars_json("AAPL", "1m", days[0], days[0])
    one = probe.sessions.kept.held  # one session's 1-minute bars of every symbol
    bound = int(2.5 * one)
    bounded = Reader(stores.lake_store(settings), stores.latest_store(settings), bound)
    for symbol in SYMBOLS:
        for day in days:
            rows = json.loads(bounded.bars_json(symbol, "1m", day, day))
            alone = query.bars(stores.lake_store(settings), symbol, "1m", day, day)
            assert rows and rows == alone.rows
            assert one <= bounded.sessions.kept.held <= bound, (symbol, day)


@pytest.mark.domain
def test_kept_objects_are_reused_by_version_and_dropped_least_recently_used_beyond_the_bound() -> (
    None
):
    kept = KeptObjects(capacity=25)
    computed: list[tuple[str, int]] = []

    def ask(key: str, version: int, size: int = 10) -> str:
        def compute() -> str:
            computed.append((key, version))
            return f"{key}@{version}"

        return kept.get(key, version, compute, lambda _: size)

    assert [ask("a", 1), ask("b", 1), ask("a", 1)] == ["a@1", "b@1", "a@1"]
    ask("c", 1)  # 30 bytes: b, the least recently used, is dropped
    ask("a", 1)
    ask("b", 1)  # computed again; c dropped
    assert ask("a", 2) == "a@2"  # a new version replaces the old
    ask("big", 1, size=26)  # larger than the bound: served, never kept
    ask("big", 1, size=26)
    assert computed == [("a", 1), ("b", 1), ("c", 1), ("b", 1), ("a", 2), ("big", 1), ("big", 1)]
    assert kept.held == 20 and [ask("b", 1), ask("a", 2)] == ["b@1", "a@2"]
    assert len(computed) == 7


@pytest.mark.graph
def test_forecast_is_the_cli_object_with_its_verdict_in_words(
    client: TestClient, web_data_dir: Path
) -> None:
    expected = cli_json(web_data_dir, "forecast", "AAPL", "--horizon", "1d")
    served = client.get("/api/forecast/AAPL", params={"horizon": "1d"}).json()
    added = ("verdict", "newest_session", "target")  # the dashboard's additions
    assert {k: v for k, v in served.items() if k not in added} == expected
    assert served["newest_session"] == served["as_of"] == LAST_SESSION.isoformat()
    assert served["target"] == forecast_target(expected["origin"], "1d")
    # Stub history is a random walk: no model beats naive, and the page says so.
    assert served["served_model"] == "naive"
    assert served["verdict"] == (
        "no model beats naive for AAPL at the next session's close: serving naive"
    )


@pytest.mark.graph
def test_quarantine_is_the_cli_records_newest_tick_first_with_replay_commands(
    client: TestClient, web_data_dir: Path
) -> None:
    expected = cli_json(web_data_dir, "quarantine")
    records = client.get("/api/quarantine").json()
    newest_first = sorted(expected, key=lambda r: (r["tick"], -r["line"]), reverse=True)
    assert [{k: v for k, v in r.items() if k != "replay"} for r in records] == newest_first
    for record in records:
        minute = datetime.fromisoformat(record["tick"])
        source = web_data_dir / f"raw/date={minute:%Y-%m-%d}/minute={minute:%H%M}/ticks.jsonl.gz"
        assert shlex.split(record["replay"]) == [
            *("marketdata", "tick", "--provider", "replay"),
            *("--source", str(source), "--at", record["tick"]),
        ]


@pytest.mark.graph
def test_quarantine_filters_by_tick_reason_and_limit(
    client: TestClient, web_data_dir: Path, web_prepared: dict[str, Any]
) -> None:
    faulty = format_tick(FAULTY_TICK)
    of_tick = client.get("/api/quarantine", params={"tick": faulty}).json()
    assert of_tick == [
        {**r, "replay": of_tick[0]["replay"]}
        for r in cli_json(web_data_dir, "quarantine", "--tick", faulty)
    ]
    reasons = web_prepared["summaries"][1]["reasons"]
    for reason, count in reasons.items():
        found = client.get("/api/quarantine", params={"reason": reason}).json()
        assert len(found) == count and all(reason in r["reasons"] for r in found)
    assert len(client.get("/api/quarantine?limit=2").json()) == 2
    nothing = client.get("/api/quarantine", params={"reason": "price_jump"})
    assert nothing.status_code == 200
    assert nothing.json() == {"rows": [], "message": "nothing quarantined"}


@pytest.mark.graph
def test_a_replay_command_reruns_its_tick_to_the_same_quarantined_rows(
    client: TestClient, web_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = client.get("/api/quarantine", params={"tick": format_tick(HOSTILE_TICK)}).json()
    command = shlex.split(records[0]["replay"])
    assert command[0] == "marketdata"
    for name in [name for name in os.environ if name.startswith("MARKETDATA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path))
    with redirect_stdout(io.StringIO()):
        assert main(command[1:]) == 0
    replayed = cli_json(tmp_path, "quarantine")
    assert replayed == [{k: v for k, v in r.items() if k != "replay"} for r in records]


@pytest.mark.graph
def test_a_hostile_raw_line_is_returned_as_json_text(client: TestClient) -> None:
    answer = client.get("/api/quarantine", params={"tick": format_tick(HOSTILE_TICK)})
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert json.dumps(HOSTILE) in answer.text  # a JSON string, quotes and all
    records = answer.json()
    assert [r.get("raw") for r in records if "raw" in r] == [HOSTILE]
    assert [r["record"]["symbol"] for r in records if "record" in r] == [HOSTILE]


@pytest.mark.graph
def test_the_historys_hostile_row_is_the_cli_rows_json_text(
    client: TestClient, web_data_dir: Path, web_prepared: dict[str, Any]
) -> None:
    answer = client.get("/api/quarantine/history")
    assert answer.json() == cli_json(web_data_dir, "quarantine", "--history")
    assert json.dumps(web_prepared["hostile_bar"]) in answer.text  # a JSON string
    assert [(r["session"], r["symbol"], r["raw"]) for r in answer.json()] == [
        (LAST_SESSION.isoformat(), QUARANTINED_SYMBOL, web_prepared["hostile_bar"])
    ]


@pytest.mark.graph
@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/bars/aapl", "symbol 'aapl': not a symbol (rule: "),
        ("/api/bars/A%20B", "symbol 'A B': not a symbol (rule: "),
        ("/api/analytics/%3Cimg%3E", "symbol '<img>': not a symbol (rule: "),
        ("/api/forecast/BRK%2FB", None),  # a slash: no such route at all
        ("/api/bars/AAPL?interval=2m", "interval '2m': must be one of 1m, 5m, 15m, 1h, 1d"),
        ("/api/bars/AAPL?from=2026-13-01", "from '2026-13-01': must be a date YYYY-MM-DD"),
        ("/api/bars/AAPL?to=20261101", "to '20261101': must be a date YYYY-MM-DD"),
        (
            "/api/analytics/AAPL?from=2026-11-20&to=2026-11-01",
            "from '2026-11-20': must be on or before to '2026-11-01'",
        ),
        ("/api/forecast/AAPL?horizon=1h", "horizon '1h': must be one of 1m, 5m, 15m, 1d"),
        ("/api/ticks?limit=0", "limit '0': input should be greater than or equal to 1"),
        ("/api/ticks?limit=1001", "limit '1001': input should be less than or equal to 1000"),
        ("/api/quarantine?limit=ten", "limit 'ten': input should be a valid integer"),
        ("/api/quarantine?tick=yesterday", "tick 'yesterday': not an ISO-8601 time"),
        ("/api/quarantine?tick=2026-11-25T14:31", "tick '2026-11-25T14:31': needs a UTC offset"),
        ("/api/quarantine?reason=bad", "reason 'bad': must be one of unparseable, "),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter_and_the_rule(
    client: TestClient, path: str, detail: str | None
) -> None:
    answer = client.get(path)
    if detail is None:
        assert answer.status_code == 404
        return
    assert answer.status_code == 422
    body = answer.json()
    assert isinstance(body["detail"], str) and "\n" not in body["detail"]
    assert body["detail"].startswith(detail)


@pytest.mark.domain
def test_empty_stores_answer_200_saying_what_to_run(empty: TestClient) -> None:
    messages = {}
    for path in LIST_ENDPOINTS:
        answer = empty.get(path)
        assert answer.status_code == 200, path
        body = answer.json()
        assert body["rows"] == [], path
        messages[path] = body["message"]
    assert (
        messages["/api/latest"] == messages["/api/ticks"] == "no ticks yet: run `marketdata tick`"
    )
    for path in ("/api/bars/AAPL", "/api/analytics/AAPL"):
        assert messages[path].startswith("no history for AAPL in ")
        assert "run `marketdata backfill --from " in messages[path]
        assert messages[path].endswith(" --symbols AAPL`")
    assert messages["/api/quarantine"] == "nothing quarantined"
    assert messages["/api/quarantine/history"].startswith(
        "no history bars quarantined: no session of history is held yet; run `marketdata backfill"
    )
    forecast = empty.get("/api/forecast/AAPL").json()
    assert forecast["served_model"] is None and forecast["horizon"] == "5m"
    assert forecast["message"].startswith("not enough history yet: 0 sessions of minute bars")
    assert "run `marketdata backfill --from " in forecast["message"]
    assert empty.get("/healthz").json() == {"status": "ok", "profile": "local"}


@pytest.mark.graph
def test_every_response_carries_the_strict_csp_nosniff_and_no_referrer(
    client: TestClient,
) -> None:
    assert "unsafe-inline" not in CSP and "script-src 'self';" in CSP
    paths = [*PAGES, "/static/common.js", "/favicon.ico", "/openapi.json"]
    paths += ["/healthz", "/api/latest", "/api/bars/AAPL?interval=9m", "/no/such/page", "/docs"]
    for path in paths:
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "no-referrer", path


@pytest.mark.graph
def test_pages_are_the_shells_renderings_and_only_get_and_head_are_routed(
    client: TestClient,
) -> None:
    static = Path(__file__).parents[1] / "marketdata_assets" / "web" / "static"
    served = {"/docs": (static / "docs.html").read_text()}
    served.update({page.path.replace("{symbol}", "AAPL"): render(page) for page in pages.PAGES})
    assert sorted(served) == sorted(PAGES)
    assert {"/", "/quality", "/ticks", "/symbol/AAPL", "/docs"} <= set(served)
    for path, text in served.items():
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.text == text
        assert client.head(path).status_code == 200
    for path in [*PAGES, "/healthz", "/api/latest", "/static/common.js"]:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert client.request(method, path).status_code == 405, (method, path)


@pytest.mark.graph
def test_aws_profile_answers_latest_and_bars_as_the_local_profile_does_and_503_without_its_bucket(
    aws_settings: Any, client: TestClient, web_data_dir: Path
) -> None:
    local = StorageSettings(data_dir=web_data_dir)
    lake = stores.lake_store(aws_settings)
    for dataset in ("raw", "daily_bars", "minute_bars"):
        for key in stores.lake_store(local).keys(f"{dataset}/"):
            lake.put(key, stores.lake_store(local).get(key))
    stores.latest_store(aws_settings).upsert(stores.latest_store(local).all())
    aws = StorageSettings(profile="aws", bucket=aws_settings.bucket, table=aws_settings.table)
    with TestClient(create_app(aws)) as on_aws:
        assert on_aws.get("/healthz").json() == {"status": "ok", "profile": "aws"}
        assert without_age(on_aws.get("/api/latest").json()) == without_age(
            client.get("/api/latest").json()
        )
        for path in ("/api/bars/AAPL", f"/api/bars/KO?interval=1d&from={first_session(30)}"):
            rows = on_aws.get(path).json()
            assert rows == client.get(path).json() and len(rows) >= 30, path
    missing = aws.model_copy(update={"bucket": "no-such-bucket"})
    with TestClient(create_app(missing)) as broken:
        answer = broken.get("/api/quarantine")
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith(
        "S3 ListObjectsV2 s3://no-such-bucket/quarantine/ failed: NoSuchBucket"
    )


@pytest.mark.domain
def test_a_value_asked_for_by_many_requests_at_once_is_computed_once() -> None:
    kept: Kept = Kept(seconds=60, capacity=2**20)
    computed = []
    release = threading.Event()

    def compute() -> int:
        computed.append(1)
        release.wait()
        return len(computed)

    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(kept.get("key", compute))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    while not computed:
        time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join()
    assert answers == [1] * 8 and len(computed) == 1


@pytest.mark.domain
def test_serve_refuses_a_bad_port_or_host_in_one_line_exit_2() -> None:
    for args, message in [
        (["--port", "70000"], "--port '70000': must be a whole number from 1 to 65535"),
        (["--port", "0"], "--port '0': must be a whole number from 1 to 65535"),
        (["--port", "eighty"], "--port 'eighty': must be a whole number from 1 to 65535"),
        (["--host", "no such host!"], "--host 'no such host!': not an address or a host name"),
    ]:
        err = io.StringIO()
        with redirect_stderr(err):
            assert main(["serve", *args]) == 2
        assert err.getvalue() == f"marketdata: error: {message}\n"


@pytest.mark.system
def test_serve_on_a_port_in_use_is_one_line_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()
        with redirect_stderr(err):
            assert main(["serve", "--port", str(port)]) == 1
    assert err.getvalue().startswith(f"marketdata: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.getvalue().count("\n") == 1


@pytest.mark.system
def test_marketdata_serve_answers_on_loopback_and_stops_on_ctrl_c(web_data_dir: Path) -> None:
    import signal

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETDATA_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "marketdata_assets.cli", "serve", "--port", str(port)],
        env=env | {"MARKETDATA_DATA_DIR": str(web_data_dir)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        while answer is None and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/latest")
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None, server.stderr.read() if server.stderr else ""
        assert [row["symbol"] for row in answer.json()] == sorted(SYMBOLS)
        server.send_signal(signal.SIGINT)
        assert server.wait() == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.stderr is not None
    assert server.stderr.read().startswith(f"dashboard on http://127.0.0.1:{port}/")


# Creates the app in a fresh interpreter, answers every route, and reports the packages loaded.
PROBE = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings, StorageSettings
from marketdata_assets.web.app import create_app
client = TestClient(create_app(StorageSettings(data_dir=Path(sys.argv[1]))))
codes = {path: client.get(path).status_code for path in sys.argv[2:]}
print(json.dumps({"codes": codes, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.system
def test_the_request_path_imports_neither_dagster_nor_great_expectations(
    web_data_dir: Path,
) -> None:
    paths = [*PAGES, "/static/common.js", "/healthz", "/openapi.json"]
    paths += [
        *LIST_ENDPOINTS,
        f"/api/quarantine?tick={format_tick(FAULTY_TICK)}&reason=price_invalid",
        f"/api/bars/AAPL?interval=1d&from={first_session(30)}&to={LAST_SESSION}",
        "/api/forecast/AAPL?horizon=1d",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(web_data_dir), *paths],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["codes"] == dict.fromkeys(paths, 200)
    assert "dagster" not in report["modules"]
    assert "great_expectations" not in report["modules"]
    assert "duckdb" in report["modules"]  # the history was read

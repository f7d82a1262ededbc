"""The history's quarantine is visible (issue 21, item 5): `marketdata quarantine --history`
lists every row a file backfill's bars gate refused, with its session, reasons and text exactly
as landed; `GET /api/quarantine/history` answers the same rows (filtered by symbol, reason and
limit); wrong flags are one line, exit 2; an empty answer says what to run; a corrupt object is
one line naming its key (exit 1, 503)."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.cli import main
from marketdata_assets.lake import day_key
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web import reads
from marketdata_assets.web.app import create_app

HOSTILE = "<img src=x onerror=alert(1)>"
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
GOOD = [
    "AAPL,2026-11-23T14:31:00Z,100,101,99,100.5,1000",
    "AAPL,2026-11-24T14:31:00Z,100,101,99,100.5,1000",
    "MSFT,2026-11-25T14:31:00Z,300,301,299,300.5,500",
]
# Each refused row, its session (a row of no session lands in the backfill's first) and reasons.
BAD = {
    f"AAPL,2026-11-24T14:32:00Z,{HOSTILE},101,99,100.5,1000": (TUESDAY, ["price_invalid"]),
    "MSFT,2026-11-25T14:32:00Z,-1,301,299,300.5,500": (
        WEDNESDAY,
        ["price_invalid", "ohlc_inconsistent"],
    ),
    "MSFT,garbage,1,1,1,1,1": (MONDAY, ["unparseable_ts"]),
    "AAPL,2026-11-25T14:33:00Z,1,1,1,1,1.5": (WEDNESDAY, ["volume_invalid"]),
}


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    """`marketdata *args` on the local profile at `data_dir`: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ):
        for name in [n for n in os.environ if n.startswith(("MARKETDATA_", "DAGSTER_HOME"))]:
            del os.environ[name]
        os.environ["MARKETDATA_DATA_DIR"] = str(data_dir)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data dir after `marketdata backfill --provider file` of a CSV holding bad rows, and
    what the backfill printed."""
    folder = tmp_path_factory.mktemp("quarantined")
    source = folder / "bars.csv"
    lines = ["symbol,ts,open,high,low,close,volume", *GOOD, *BAD]
    source.write_text("\n".join(lines) + "\n")
    data = folder / "data"
    code, out, err = run(data, "backfill", "--from", str(MONDAY), "--to", str(WEDNESDAY),
                         "--provider", "file", "--source", str(source))  # fmt: skip
    assert code == 0, err
    assert f"{len(GOOD)} validated, {len(BAD)} quarantined" in out
    return data, out


@pytest.fixture(scope="module")
def lake(backfilled: tuple[Path, str]) -> Path:
    return backfilled[0]


@pytest.fixture(scope="module")
def client(lake: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StorageSettings(data_dir=lake))) as test_client:
        yield test_client


def cli_rows(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = run(data_dir, "quarantine", "--history", *args, "--json")
    assert code == 0 and err == "", err
    rows = json.loads(out)
    assert isinstance(rows, list)
    return rows


@pytest.mark.graph
def test_every_refused_row_is_listed_once_with_its_session_reasons_and_text(lake: Path) -> None:
    rows = cli_rows(lake, "--from", str(MONDAY), "--to", str(WEDNESDAY))
    found = {row["raw"]: (date.fromisoformat(row["session"]), row["reasons"]) for row in rows}
    assert found == BAD and len(rows) == len(BAD)
    sessions = [row["session"] for row in rows]
    assert sessions == sorted(sessions, reverse=True)  # newest session first
    hostile = next(row for row in rows if HOSTILE in row["raw"])
    assert (hostile["symbol"], hostile["open"], hostile["close"]) == ("AAPL", None, 100.5)
    assert hostile["start"] == "2026-11-24T14:32:00Z" and hostile["source"] == "file"
    # The default range is the newest sessions held: these three.
    assert cli_rows(lake) == rows


@pytest.mark.graph
def test_the_backfill_names_the_command_that_lists_its_quarantined_rows(
    backfilled: tuple[Path, str],
) -> None:
    data, out = backfilled
    command = f"marketdata quarantine --history --from {MONDAY} --to {WEDNESDAY}"
    assert f"(each row with its text: `{command}`)" in out
    code, listed, _ = run(data, *command.split()[1:], "--json")
    assert code == 0 and sorted(row["raw"] for row in json.loads(listed)) == sorted(BAD)


@pytest.mark.graph
def test_the_text_listing_shows_each_row_as_a_literal_with_its_reasons(lake: Path) -> None:
    code, out, _ = run(lake, "quarantine", "--history")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SESSION", "SYMBOL", "ROW", "REASONS", "TEXT"]
    assert len(lines) == 1 + len(BAD)
    for text, (session, reasons) in BAD.items():
        line = next(line for line in lines if repr(text) in line)  # quoted, a newline as \n
        assert line.startswith(str(session)) and ",".join(reasons) in line
    assert not any("\r" in line for line in lines)


@pytest.mark.graph
def test_the_api_answers_the_cli_rows_filtered_by_symbol_reason_and_limit(
    lake: Path, client: TestClient
) -> None:
    rows = cli_rows(lake)
    assert client.get("/api/quarantine/history").json() == rows
    span = {"from": str(TUESDAY), "to": str(TUESDAY)}
    assert client.get("/api/quarantine/history", params=span).json() == cli_rows(
        lake, "--from", str(TUESDAY), "--to", str(TUESDAY)
    )
    msft = client.get("/api/quarantine/history", params={"symbol": "MSFT"}).json()
    assert msft == [row for row in rows if row["symbol"] == "MSFT"] and len(msft) == 2
    ohlc = client.get("/api/quarantine/history", params={"reason": "ohlc_inconsistent"}).json()
    assert [row["raw"] for row in ohlc] == ["MSFT,2026-11-25T14:32:00Z,-1,301,299,300.5,500"]
    assert client.get("/api/quarantine/history?limit=2").json() == rows[:2]
    none = client.get("/api/quarantine/history", params={"reason": "duplicate"})
    assert none.status_code == 200
    assert none.json() == {
        "rows": [],
        "message": "no history bars quarantined in 2026-11-19..2026-11-25 match these filters",
    }
    # The tick quarantine keeps its own answer: no tick ran.
    assert client.get("/api/quarantine").json() == {"rows": [], "message": "nothing quarantined"}


@pytest.mark.graph
def test_a_range_without_refused_rows_names_the_sessions_that_hold_some(
    lake: Path, client: TestClient
) -> None:
    asked = {"from": "2026-11-02", "to": "2026-11-06"}
    body = client.get("/api/quarantine/history", params=asked).json()
    assert body["rows"] == []
    run_this = f"marketdata quarantine --history --from {MONDAY} --to {WEDNESDAY}"
    assert body["message"] == (
        "no history bars quarantined in 2026-11-02..2026-11-06: every source row passed the "
        f"bars gate; `{run_this}` reads every session held"
    )
    span = ("--from", asked["from"], "--to", asked["to"])
    code, out, _ = run(lake, "quarantine", "--history", *span)
    assert code == 0 and out == f"({body['message']})\n"
    assert cli_rows(lake, *span) == []


@pytest.mark.domain
def test_an_empty_lake_says_to_backfill(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "quarantine", "--history", "--to", "2026-11-25")
    assert code == 0
    assert out == (
        "(no history bars quarantined: no session of history is held yet; run "
        "`marketdata backfill --from 2026-11-19 --to 2026-11-25`)\n"
    )
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as empty:
        body = empty.get("/api/quarantine/history?to=2026-11-25").json()
    assert body == {"rows": [], "message": out.strip()[1:-1]}


@pytest.mark.domain
@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--history", "--tick", "2026-11-25T14:31Z"],
            "--tick and --history: a tick's rows or the history's, not both; drop one",
        ),
        (["--from", "2026-11-24"], "--from: reads the history's quarantine only; add --history"),
        (["--to", "2026-11-24"], "--to: reads the history's quarantine only; add --history"),
        (
            ["--history", "--from", "2010-01-01"],
            "--from '2010-01-01': must be a day from 2010-01-04 (the first session) on",
        ),
        (
            ["--history", "--from", "2026-11-25", "--to", "2026-11-24"],
            "--from '2026-11-25': must be on or before --to '2026-11-24'",
        ),
        (["--history", "--to", "11/24/2026"], "--to '11/24/2026': must be a date YYYY-MM-DD"),
    ],
)
def test_conflicting_or_bad_flags_are_one_line_exit_2(
    tmp_path: Path, args: list[str], line: str
) -> None:
    assert run(tmp_path, "quarantine", *args) == (2, "", f"marketdata: error: {line}\n")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # nothing written


@pytest.mark.domain
@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("from=2009-12-31", "from '2009-12-31': must be a day from 2010-01-04 (the first session)"),
        ("to=tomorrow", "to 'tomorrow': must be a date YYYY-MM-DD"),
        ("symbol=aapl", "symbol 'aapl': not a symbol (rule: "),
        ("reason=price_jump", "reason 'price_jump': must be one of unparseable, unparseable_ts, "),
        ("limit=0", "limit '0': input should be greater than or equal to 1"),
    ],
)
def test_bad_parameters_are_422_in_one_line(tmp_path: Path, query: str, detail: str) -> None:
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as empty:
        answer = empty.get(f"/api/quarantine/history?{query}")
    assert answer.status_code == 422
    assert "\n" not in answer.json()["detail"] and answer.json()["detail"].startswith(detail)


@pytest.mark.graph
@pytest.mark.parametrize("kind", ["garbage", "empty", "cut"])
def test_a_corrupt_object_is_one_line_naming_its_key(lake: Path, tmp_path: Path, kind: str) -> None:
    spoiled = tmp_path / "data"
    shutil.copytree(lake, spoiled)
    key = day_key("bars_quarantine", TUESDAY)
    body = (spoiled / key).read_bytes()
    (spoiled / key).write_bytes({"garbage": b"0123456789", "empty": b"", "cut": body[:40]}[kind])
    code, out, err = run(spoiled, "quarantine", "--history", "--json")
    assert (code, out) == (1, "")
    assert err.startswith(f"marketdata: error: read {key} failed: not a readable Parquet object")
    assert err.count("\n") == 1 and str(spoiled) not in err
    with TestClient(create_app(StorageSettings(data_dir=spoiled))) as broken:
        answer = broken.get("/api/quarantine/history")
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith(f"read {key} failed: not a readable Parquet object")


@pytest.mark.graph
def test_a_session_backfilled_again_changes_the_next_answer_to_what_the_cli_reads(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(lake, data)
    monkeypatch.setattr(reads, "LISTING_S", 0.0)  # objects listed on every read, not every 5 s
    again = tmp_path / "again.csv"
    later = "AAPL,2026-11-24T14:40:00Z,5,4,6,5,10"  # high below low
    again.write_text(f"symbol,ts,open,high,low,close,volume\n{GOOD[1]}\n{later}\n")
    with TestClient(create_app(StorageSettings(data_dir=data))) as app:
        before = app.get("/api/quarantine/history").json()
        code, _, err = run(data, "backfill", "--from", str(TUESDAY), "--to", str(TUESDAY),
                           "--provider", "file", "--source", str(again), "--force")  # fmt: skip
        assert code == 0, err
        after = app.get("/api/quarantine/history").json()
    assert after == cli_rows(data) != before
    tuesday = [(row["raw"], row["reasons"]) for row in after if row["session"] == str(TUESDAY)]
    assert tuesday == [(later, ["ohlc_inconsistent"])]

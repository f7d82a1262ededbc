"""Readers survive the lake (issue 20, item 6): a date outside the history's calendar is one line
naming the flag and the rule, exit 2 on the CLI and 422 on the API, never an OverflowError; a
corrupt, truncated or empty Parquet object is one line naming its key, exit 1 on the CLI and a
503 JSON with that line (and the security headers) on the API, never a traceback or a bare 500."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.cli import main
from marketdata_assets.lake import day_key
from marketdata_assets.lake.keys import object_key
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_tests.test_history_query import SESSIONS, write_lake

pytestmark = pytest.mark.domain

DAY = SESSIONS[0]
TICK = datetime(2026, 11, 23, 15, 31, tzinfo=UTC)
TOO_EARLY = "must be a day from 2010-01-04 (the first session) on"
# (CLI arguments, API path, the flag the line names, the value)
OUT_OF_RANGE = [
    (["bars", "AAPL", "--to", "0001-01-01"], "/api/bars/AAPL?to=0001-01-01", "to", "0001-01-01"),
    (
        ["analytics", "AAPL", "--to", "0001-01-01"],
        "/api/analytics/AAPL?to=0001-01-01",
        "to",
        "0001-01-01",
    ),
    (
        ["bars", "AAPL", "--to", "0001-01-01", "--from", "0001-01-01"],
        "/api/bars/AAPL?from=0001-01-01&to=0001-01-01",
        "from",
        "0001-01-01",
    ),
    (
        ["bars", "AAPL", "--interval", "5m", "--from", "2010-01-01"],
        "/api/bars/AAPL?interval=5m&from=2010-01-01",
        "from",
        "2010-01-01",
    ),
]
# What a hostile object holds: ten garbage bytes, nothing, or its first half.
HOSTILE = ("garbage", "empty", "cut")


def hostile(kind: str, body: bytes) -> bytes:
    return {"garbage": b"0123456789", "empty": b"", "cut": body[: len(body) // 2]}[kind]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    write_lake(root)
    return root


def spoiled(clean: Path, tmp_path: Path, key: str, kind: str) -> Path:
    """A copy of the test lake whose object at `key` is replaced by a hostile one."""
    root = tmp_path / "lake"
    shutil.copytree(clean, root)
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    body = path.read_bytes() if path.exists() else b"PAR1" + b"x" * 64 + b"PAR1"
    path.write_bytes(hostile(kind, body))
    return root


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MARKETDATA_PROFILE", "MARKETDATA_BUCKET", "MARKETDATA_TABLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("args", "path", "name", "value"), OUT_OF_RANGE)
def test_a_day_before_the_first_session_is_one_line_exit_2_and_422(
    clean: Path,
    local: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    path: str,
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(clean))
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"marketdata: error: --{name} '{value}': {TOO_EARLY}\n"
    with TestClient(create_app(StorageSettings(data_dir=clean))) as client:
        answer = client.get(path)
    assert answer.status_code == 422
    assert answer.json() == {"detail": f"{name} '{value}': {TOO_EARLY}"}


def test_the_far_future_is_no_history_not_a_crash(
    clean: Path, local: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(clean))
    assert main(["bars", "AAPL", "--from", "9999-12-31", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    with TestClient(create_app(StorageSettings(data_dir=clean))) as client:
        answer = client.get("/api/bars/AAPL?from=9999-12-31")
    assert answer.status_code == 200


# (the object spoiled, CLI arguments, API path)
READS = [
    (
        day_key("minute_bars", DAY),
        ["bars", "AAPL", "--from", DAY.isoformat(), "--to", DAY.isoformat()],
        f"/api/bars/AAPL?from={DAY}&to={DAY}",
    ),
    (
        day_key("minute_bars", DAY),
        ["bars", "AAPL", "--interval", "5m", "--from", DAY.isoformat(), "--to", DAY.isoformat()],
        f"/api/bars/AAPL?interval=5m&from={DAY}&to={DAY}",
    ),
    (
        day_key("daily_bars", SESSIONS[1]),
        ["bars", "AAPL", "--interval", "1d"],
        "/api/bars/AAPL?interval=1d",
    ),
    (
        day_key("session_analytics", SESSIONS[1]),
        ["analytics", "AAPL"],
        "/api/analytics/AAPL",
    ),
    (object_key("quarantine", TICK), ["quarantine"], "/api/quarantine"),
    (day_key("price_forecasts", DAY), ["forecast", "AAPL"], "/api/forecast/AAPL"),
]


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize(("key", "args", "path"), READS)
def test_an_unreadable_object_is_one_line_naming_its_key_exit_1_and_503(
    clean: Path,
    tmp_path: Path,
    local: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    key: str,
    args: list[str],
    path: str,
) -> None:
    root = spoiled(clean, tmp_path, key, kind)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(root))
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"marketdata: error: read {key} failed: not a readable Parquet object")
    with TestClient(create_app(StorageSettings(data_dir=root))) as client:
        answer = client.get(path)
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert detail == err.removeprefix("marketdata: error: ").rstrip("\n")
    assert "content-security-policy" in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_a_spoiled_session_leaves_the_other_sessions_readable(
    clean: Path,
    tmp_path: Path,
    local: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = spoiled(clean, tmp_path, day_key("minute_bars", DAY), "garbage")
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(root))
    other = SESSIONS[2].isoformat()
    assert main(["bars", "AAPL", "--from", other, "--to", other, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {str(row["start"])[:10] for row in rows} == {other}
    with TestClient(create_app(StorageSettings(data_dir=root))) as client:
        answer = client.get(f"/api/bars/AAPL?from={other}&to={other}")
    assert answer.status_code == 200 and len(answer.json()) == len(rows)

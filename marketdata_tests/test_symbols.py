"""`marketdata symbols [--json]` and `marketdata symbols remove SYMBOL` (issue 21, item 5): the
known symbols with where each is held; removing a typo'd symbol from the latest-price table,
never the lake; exit 2 for a symbol the table does not hold."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.cli import main
from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.latest import LatestPrice
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_assets.web.app import create_app
from marketdata_tests.test_change_basis import daily

pytestmark = pytest.mark.domain
TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
HELD = {date(2026, 11, 20): ["AAPL", "MSFT"], date(2026, 11, 24): ["AAPL"]}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MARKETDATA_PROFILE", "MARKETDATA_BUCKET", "MARKETDATA_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MARKETDATA_SYMBOLS", "AAPL,KO")
    storage = StorageSettings(data_dir=tmp_path)
    lake = lake_store(storage)
    for session, symbols in HELD.items():
        frame = daily(session, dict.fromkeys(symbols, 100.0))
        lake.put(day_key("daily_bars", session), encode("daily_bars", frame))
    prices = [LatestPrice(s, 1.0, "USD", TICK, TICK) for s in ("AAPL", "ZZZZ")]
    latest_store(storage).upsert(prices)
    return tmp_path


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


EXPECTED = [
    {
        "symbol": "AAPL",
        "configured": True,
        "latest": True,
        "history": {"first": "2026-11-20", "last": "2026-11-24", "sessions": 2},
    },
    {"symbol": "KO", "configured": True, "latest": False, "history": None},
    {
        "symbol": "MSFT",
        "configured": False,
        "latest": False,
        "history": {"first": "2026-11-20", "last": "2026-11-20", "sessions": 1},
    },
    {"symbol": "ZZZZ", "configured": False, "latest": True, "history": None},
]


def test_symbols_lists_each_known_symbol_with_where_it_is_held(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["symbols", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED
    assert main(["symbols"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["AAPL", "KO", "MSFT", "ZZZZ"]
    assert "2026-11-20..2026-11-24 (2 sessions)" in lines[1]
    with TestClient(create_app(StorageSettings(data_dir=data_dir))) as client:
        assert client.get("/api/symbols").json() == EXPECTED


def test_remove_deletes_the_row_and_leaves_the_lake(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = {k: v for k, v in files(data_dir).items() if not k.startswith("latest_prices")}
    assert sorted(lake) == [day_key("daily_bars", session) for session in sorted(HELD)]
    assert main(["symbols", "remove", "zzzz"]) == 0  # typed in lower case
    assert "removed ZZZZ from the latest-price table" in capsys.readouterr().out
    assert [p.symbol for p in latest_store(StorageSettings(data_dir=data_dir)).all()] == ["AAPL"]
    after = {k: v for k, v in files(data_dir).items() if not k.startswith("latest_prices")}
    assert after == lake


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("MSFT", "SYMBOL 'MSFT': not in the latest-price table (it holds: AAPL, ZZZZ)"),
        ("<b>", "is not a symbol (rule: "),
    ],
)
def test_remove_of_a_symbol_the_table_lacks_is_exit_2_and_removes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], typed: str, error: str
) -> None:
    before = latest_store(StorageSettings(data_dir=data_dir)).all()
    assert main(["symbols", "remove", typed]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and error in err
    assert latest_store(StorageSettings(data_dir=data_dir)).all() == before

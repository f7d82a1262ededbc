"""Two backfills of the same sessions at once, in two processes, on the local lake and on
moto's server, with a forced interleaving: the first is paused mid-fetch inside raw_history
(after reading the sessions' earlier raw), the second is started and must wait for the first's
session locks; then the first is released. The lake must hold exactly the union of both runs'
symbols in every history dataset, and `done` must say so."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketdata_assets.history.done import done_symbols
from marketdata_assets.history.raw import delivered
from marketdata_assets.lake import ObjectStore, day_key
from marketdata_assets.lake.codecs import unpacked
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.stores import lake_at

pytestmark = pytest.mark.system  # backfills in subprocesses, on moto's server too

FIRST, LAST = date(2025, 11, 3), date(2025, 11, 4)
WAITING = "held by another run"


def _backfill(symbols: str) -> list[str]:
    return ["backfill", "--from", FIRST.isoformat(), "--to", LAST.isoformat(),
            "--symbols", symbols, "--provider", "stub", "--json"]  # fmt: skip


def _symbols(store: ObjectStore, name: str, session: date) -> set[str]:
    table = pq.read_table(pa.BufferReader(store.get(day_key(name, session))), columns=["symbol"])
    return set(table.column("symbol").to_pylist())


def _interleaved(env: dict[str, str], tmp_path: Path, first: str, second: str) -> None:
    """Run `first` paused mid-fetch, start `second`, see it wait, release `first`."""
    gate = tmp_path / "gate"
    gate.mkdir()
    paused = subprocess.Popen(
        [sys.executable, "-m", "marketdata_tests.paused_backfill", str(gate), *_backfill(first)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while not (gate / "fetching").exists():
        assert paused.poll() is None, paused.communicate()
        threading.Event().wait(0.02)
    waiter = subprocess.Popen(
        [sys.executable, "-m", "marketdata_assets.cli", *_backfill(second)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen, lines = threading.Event(), []

    def read() -> None:
        assert waiter.stderr is not None
        for line in waiter.stderr:
            lines.append(line)
            if WAITING in line:
                seen.set()
        seen.set()  # it ended without waiting: the assertion below says so

    reader = threading.Thread(target=read)
    reader.start()
    seen.wait(timeout=120)
    assert any(WAITING in line for line in lines), "".join(lines)  # it met the first's lock
    assert waiter.poll() is None  # and waits for it
    (gate / "release").touch()
    out, err = paused.communicate(timeout=120)
    assert paused.returncode == 0, err
    waiter.wait(timeout=120)
    reader.join()
    assert waiter.returncode == 0, "".join(lines)
    assert '"failed": []' in out


def _assert_union(store: ObjectStore, union: set[str]) -> None:
    for session in sessions_in(FIRST, LAST):
        key = day_key("raw_history", session)
        assert delivered(unpacked(key, store.get(key))) == union, session
        for name in ("minute_bars", "daily_bars", "session_analytics"):
            assert _symbols(store, name, session) == union, (name, session)
        assert done_symbols(store, session) == union, session


def _local(tmp_path: Path) -> tuple[dict[str, str], str]:
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(tmp_path / "lake")}
    env.pop("DAGSTER_HOME", None)
    return env, str(tmp_path / "lake")


@pytest.mark.parametrize(
    ("first", "second", "union"),
    [
        ("AAPL,AMZN", "MSFT,NVDA", {"AAPL", "AMZN", "MSFT", "NVDA"}),
        ("AAPL,AMZN", "AAPL,AMZN", {"AAPL", "AMZN"}),
    ],
    ids=["different symbols", "same symbols"],
)
def test_two_backfills_of_one_session_on_the_local_lake_leave_the_union(
    tmp_path: Path, first: str, second: str, union: set[str]
) -> None:
    env, address = _local(tmp_path)
    _interleaved(env, tmp_path, first, second)
    _assert_union(lake_at(address), union)


@pytest.mark.parametrize(
    ("first", "second", "union"),
    [
        ("AAPL,AMZN", "MSFT,NVDA", {"AAPL", "AMZN", "MSFT", "NVDA"}),
        ("AAPL,AMZN", "AAPL,AMZN", {"AAPL", "AMZN"}),
    ],
    ids=["different symbols", "same symbols"],
)
def test_two_backfills_of_one_session_on_s3_leave_the_union(
    aws_credentials: None, moto_server: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, first: str, second: str, union: set[str],
) -> None:  # fmt: skip
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake")
    env = {**_local(tmp_path)[0], "MARKETDATA_PROFILE": "aws",
           "MARKETDATA_BUCKET": "lake", "MARKETDATA_TABLE": "latest"}  # fmt: skip
    _interleaved(env, tmp_path, first, second)
    _assert_union(lake_at("s3://lake"), union)
    assert s3.list_objects_v2(Bucket="lake", Prefix="locks/")["KeyCount"] == 0  # released

"""Bounded memory in the server (issue 20, item 7): every cache of the dashboard's reader is
bounded in bytes, each entry sized when kept and the least recently used dropped first, so
500 distinct ranges through the app keep the history cache within its bound, and the process
grows by at most that bound plus the slack the same requests cost when they cache nothing new."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from marketdata_assets.settings import StorageSettings
from marketdata_assets.web import reads
from marketdata_assets.web.app import create_app
from marketdata_assets.web.kept import Kept, footprint
from marketdata_tests.test_history_query import write_lake

pytestmark = pytest.mark.domain

RANGES = 500
BOUND = 48 * 2**10  # the history cache's bound in this test: well under what 500 answers hold
FIRST = date(2020, 1, 1)


def growth(client: TestClient, paths: list[str]) -> tuple[int, int]:
    """(bytes the traced heap grew by while answering `paths`, bytes answered)."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    answered = 0
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        answered += len(answer.content)
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before, answered


def test_five_hundred_distinct_ranges_keep_the_cache_and_the_process_within_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_lake(tmp_path)
    monkeypatch.setattr(reads, "HISTORY_BYTES", BOUND)
    app = create_app(StorageSettings(data_dir=tmp_path))

    def ranges(last: str) -> list[str]:
        return [
            f"/api/bars/AAPL?interval=1d&from={FIRST + timedelta(days=k)}&to={last}"
            for k in range(RANGES)
        ]

    with TestClient(app) as client:
        history = app.state.reader._history
        for path in ranges("2026-11-30")[:20]:  # warm: imports, DuckDB, the session answers
            client.get(path)
        tracemalloc.start()
        try:
            # The slack: what 500 distinct ranges cost when the cache keeps none of them.
            history.capacity = 0
            slack, _ = growth(client, ranges("2026-11-27"))
            history.capacity = BOUND
            grown, answered = growth(client, ranges("2026-11-26"))
        finally:
            tracemalloc.stop()
        held = history.held
    assert answered > 4 * BOUND  # the answers would not fit: the bound is what keeps it small
    assert 0 < held <= BOUND
    assert grown <= BOUND + max(slack, 0) + BOUND // 4, (grown, slack, answered)


def test_every_cache_drops_the_least_recently_used_beyond_its_bytes() -> None:
    kept = Kept(seconds=60, capacity=3 * footprint(b"x" * 1000) + 3 * footprint("k0"))
    for key in ("k0", "k1", "k2"):
        kept.get(key, lambda: b"x" * 1000)
    kept.get("k0", lambda: b"never")  # a hit: k0 is now the most recently used
    kept.get("k3", lambda: b"x" * 1000)
    assert kept.get("k1", lambda: b"recomputed") == b"recomputed"  # k1 was dropped, not k0
    assert kept.held <= kept.capacity
    assert kept.get("huge", lambda: b"y" * 10**6) == b"y" * 10**6  # served, never kept
    assert "huge" not in kept._values and kept.held <= kept.capacity


def test_footprint_counts_a_tables_and_a_frames_buffers_and_containers_items() -> None:
    table = pa.table({"x": list(range(10_000))})
    frame = pd.DataFrame({"s": ["a" * 100] * 1000})
    assert footprint(table) >= 80_000
    assert footprint(frame) >= 100_000
    assert footprint([b"x" * 5000, {"k": "v" * 5000}]) >= 10_000
    assert footprint(reads.READER_BYTES) < 100  # a number is its own size

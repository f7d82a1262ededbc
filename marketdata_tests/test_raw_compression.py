"""Raw JSON Lines are stored gzip-compressed (issue 22): the bytes read back are exactly the
provider's, whatever they are; a rerun stores the same bytes; objects landed before, under the
uncompressed name, are still read, replayed and backfilled with the same verdicts; and the
objects shrink several times over."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdata_assets.execution.tick import run_tick
from marketdata_assets.lake import (
    DATASETS,
    LakeError,
    LocalObjectStore,
    day_keys,
    object_key,
    object_keys,
)
from marketdata_assets.lake.codecs import decode, encode, read_payload, unpacked
from marketdata_assets.providers.stub.quotes import StubProvider
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_assets.tick.views import replay_command
from marketdata_assets.web.minutes import recent_minutes, tick_row

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SESSION = date(2026, 11, 24)
GATED = ("curated", "validated", "quarantine", "reference")


@pytest.mark.domain
@given(body=st.binary(max_size=4096), name=st.sampled_from(["raw", "raw_history"]))
def test_any_bytes_read_back_exactly_and_store_the_same_twice(body: bytes, name: str) -> None:
    stored = encode(name, body)
    assert DATASETS[name].file.endswith(".gz") and stored[:2] == b"\x1f\x8b"
    assert decode(name, stored) == body == gzip.decompress(stored)
    assert encode(name, body) == stored  # no timestamp inside: a rerun's object is identical
    legacy = DATASETS[name].legacy_files[0]
    assert decode(name, body, f"{name}/date=2026-11-25/{legacy}") == body  # even gzip-like bytes


@pytest.mark.domain
@pytest.mark.parametrize(
    "stored",
    [b"", b"{}\n", b"\x1f\x8b\x08\x00garbage", gzip.compress(b"x", mtime=0)[:-3]],
    ids=["empty", "uncompressed", "corrupt", "truncated"],
)
def test_a_raw_object_that_is_no_whole_gzip_stream_is_one_lake_error_naming_it(
    stored: bytes,
) -> None:
    key = object_key("raw", TICK)
    with pytest.raises(LakeError, match=rf"^read {key} failed: not a whole gzip object \(.+\)$"):
        unpacked(key, stored)


@pytest.mark.graph
def test_a_ticks_raw_object_shrinks_and_holds_the_providers_bytes(tmp_path: Path) -> None:
    symbols = tuple(f"S{n:03d}" for n in range(500))
    settings = Settings(data_dir=tmp_path, symbols=symbols, log_level="CRITICAL")
    run_tick(settings, TICK)
    stored = (tmp_path / object_key("raw", TICK)).read_bytes()
    sent = StubProvider(symbols, seed=settings.seed).fetch(TICK)
    assert gzip.decompress(stored) == sent
    assert len(sent) / len(stored) > 5  # measured: 92,336 bytes stored as 8,803 (10.5x)


def _landed_before(lake: LocalObjectStore, tick: datetime, payload: bytes) -> Path:
    """`payload` as a tick landed it before raw was compressed: ticks.jsonl, as sent."""
    key = object_keys("raw", tick)[1]
    lake.put(key, payload)
    path = lake.local_path(key)
    assert path is not None
    return path


@pytest.mark.graph
def test_an_uncompressed_raw_object_landed_before_replays_to_the_same_verdicts(
    tmp_path: Path,
) -> None:
    stub = Settings(data_dir=tmp_path / "now", fault_rate=0.4, log_level="CRITICAL")
    summary = run_tick(stub, TICK)
    assert summary.quarantined > 0
    now = lake_store(stub)
    payload = unpacked(object_key("raw", TICK), now.get(object_key("raw", TICK)))
    old = LocalObjectStore(tmp_path / "old")
    source = _landed_before(old, TICK, payload)
    assert source.name == "ticks.jsonl" and source.read_bytes() == payload

    # the old lake's own readers find its uncompressed object
    assert replay_command(old, TICK).split("--source ")[1].startswith(str(source))
    minutes = recent_minutes(old, 5)
    assert minutes == [(TICK, {"raw": object_keys("raw", TICK)[1]})]
    row = tick_row(old, TICK, minutes[0][1])
    assert row is not None and row["raw"] == summary.raw

    for name, origin in (
        ("old", str(source)),
        ("gz", str(tmp_path / "now" / object_key("raw", TICK))),
    ):
        replay = Settings(
            data_dir=tmp_path / f"replayed-{name}", provider="replay", source=origin,
            log_level="CRITICAL",
        )  # fmt: skip
        again = run_tick(replay, TICK)
        assert (again.validated, again.quarantined) == (summary.validated, summary.quarantined)
        for dataset in GATED:
            key = object_key(dataset, TICK)
            assert lake_store(replay).get(key) == now.get(key), (name, dataset)
        assert lake_store(replay).get(object_key("raw", TICK)) == now.get(object_key("raw", TICK))


@pytest.mark.domain
def test_a_session_raw_history_landed_before_is_still_read(tmp_path: Path) -> None:
    lake = LocalObjectStore(tmp_path)
    payload = b'{"symbol": "AAPL", "payload": {}}\n{"symbol": "NVDA", "error": "HTTP 429"}\n'
    legacy = day_keys("raw_history", SESSION)[1]
    assert legacy.endswith("/part.jsonl")
    assert read_payload(lake, day_keys("raw_history", SESSION)) is None
    lake.put(legacy, payload)
    assert read_payload(lake, day_keys("raw_history", SESSION)) == payload
    # a session landed again under the current name: the current object is the one read
    lake.put(day_keys("raw_history", SESSION)[0], encode("raw_history", payload[:34]))
    assert read_payload(lake, day_keys("raw_history", SESSION)) == payload[:34]

"""When a session is done for a symbol, read from the lake alone (`history.done`): what raw_history
delivered and every later history dataset holds, so a run killed part way is not done."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.history.done import done_symbols
from marketdata_assets.lake import LocalObjectStore, day_key, day_keys
from marketdata_assets.lake.codecs import encode, unpacked

pytestmark = pytest.mark.domain

SESSION = date(2025, 11, 25)


def _raw(*envelopes: dict[str, object]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in envelopes)


def _symbols(*symbols: str) -> bytes:
    """A Parquet object holding rows of `symbols` (the rule reads only the symbol column)."""
    buffer = io.BytesIO()
    pd.DataFrame({"symbol": list(symbols)}).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _lake(tmp_path: Path, **held: tuple[str, ...]) -> LocalObjectStore:
    lake = LocalObjectStore(tmp_path)
    raw = _raw(
        {"symbol": "AAPL", "payload": {}},
        {"symbol": "MSFT", "payload": {}},
        {"symbol": "JUNK", "payload": {}},  # every bar it sent was rejected
        {"symbol": "NVDA", "error": "HTTP 429"},  # the provider failed it
    )
    lake.put(day_key("raw_history", SESSION), encode("raw_history", raw))
    for name, symbols in held.items():
        lake.put(day_key(name, SESSION), _symbols(*symbols))
    return lake


@pytest.mark.parametrize("legacy", [False, True], ids=["gzip", "landed-before-gzip"])
def test_a_symbol_is_done_when_every_stage_holds_it_or_the_gate_rejected_it_all(
    tmp_path: Path, legacy: bool
) -> None:
    lake = _lake(
        tmp_path,
        minute_bars=("AAPL", "MSFT"),
        bars_quarantine=("JUNK", "MSFT"),
        daily_bars=("AAPL", "MSFT"),
        session_analytics=("AAPL", "MSFT"),
    )
    if legacy:  # landed before raw was compressed: part.jsonl, the bytes as sent
        current, earlier = day_keys("raw_history", SESSION)
        lake.put(earlier, unpacked(current, lake.get(current)))
        (tmp_path / current).unlink()
    assert done_symbols(lake, SESSION) == {"AAPL", "MSFT", "JUNK"}  # NVDA failed: fetch again


@pytest.mark.parametrize("missing", ["minute_bars", "bars_quarantine", "daily_bars",
                                     "session_analytics"])  # fmt: skip
def test_a_session_whose_run_stopped_before_a_stage_has_nothing_done(
    tmp_path: Path, missing: str
) -> None:
    stages = {
        "minute_bars": ("AAPL", "MSFT"),
        "bars_quarantine": ("JUNK",),
        "daily_bars": ("AAPL", "MSFT"),
        "session_analytics": ("AAPL", "MSFT"),
    }
    del stages[missing]
    assert done_symbols(_lake(tmp_path, **stages), SESSION) == set()


def test_a_symbol_a_later_stage_lacks_is_not_done(tmp_path: Path) -> None:
    # A rerun that added MSFT stopped after the gate: the older daily objects lack MSFT.
    lake = _lake(
        tmp_path,
        minute_bars=("AAPL", "MSFT"),
        bars_quarantine=("JUNK",),
        daily_bars=("AAPL",),
        session_analytics=("AAPL",),
    )
    assert done_symbols(lake, SESSION) == {"AAPL", "JUNK"}


def test_a_session_without_raw_history_has_nothing_done(tmp_path: Path) -> None:
    assert done_symbols(LocalObjectStore(tmp_path), SESSION) == set()

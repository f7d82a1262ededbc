from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketdata_assets.settings import Settings

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)


@pytest.fixture
def tick() -> datetime:
    return TICK


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def line(**fields: object) -> str:
    """A JSON Lines record (helper for building payloads)."""
    import json

    return json.dumps(fields)


def good(symbol: str = "AAPL", price: object = 100.0, **overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "symbol": symbol,
        "price": price,
        "volume": 10,
        "currency": "USD",
        "event_ts": "2026-11-25T14:31:05Z",
    }
    record.update(overrides)
    return record
